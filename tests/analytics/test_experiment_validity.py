"""The experiment statistics are valid, shown by simulation (vectorized: thousands of experiments per second):
A/A tests reject at alpha, the planned size gives the planned power, daily peeking with the sequential p-value
keeps the false-positive rate under alpha (and without it does not), and a 52/48 split of a planned 50/50 is
flagged."""

import numpy as np
import pytest

from niaga.analytics.experiment import simulate
from niaga.analytics.experiment.analysis import benjamini_hochberg, cuped, ratio_lift, srm_p_value
from niaga.analytics.experiment.design import power_at, users_per_arm
from niaga.errors import DataError


def test_a_thousand_aa_experiments_reject_at_five_percent():
    assert 0.035 <= simulate.false_positive_rate(experiments=1000, users=20_000, rate=0.05, seed=1) <= 0.065
    assert 0.035 <= simulate.false_positive_rate(experiments=1000, users=2_000, rate=0.2, seed=2) <= 0.065


def test_the_planned_size_gives_the_planned_power():
    plan = users_per_arm(baseline=0.05, mde=0.1, alpha=0.05, power=0.8)
    assert 30_000 < plan.users_per_arm < 40_000  # the textbook two-proportion figure is 31,234
    assert power_at(plan.users_per_arm, 0.05, 0.1) == pytest.approx(0.8, abs=0.001)
    assert 0.75 <= simulate.power(plan.users_per_arm, 0.05, 0.1, experiments=1000, seed=3) <= 0.85
    smaller = users_per_arm(baseline=0.05, mde=0.1, power=0.8).users_per_arm // 4
    assert simulate.power(smaller, 0.05, 0.1, seed=3) < 0.4  # a quarter of the size: far from enough


def test_daily_peeking_with_the_sequential_p_value_keeps_false_positives_under_alpha():
    looks = simulate.peeking(experiments=1000, users_per_day=1000, days=28, rate=0.05, seed=4)
    assert looks["sequential_p_any_look"] <= 0.05
    assert looks["fixed_p_any_look"] > 0.15  # the reason it exists: peeking at the plain p-value is invalid
    found = simulate.peeking(experiments=400, users_per_day=1300, days=28, rate=0.05, lift=0.1, seed=5)
    assert found["sequential_p_any_look"] > 0.3  # and it still finds real effects


def test_a_52_48_split_of_a_planned_50_50_is_flagged():
    assert simulate.srm_flag_rate(20_000, planned_share=0.5, actual_share=0.52, experiments=500) >= 0.95
    assert simulate.srm_flag_rate(20_000, planned_share=0.5, actual_share=0.5, experiments=500) <= 0.01
    assert srm_p_value([5200, 4800]) < 0.001
    assert srm_p_value([9000, 1000], [0.9, 0.1]) == pytest.approx(1.0)


def test_lift_interval_and_p_value_agree():
    test = ratio_lift(10_000, 0.05, 0.05 * 0.95, 10_000, 0.06, 0.06 * 0.94)
    assert test["lift"] == pytest.approx(0.2)
    assert test["ci_low"] > 0 and test["p_value"] < 0.05
    no_variance = ratio_lift(100, 0.0, 0.0, 100, 0.0, 0.0)
    assert np.isnan(no_variance["p_value"])  # 0 of 100 in both arms: nothing to say, not "p = 1"


def test_benjamini_hochberg_matches_the_textbook_example():
    p = [0.01, 0.04, 0.03, 0.005, np.nan]
    assert np.allclose(benjamini_hochberg(p)[:4], [0.02, 0.04, 0.04, 0.02])
    assert np.isnan(benjamini_hochberg(p)[4])


def test_cuped_removes_the_variance_the_covariate_explains():
    rng = np.random.default_rng(0)
    x = rng.normal(10, 2, 4000)
    y = x + rng.normal(0, 1, 4000)
    arm = np.arange(4000) % 2
    sums = [[f(v[arm == a]) for a in (0, 1)] for v, f in
            ((y, len), (y, np.sum), (y * y, np.sum), (x, np.sum), (x * x, np.sum), (x * y, np.sum))]
    fitted = cuped(*map(np.array, sums))
    assert fitted["variance_reduction"] == pytest.approx(0.8, abs=0.05)  # var(x) / var(y) = 4 / 5
    assert fitted["theta"] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("kwargs,field", [({"baseline": 1.5, "mde": 0.1}, "--baseline"),
                                          ({"baseline": 0.05, "mde": 0}, "--mde"),
                                          ({"baseline": 0.05, "mde": 0.1, "power": 1.2}, "--power")])
def test_plan_refuses_impossible_inputs_naming_the_option(kwargs, field):
    with pytest.raises(DataError, match=field):
        users_per_arm(**kwargs)
