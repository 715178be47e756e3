"""GET /api/v1/forecast/items/{item}[/whatif] on a demand model registered like the main job registers it."""

import pytest

from niaga.config import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory, make_log):
    from fastapi.testclient import TestClient

    from niaga.analytics.forecast import pipeline
    from niaga.serve.app import create_app
    from niaga.store import Store

    root = tmp_path_factory.mktemp("forecast-api")
    lines, _ = pipeline.demand_lines(make_log())
    pipeline.train(pipeline.build_panel(lines, "W"), root / "forecast", horizon=4, kind="moving_average")
    settings = Settings(store=root / "niaga.duckdb", models=root, require_api_key=False)
    with Store(settings.store) as store:
        store.register_model("forecast", "orders", root / "forecast")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_item_forecast_and_whatif(client):
    body = client.get("/api/v1/forecast/items/A", params={"horizon": 3}).json()
    assert body["item"] == "A" and body["model"] == "moving_average" and body["freq"] == "W"
    assert [p["period"] for p in body["periods"]] == ["2023-07-31", "2023-08-07", "2023-08-14"]
    assert all(p["lo_80"] <= p["forecast"] <= p["hi_80"] for p in body["periods"])
    assert client.get("/api/v1/forecast/items/A/whatif", params={"price": 4}).json()["answer"] == "unknown"
    b = client.get("/api/v1/forecast/items/B/whatif", params={"price": 9}).json()
    assert b["answer"] == "estimate" and b["demand_low"] <= b["demand"] <= b["demand_high"]


def test_unknown_item_and_bad_input(client):
    assert client.get("/api/v1/forecast/items/nope").status_code == 404
    assert client.get("/api/v1/forecast/items/A", params={"horizon": 0}).status_code == 422
    assert client.get("/api/v1/forecast/items/B/whatif", params={"price": -1}).status_code == 422
