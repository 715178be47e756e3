"""Validity by simulation: thousands of conversion experiments drawn at once (binomial counts per arm and day)
and judged by the same functions ``analyze`` uses. The tests assert the figures; the benchmark reports them.

- ``false_positive_rate``: A/A tests (no true lift): the share rejected at alpha should be alpha.
- ``power``: A/B tests with the planned lift at the planned size: the share rejected should be the power.
- ``peeking``: an A/A test looked at every day, stopped at the first p under alpha: the fixed-horizon p-value
  then rejects far too often; the sequential p-value must stay under alpha.
- ``srm_flag_rate``: the share of experiments whose users per arm the SRM check flags.

``users_table`` draws one synthetic experiment as the per-user table ``analyze`` reads (for trying the
commands, and for the documentation's examples).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from niaga.analytics.experiment.analysis import SRM_ALPHA, ratio_lift, sequential_p_value, srm_p_value


def _rates(conversions: np.ndarray, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = conversions / users
    return mean, mean * (1 - mean) * users / np.maximum(users - 1, 1)  # sample variance of 0/1 outcomes


def _lift_test(rng, experiments: int, users: int, rate: float, lift: float, alpha: float) -> np.ndarray:
    control = rng.binomial(users, rate, experiments)
    treated = rng.binomial(users, rate * (1 + lift), experiments)
    mean_c, var_c = _rates(control, np.full(experiments, users))
    mean_t, var_t = _rates(treated, np.full(experiments, users))
    return ratio_lift(users, mean_c, var_c, users, mean_t, var_t, alpha)["p_value"]


def false_positive_rate(experiments: int = 1000, users: int = 20_000, rate: float = 0.05, alpha: float = 0.05,
                        seed: int = 0) -> float:
    p = _lift_test(np.random.default_rng(seed), experiments, users, rate, 0.0, alpha)
    return float(np.mean(p < alpha))


def power(users: int, rate: float, lift: float, experiments: int = 1000, alpha: float = 0.05, seed: int = 0) -> float:
    p = _lift_test(np.random.default_rng(seed), experiments, users, rate, lift, alpha)
    return float(np.mean(p < alpha))


def peeking(experiments: int = 1000, users_per_day: int = 1000, days: int = 28, rate: float = 0.05,
            lift: float = 0.0, alpha: float = 0.05, seed: int = 0) -> dict[str, float]:
    """Rejection rates when looking every day: with the fixed-horizon p-value, with the sequential p-value
    (tuned to the planned size, the last day's), and with the fixed-horizon p-value looked at once at the end."""
    rng = np.random.default_rng(seed)
    daily_c = rng.binomial(users_per_day, rate, (experiments, days))
    daily_t = rng.binomial(users_per_day, rate * (1 + lift), (experiments, days))
    users = users_per_day * np.arange(1, days + 1)[None, :].repeat(experiments, 0)
    mean_c, var_c = _rates(daily_c.cumsum(1), users)
    mean_t, var_t = _rates(daily_t.cumsum(1), users)
    test = ratio_lift(users, mean_c, var_c, users, mean_t, var_t, alpha)
    sequential = sequential_p_value(test["lift"], test["se"], users, users, users_per_day * days, alpha)
    sequential = np.where(np.isnan(sequential), 1.0, sequential)
    fixed = np.where(np.isnan(test["p_value"]), 1.0, test["p_value"])
    return {"fixed_p_any_look": float(np.mean((fixed < alpha).any(1))),
            "sequential_p_any_look": float(np.mean((sequential < alpha).any(1))),
            "fixed_p_final_look": float(np.mean(fixed[:, -1] < alpha))}


def srm_flag_rate(users: int, planned_share: float = 0.5, actual_share: float = 0.5, experiments: int = 1000,
                  seed: int = 0) -> float:
    """Share of experiments of ``users`` users, assigned to control with ``actual_share`` while
    ``planned_share`` was planned, that the SRM check flags (p < ``SRM_ALPHA``)."""
    rng = np.random.default_rng(seed)
    control = rng.binomial(users, actual_share, experiments)
    shares = np.array([planned_share, 1 - planned_share])
    flags = [srm_p_value([c, users - c], shares) < SRM_ALPHA for c in control]
    return float(np.mean(flags))


def users_table(users: int = 20_000, rate: float = 0.05, lift: float = 0.1, treated_share: float = 0.5,
                experiment: str = "checkout-button", seed: int = 0) -> pd.DataFrame:
    """One experiment's users: ``variant`` (control / treatment), ``converted`` (0/1), ``revenue`` (the order's
    value when converted, in rupiah) and ``pre_revenue`` (the user's spend in the month before: CUPED's
    covariate), with a relative lift ``lift`` on conversion for the treated share of users."""
    rng = np.random.default_rng(seed)
    treated = rng.random(users) < treated_share
    pre = np.round(rng.gamma(1.5, 120_000, users), -3)
    propensity = rate * (0.5 + pre / pre.mean() * 0.5)  # who spent before buys more now: what CUPED uses
    converted = rng.random(users) < np.minimum(propensity * np.where(treated, 1 + lift, 1.0), 1.0)
    revenue = np.where(converted, np.round(rng.gamma(2.0, 75_000, users) + 0.3 * pre, -3), 0.0)
    return pd.DataFrame({"experiment": experiment, "user": [f"u{i:06d}" for i in range(users)],
                         "variant": np.where(treated, "treatment", "control"), "converted": converted.astype(int),
                         "revenue": revenue, "pre_revenue": pre})
