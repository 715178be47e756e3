"""The events the running system logs: migration 2 adds the tracking columns to an existing store, a batch keeps
its good events and quarantines the bad ones, and the rates per source and arm count what happened."""

import datetime as dt

import pytest

from niaga.store import Store
from niaga.store import schema
from niaga.store.tracking import append_events, experiment_events, rates_by_arm, rates_by_source, shown_events


def test_migration_2_adds_the_tracking_columns_to_a_store_of_version_1(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as patch:
        patch.setattr("niaga.store.warehouse.MIGRATIONS", schema.MIGRATIONS[:1])
        with Store(path) as store:
            store.db.execute("ALTER TABLE events DROP COLUMN request_id")  # as version 1 created it
            store.db.execute("INSERT INTO events (user_id, item_id, event) VALUES ('u1', 'i1', 'view')")
            assert store.version == 1
    with Store(path) as store:
        assert store.version == len(schema.MIGRATIONS) >= 2
        columns = {row[0] for row in store.db.execute("DESCRIBE events").fetchall()}
        assert {"request_id", "source", "experiment", "variant", "position", "value"} <= columns
        assert store.db.execute("SELECT count(*) FROM events").fetchall()[0][0] == 1  # nothing lost


@pytest.fixture()
def store(tmp_path):
    with Store(tmp_path / "niaga.duckdb") as opened:
        yield opened


def test_a_batch_keeps_good_events_and_quarantines_bad_ones(store):
    stored, problems = append_events(store, [
        {"event": "Click", "user_id": "u1", "item_id": "a", "request_id": "r1"},
        {"event": "order", "customer_id": "u1", "product_id": "a", "value": 50_000, "coupon": "HEMAT"},
        {"event": "order", "user_id": "u1", "item_id": "a", "value": -1},
        {"event": "like", "user_id": "u1", "item_id": "a"},
        {"event": "shown", "item_id": "a"}])
    assert stored == 2
    assert [(p["row"], p["field"]) for p in problems] == [(3, "value"), (4, "event"), (5, "user_id")]
    kept = store.db.execute("SELECT event, user_id, extra FROM events ORDER BY source_row").fetchall()
    assert kept[0][0] == "click" and kept[1][1] == "u1" and "HEMAT" in kept[1][2]  # aliases read, extras kept
    lines = store.db.execute("SELECT source_row, field FROM quarantine ORDER BY source_row").fetchall()
    assert lines == [(3, "value"), (4, "event"), (5, "user_id")]


def test_rates_per_source_and_arm(store):
    start = dt.datetime(2026, 12, 1, 10)
    append_events(store, shown_events("r1", "u1", ["a", "b"], ["als", "popularity"], "reco", "control", start)
                  + shown_events("r2", "u2", ["a", "c"], ["als", "popularity"], "reco", "treatment", start))
    append_events(store, [
        {"event": "click", "user_id": "u1", "item_id": "a", "request_id": "r1", "timestamp": "2026-12-01 10:01"},
        {"event": "click", "user_id": "u1", "item_id": "a", "request_id": "r1", "timestamp": "2026-12-01 10:02"},
        {"event": "order", "user_id": "u2", "item_id": "c", "request_id": "r2", "value": 1000,
         "timestamp": "2026-12-01 11:00"},
        {"event": "order", "user_id": "u1", "item_id": "z", "value": 10, "timestamp": "2026-11-30"}])  # before
    by_source = rates_by_source(store).set_index("source")
    assert by_source.loc["als", "ctr"] == 0.5 and by_source.loc["als", "clicks"] == 1  # a double click is one
    assert by_source.loc["popularity", "conversion"] == 0.5 and by_source.loc["popularity", "order_value"] == 1000
    by_arm = rates_by_arm(store).set_index("variant")
    assert by_arm.loc["control", "conversion"] == 0.0  # u1's order came before the exposure
    assert by_arm.loc["treatment", "conversion"] == 1.0 and by_arm.loc["treatment", "revenue"] == 1000
    assert set(experiment_events(store)["event"]) == {"shown", "click", "order"}
