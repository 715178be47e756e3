"""niaga forecast on small synthetic logs: cleaning, periods, forecasts with intervals, reorder, what-if, CLI."""

import json

import numpy as np
import pandas as pd
import pytest

from niaga.analytics.forecast import pipeline
from niaga.analytics.forecast.calendar import calendar_features, day_flags
from niaga.analytics.forecast.global_lgbm import GlobalLGBMForecaster
from niaga.analytics.forecast.statistical import StatisticalForecaster
from niaga.cli import main
from niaga.errors import DataError


@pytest.fixture(scope="module")
def log_file(tmp_path_factory, make_log):
    path = tmp_path_factory.mktemp("forecast") / "orders.csv"
    make_log().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(log_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "forecast"
    assert main(["forecast", "train", "--data", str(log_file), "--out", str(out), "--freq", "W", "--horizon", "4",
                 "--kind", "moving_average"]) == 0
    return out


def test_cleaning_and_weekly_panel(make_log):
    lines, counts = pipeline.demand_lines(make_log())
    assert counts == {"cancellation (invoice starting with C)": 1, "return (zero or negative quantity)": 1,
                      "exact duplicate line": 1}
    panel = pipeline.build_panel(lines, "W")
    assert list(panel.items) == ["A", "B", "C"]
    assert all(p.weekday() == 0 for p in panel.periods)  # weeks start on Monday
    # the log ends on a Friday: that partial week is left out and the forecast starts the Monday after
    assert panel.gap == 1 and panel.periods[-1] == pd.Timestamp("2023-07-17")
    assert panel.quantity[0, 0] == lines[(lines["item"] == "A") & (lines["date"] < "2023-01-09")]["quantity"].sum()


def test_cli_names_every_forecaster():
    from niaga.analytics.forecast import cli
    from niaga.analytics.forecast.model import CANDIDATES

    assert cli.CANDIDATES == CANDIDATES


def test_missing_item_column_is_named(make_log):
    with pytest.raises(DataError, match="item"):
        pipeline.demand_lines(make_log().drop(columns=["StockCode"]))


def test_predict_cli_periods_and_intervals(trained, tmp_path):
    output = tmp_path / "forecast.csv"
    assert main(["forecast", "predict", "--model", str(trained), "--output", str(output)]) == 0
    frame = pd.read_csv(output)
    assert list(frame.columns) == ["item", "period", "forecast", "lo_80", "hi_80", "lo_95", "hi_95"]
    assert len(frame) == 3 * 4
    # the log's last day is Friday 2023-07-28: the first period is the week starting Monday 2023-07-31
    assert sorted(frame["period"].unique())[:2] == ["2023-07-31", "2023-08-07"]
    assert (frame["lo_95"] <= frame["lo_80"]).all() and (frame["lo_80"] <= frame["forecast"]).all()
    assert (frame["forecast"] <= frame["hi_80"]).all() and (frame["hi_80"] <= frame["hi_95"]).all()
    a = frame[frame["item"] == "A"]["forecast"]
    assert 7 * 20 < a.mean() < 7 * 35  # about 20 a day plus 10 on two days of the week
    items = tmp_path / "items.csv"
    pd.DataFrame({"sku": ["B", "nope"]}).to_csv(items, index=False)
    assert main(["forecast", "predict", "--model", str(trained), "--input", str(items), "--output", str(output)]) == 0
    assert set(pd.read_csv(output)["item"]) == {"B"}


def test_global_model_beats_moving_average_on_a_calendar_pattern():
    """Demand that doubles in the week of each 25th..1st payday run: the calendar feature lets the global model
    see it coming, a moving average cannot."""
    rng = np.random.default_rng(1)
    periods = pd.date_range("2022-01-03", periods=70, freq="W-MON")
    payday = calendar_features(periods, "W")["payday"].to_numpy()
    items = np.array([f"i{k}" for k in range(12)])
    level = rng.uniform(5, 50, size=12)[:, None]
    quantity = rng.poisson(level * (1 + 3 * payday)[None, :]).astype(float)
    panel = pipeline.DemandPanel(items, periods, quantity, np.full_like(quantity, 3.0), "W", periods[-1])
    early, actual = panel.head(62), quantity[:, 62:]
    errors = {}
    for model in (GlobalLGBMForecaster(horizon=8, n_estimators=80, min_child_samples=10, calibrate=False),
                  StatisticalForecaster(kind="moving_average", horizon=8, calibrate=False)):
        model.fit(early)
        errors[model.name] = np.abs(model.predict(8)[0] - actual).mean()
    assert errors["lgbm"] < 0.7 * errors["moving_average"]


def test_calendar_flags():
    flags = day_flags(pd.date_range("2024-04-01", "2024-04-20"))
    assert flags.loc["2024-04-09", "pre_lebaran"] and not flags.loc["2024-04-10", "pre_lebaran"]
    assert flags.loc["2024-04-10", "post_lebaran"] and flags.loc["2024-04-09", "ramadan"]
    week = calendar_features(pd.DatetimeIndex(["2024-11-11"]), "W").iloc[0]
    assert week["harbolnas"] == pytest.approx(1 / 7)
    assert week["payday"] == 0
    assert calendar_features(pd.DatetimeIndex(["2024-11-25"]), "W").iloc[0]["payday"] == pytest.approx(1)


def test_reorder_keeps_rows_and_orders_when_low(trained, tmp_path):
    stock = tmp_path / "stock.csv"
    pd.DataFrame({"item": ["A", "B", "ZZZ"], "stock": [0, 10_000, 5], "warehouse": ["jkt", "sby", "jkt"]}).to_csv(
        stock, index=False)
    output = tmp_path / "reorder.csv"
    assert main(["forecast", "reorder", "--model", str(trained), "--stock", str(stock), "--lead-time", "14",
                 "--service", "0.95", "--output", str(output)]) == 0
    plan = pd.read_csv(output)
    assert list(plan["warehouse"]) == ["jkt", "sby", "jkt"]
    assert bool(plan.loc[0, "reorder"]) and plan.loc[0, "order_quantity"] >= plan.loc[0, "reorder_point"]
    assert not bool(plan.loc[1, "reorder"]) and plan.loc[1, "order_quantity"] == 0
    assert "not in the model" in plan.loc[2, "note"]
    model = pipeline.load_model(trained)
    frame = pd.DataFrame({"item": ["A"], "stock": [0]})
    low, high = (pipeline.reorder(model, frame, 14, s)["reorder_point"].iloc[0] for s in (0.8, 0.99))
    assert high > low


def test_whatif_unknown_when_price_never_varied(trained, capsys):
    assert main(["forecast", "whatif", "--model", str(trained), "--item", "A", "--price", "4"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == "unknown"
    answer = pipeline.whatif(pipeline.load_model(trained), "B", 9.0)
    assert answer["answer"] == "estimate" and answer["elasticity_source"] == "item"
    assert answer["elasticity_low"] <= -2 <= answer["elasticity_high"]
    assert answer["elasticity"] == pytest.approx(-2, abs=0.4)
    assert answer["revenue"] == pytest.approx(answer["demand"] * 9.0, rel=1e-3)


def test_evaluate_cli_reports_every_model(log_file, tmp_path):
    report = tmp_path / "eval"
    assert main(["forecast", "evaluate", "--data", str(log_file), "--horizon", "4", "--report", str(report),
                 "--origins", "2", "--models", "moving_average,croston,ets,seasonal_naive"]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert set(metrics["models"]) == {"moving_average", "croston", "ets", "seasonal_naive", "auto"}
    for row in metrics["models"].values():
        assert row["mase"] > 0 and 0 <= row["coverage_80"] <= 1
    assert (report / "report.md").exists() and (report / "mase.png").exists()


def test_blend_of_fitted_members_equals_a_blend_fitted_alone(make_log):
    from niaga.analytics.forecast.blend import BlendForecaster
    from niaga.analytics.forecast.model import fit_forecasters

    panel = pipeline.build_panel(pipeline.demand_lines(make_log())[0], "W")
    reused = fit_forecasters(panel, ["lgbm_ets", "lgbm", "ets"], 4)["lgbm_ets"]
    alone = BlendForecaster(horizon=4).fit(panel)
    for a, b in zip(reused.predict(4), alone.predict(4)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert reused.holdout_mase_ == pytest.approx(alone.holdout_mase_)


def test_demand_model_saves_as_data_and_loads_to_the_same_forecast(make_log, tmp_path):
    import skops.io as sio

    from niaga.modeling import SKOPS_FILE

    panel = pipeline.build_panel(pipeline.demand_lines(make_log())[0], "W")
    model = pipeline.train(panel, tmp_path / "m", horizon=4, kind="lgbm_ets")
    files = [p for p in (tmp_path / "m").iterdir() if p.name != "model.json"]
    assert {p.suffix for p in files} == {".skops"}
    untrusted = sio.get_untrusted_types(file=tmp_path / "m" / SKOPS_FILE)
    assert all(t.startswith(("niaga.", "numpy.", "builtins.", "sklearn.")) for t in untrusted), untrusted
    loaded = pipeline.load_model(tmp_path / "m")
    pd.testing.assert_frame_equal(pipeline.predict(loaded), pipeline.predict(model))
    longer = pipeline.predict(loaded, horizon=6)  # past the saved horizon: the forecaster runs again
    assert len(longer) == 3 * 6 and longer["forecast"].notna().all()
