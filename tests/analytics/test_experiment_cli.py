"""``niaga experiment plan / assign / analyze`` as a user runs them, on small synthetic tables."""

import numpy as np
import pandas as pd
import pytest

from niaga.analytics.experiment.analysis import ratio_lift
from niaga.analytics.experiment.assignment import Split, assign, assign_many
from niaga.analytics.experiment.pipeline import analyze
from niaga.cli import main
from niaga.errors import DataError

COLUMNS = ["experiment", "metric", "variant", "users", "rate", "lift", "ci_low", "ci_high", "p_value", "srm_p_value"]


def users(n=4000, lift=0.3, seed=0, experiment="banner"):
    rng = np.random.default_rng(seed)
    variant = np.where(np.arange(n) % 2 == 0, "control", "treatment")
    pre = rng.gamma(2.0, 50.0, n)
    rate = np.where(variant == "treatment", 0.1 * (1 + lift), 0.1)
    converted = rng.random(n) < rate
    revenue = 0.5 * pre + rng.normal(0, 10, n) + 20 * converted  # spend before the test predicts spend in it
    return pd.DataFrame({"experiment": experiment, "user": [f"u{i}" for i in range(n)], "variant": variant,
                         "converted": converted.astype(int), "revenue": revenue, "pre_revenue": pre,
                         "city": np.where(np.arange(n) % 3 == 0, "Jakarta", "Surabaya")})


def test_sticky_assignment_is_deterministic_and_follows_the_split():
    assert assign("reco", "12347") == assign("reco", "12347")
    arms = assign_many("reco", range(20_000), Split(("a", "b", "c"), (80, 10, 10)))
    shares = pd.Series(arms).value_counts(normalize=True)
    assert shares["a"] == pytest.approx(0.8, abs=0.015) and shares["c"] == pytest.approx(0.1, abs=0.01)
    other = assign_many("other", range(20_000), Split(("a", "b", "c"), (80, 10, 10)))
    assert 0.6 < np.mean(arms == other) < 0.75  # experiments split independently (0.66 expected), not the same way
    assert list(assign_many("reco", ["1", "2"])) == [assign("reco", "1"), assign("reco", "2")]
    with pytest.raises(DataError, match="split"):
        Split.parse("a,b", "1,x")


def test_analyze_writes_one_row_per_metric_and_arm_matching_the_direct_test():
    frame = users()
    result = analyze(frame)
    assert list(result.columns[:10]) == COLUMNS
    assert sorted(result["metric"]) == ["converted", "revenue"]  # pre_revenue is the covariate, not a metric
    row = result.set_index("metric").loc["converted"]
    c, t = (frame.loc[frame["variant"] == arm, "converted"] for arm in ("control", "treatment"))
    direct = ratio_lift(len(c), c.mean(), c.var(), len(t), t.mean(), t.var())
    assert row["lift"] == pytest.approx(float(direct["lift"])) and row["p_value"] == pytest.approx(float(direct["p_value"]))
    assert row["ci_low"] < row["lift"] < row["ci_high"] and row["p_value"] < 0.05
    assert row["srm_p_value"] == pytest.approx(1.0)
    revenue = result.set_index("metric").loc["revenue"]
    assert revenue["cuped_covariate"] == "pre_revenue" and revenue["variance_reduction"] > 0.2


def test_segments_are_adjusted_together_and_a_user_in_two_arms_is_left_out():
    frame = pd.concat([users(), users(600, lift=0, seed=2, experiment="voucher")], ignore_index=True)
    frame.loc[len(frame)] = {**frame.iloc[1].to_dict(), "variant": "control"}  # u1 of banner also in control
    notes = []
    result = analyze(frame, metrics=["converted"], segment="city", log=notes.append)
    assert set(result["segment"]) == {"all", "Jakarta", "Surabaya"}
    assert len(result) == 6 and any("more than one arm" in n for n in notes)
    assert result[result["experiment"] == "banner"]["users"].sum() == 1999 * 2  # all, and split by city
    assert (result["p_value_adjusted"] >= result["p_value"] - 1e-12).all()


def test_a_pre_period_column_is_found_by_its_name():
    frame = users(2000).rename(columns={"pre_revenue": "revenue_before_test", "variant": "variation"})
    result = analyze(frame).set_index("metric")
    assert list(result.index) == ["converted", "revenue"]  # the pre-period column is no metric
    assert result.loc["revenue", "cuped_covariate"] == "revenue_before_test"
    assert result.loc["converted", "cuped_covariate"] == ""  # it names another metric
    single = users(2000).rename(columns={"pre_revenue": "spend_pre_period"})
    assert set(analyze(single)["cuped_covariate"]) == {"spend_pre_period"}  # names no metric: for every one


def test_rows_without_an_arm_are_left_out_and_said():
    frame = users(400)
    frame.loc[[5, 7], "variant"] = None
    notes = []
    result = analyze(frame, metrics=["converted"], log=notes.append)
    assert result["users"].iloc[0] + result["control_users"].iloc[0] == 398
    assert any("2 rows without an experiment, user or variant" in n and "row 7" in n for n in notes)


def test_control_is_named_and_a_missing_control_is_a_clear_error():
    frame = users().replace({"variant": {"control": "lama"}})
    with pytest.raises(DataError, match="no arm named 'control'.*--control"):
        analyze(frame)
    assert analyze(frame, control="lama")["variant"].unique().tolist() == ["treatment"]
    one = users(400).drop(columns="experiment").rename(columns={"User": "user", "variant": "Variant"})
    one["Variant"] = one["Variant"].replace({"control": "Control"})
    result = analyze(one, source="banner.csv")  # one experiment, unnamed, its control capitalised
    assert set(result["experiment"]) == {"banner"} and set(result["variant"]) == {"treatment"}


def test_an_event_log_becomes_users_with_clicked_converted_and_revenue():
    events = pd.DataFrame({"user_id": ["a", "a", "b", "c", "d", "d"], "experiment": "reco",
                           "variant": ["control", "control", "control", "treatment", "treatment", "treatment"],
                           "event": ["shown", "click", "shown", "shown", "click", "purchase"],
                           "value": [None, None, None, None, None, 150_000]})
    result = analyze(events).set_index("metric")
    assert result.loc["clicked", "rate"] == 0.5 and result.loc["clicked", "control_rate"] == 0.5
    assert result.loc["revenue", "rate"] == 75_000


def test_cli_plan_and_analyze(tmp_path, capsys):
    assert main(["experiment", "plan", "--baseline", "0.05", "--mde", "0.1"]) == 0
    out = capsys.readouterr()
    assert 30_000 < int(out.out.strip()) < 40_000 and "users per arm" in out.err
    assert main(["experiment", "plan", "--baseline", "0.05", "--mde", "0.1", "--alpha", "0.01", "--power", "0.9"]) == 0
    assert int(capsys.readouterr().out) > 60_000
    data = tmp_path / "users.csv"
    frame = users()
    frame.to_csv(data, index=False)
    output = tmp_path / "results.csv"
    assert main(["experiment", "analyze", "--data", str(data), "--output", str(output), "--report",
                 str(tmp_path / "report")]) == 0
    written = pd.read_csv(output)
    assert list(written.columns[:10]) == COLUMNS and len(written) == 2
    assert "significant" in (tmp_path / "report" / "report.md").read_text()
    assert (tmp_path / "report" / "lifts.png").stat().st_size > 1000
    frame["converted"] = frame["converted"].astype(object)
    frame.loc[3, "converted"] = "ya"
    frame.to_csv(data, index=False)
    assert main(["experiment", "analyze", "--data", str(data), "--output", str(output)]) == 2
    assert "row 5, column 'converted'" in capsys.readouterr().err
    skewed = users(10_000)
    skewed.loc[skewed.index[:400], "variant"] = "control"  # 52 / 48
    skewed.to_csv(data, index=False)
    assert main(["experiment", "analyze", "--data", str(data), "--output", str(output), "--split",
                 "control=50,treatment=50"]) == 0
    assert pd.read_csv(output)["srm"].all()
