"""The overview's panels without a server: the forecast panel goes through the forecast pipeline only when a
forecast model is registered, and says what to run otherwise; a model's key figure is a metric, not a count."""

from pathlib import Path

import pandas as pd

from niaga.serve import overview_panels
from niaga.serve.overview_panels import FORECAST_HINT, FORECAST_MODEL, forecast, key_figure
from niaga.serve.services import NotServed


class FakeServices:
    def __init__(self, registered: bool):
        self.registered_ = registered
        self.loaded = []

    def path(self, capability, name):
        if not self.registered_:
            raise NotServed(f"no {capability} model '{name}' is registered")
        return Path("runs/forecast")

    def model(self, capability, name, load):
        self.loaded.append((capability, name))
        return load(self.path(capability, name))


def fake_pipeline(monkeypatch, loaded: list):
    periods = pd.date_range("2026-12-07", periods=3, freq="W-MON").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"item": ["A"] * 3 + ["B"] * 3, "period": list(periods) * 2,
                          "forecast": [10, 12, 11, 3, 2, 4.0]})
    frame = frame.assign(lo_80=frame["forecast"] - 2, hi_80=frame["forecast"] + 2, lo_95=frame["forecast"] - 4,
                         hi_95=frame["forecast"] + 4)
    monkeypatch.setattr(overview_panels.forecast_router, "model",
                        lambda services: loaded.append(services.path(*FORECAST_MODEL)) or "model")
    monkeypatch.setattr(overview_panels.forecast_pipeline, "top_forecasts", lambda model, n, horizon: frame)


def test_the_forecast_panel_says_what_to_run_without_a_model():
    panel = forecast(FakeServices(registered=False))
    assert panel.chart is None and panel.note == FORECAST_HINT and "niaga forecast train" in panel.note


def test_the_forecast_panel_charts_the_top_items_through_the_pipeline(monkeypatch):
    loaded = []
    fake_pipeline(monkeypatch, loaded)
    panel = forecast(FakeServices(registered=True))
    assert loaded == [Path("runs/forecast")] and FORECAST_MODEL == ("forecast", "orders")
    assert [r["item"] for r in panel.rows] == ["A", "B"] and panel.rows[0]["forecast"] == 33
    assert panel.rows[0]["lo_80"] == 27 and '"name":"A"' in panel.chart.replace(" ", "")


def test_key_figure_is_a_metric_not_a_count():
    assert key_figure({"users": 30, "held_out": {"roc_auc": 0.91, "f1_macro": 0.7}}) == "held_out.f1_macro 0.7"
    assert key_figure({"users": 30, "training_rows": 24}) == ""


def test_categories_are_charted_only_when_most_revenue_has_one():
    from niaga.analytics.overview import Overview

    sales = pd.DataFrame({"period": ["2011-11-07", "2011-11-14"], "gmv": [600.0, 400.0], "orders": [6, 4],
                          "new_customers": [1, 1], "returning_customers": [2, 2]})
    covered = Overview(None, None, "week", sales=sales,
                       top_categories=pd.DataFrame({"category": ["Kitchen", "Toys"], "revenue": [500.0, 300.0]}))
    assert "80% of revenue has a category" in overview_panels.charts(covered)["categories"]
    # orders and catalogue from different sources: a few ids match by chance, so no chart of them
    stray = Overview(None, None, "week", sales=sales,
                     top_categories=pd.DataFrame({"category": ["Apparel"], "revenue": [90.0]}))
    assert "categories" not in overview_panels.charts(stray)
    assert "categories" not in overview_panels.charts(Overview(None, None, "week"))
