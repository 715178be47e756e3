"""The operational tables on PostgreSQL behave as on the embedded DuckDB: the fraud decision log and its review
queue, events with their quarantine, settings naming a PostgreSQL URL, and several processes sharing one database
while another holds the DuckDB warehouse file."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from niaga.cli import main
from niaga.config import settings
from niaga.errors import DataError
from niaga.fraud.log import DecisionLog
from niaga.store import Store
from niaga.store.database import describe, postgres_url
from niaga.store.ingest import ingest


@pytest.fixture(params=["duckdb", "postgresql"])
def target(request, tmp_path):
    """Where the operational tables live: a DuckDB file, or a PostgreSQL database of this test's own."""
    return request.getfixturevalue("postgres_url") if request.param == "postgresql" else tmp_path / "ops.duckdb"


def transactions(ids, scores, decisions, start="2024-03-01 10:00"):
    """(canonical, scored) frames as the fraud scorer hands them to ``DecisionLog.append``."""
    n = len(ids)
    times = pd.date_range(start, periods=n, freq="min")
    canonical = pd.DataFrame({
        "timestamp": times, "ts": times.astype("int64") / 1e9, "customer_id": [f"c{i}" for i in range(n)],
        "terminal_id": ["t1"] * n, "amount": np.arange(1, n + 1) * 25_000.0, "label": np.nan, "file": "tx.csv",
        "row": np.arange(2, n + 2), "signup_ts": np.nan, "ip_address": np.nan, "age": np.nan})
    scored = pd.DataFrame({"transaction_id": ids, "fraud_score": scores, "decision": decisions,
                           "reasons": ["amount far above the customer's usual"] * n})
    return canonical, scored


def test_decision_log_and_review_queue(target):
    canonical, scored = transactions(["a", "b", "c", "d", "e"], [0.10, 0.93, 0.71, np.nan, 0.88],
                                     ["approve", "review", "review", "review", "block"])
    with DecisionLog(target) as log:
        assert log.append(canonical, scored, stream="s1", seq=np.arange(1, 6)) == 5
        assert log.counts() == {"approve": 1, "review": 3, "block": 1}
        cases = log.cases("open")
        assert cases["transaction_id"].tolist() == ["b", "c", "d"]  # highest score first, no score last
        assert cases["amount"].tolist() == [50_000.0, 75_000.0, 100_000.0] and cases["customer_id"][0] == "c1"
        assert str(cases["ts"][0]) == "2024-03-01 10:01:00" and log.case_count("open") == 3
        log.resolve("c", "fraud", "the card holder denied it")
        with pytest.raises(DataError, match="no decision logged for transaction 'zz'"):
            log.resolve("zz", "legit")
        with pytest.raises(DataError, match="label must be 'fraud' or 'legit'"):
            log.resolve("b", "maybe")
        assert log.cases("open")["transaction_id"].tolist() == ["b", "d"]
        resolved = log.cases("resolved")
        assert resolved[["transaction_id", "resolution", "note"]].values.tolist() == [
            ["c", "fraud", "the card holder denied it"]]
        log.resolve("c", "legit")  # the latest verdict counts
        assert log.resolved_labels().values.tolist() == [["c", 0]]
        # the same transaction decided again later (a rescoring): its latest decision leaves the queue
        again = transactions(["b"], [0.2], ["approve"], start="2024-03-01 11:00")
        log.append(*again, stream="s1", seq=np.array([6]))
        assert log.cases("open")["transaction_id"].tolist() == ["d"] and log.case_count("all") == 2
        resume = log.stream_decisions("s1", after_seq=3)
        assert resume["transaction_id"].tolist() == ["d", "e", "b"] and resume["seq"].tolist() == [4, 5, 6]
        assert resume["status"].tolist() == ["scored"] * 3 and resume["terminal_id"].tolist() == ["t1"] * 3
        assert log.stream_rows("s1")["input_row"].tolist() == [2, 3, 4, 5, 6, 2]
    with DecisionLog(target) as reopened:  # nothing lost, the schema is not created twice
        assert sum(reopened.counts().values()) == 6


def test_events_and_their_quarantine_live_with_the_operational_tables(target, tmp_path):
    path = tmp_path / "events.csv"
    pd.DataFrame({"user_id": ["u1", "u2", "u1", ""], "item_id": ["i9", "i9", "i3", "i4"],
                  "event": ["view", "cart", "purchase", "view"],
                  "timestamp": ["2024-03-01 10:00", "2024-03-01 10:05", "yesterday", "2024-03-01 10:07"]}
                 ).to_csv(path, index=False)
    with Store(target, warehouse=tmp_path / "w.duckdb") as store:
        [result] = ingest(store, "events", [path], log=lambda m: None)
        assert (result.stored, result.quarantined) == (2, 2)
        assert store.database("events") is store.ops and store.count("events") == 2
        events = store.table("events").sort_values("source_row")
        assert events[["user_id", "item_id", "event"]].values.tolist() == [["u1", "i9", "view"], ["u2", "i9", "cart"]]
        assert str(events["timestamp"].iloc[1]) == "2024-03-01 10:05:00"
        bad = store.table("quarantine").sort_values("source_row")
        assert bad[["source_row", "field"]].values.tolist() == [[4, "timestamp"], [5, "user_id"]]
        [again] = ingest(store, "events", [path], log=lambda m: None)
        assert again.already_ingested and store.count("events") == 2 and store.count("quarantine") == 2


def test_settings_name_a_postgresql_store(tmp_path, monkeypatch):
    config = tmp_path / "niaga.toml"
    config.write_text('[niaga]\nstore = "postgresql://shop@db.internal:5432/niaga"\nwarehouse = "data/w.duckdb"\n',
                      encoding="utf-8")
    monkeypatch.setenv("NIAGA_CONFIG", str(config))
    s = settings()
    assert s.store == "postgresql://shop@db.internal:5432/niaga" and str(s.warehouse) == "data/w.duckdb"
    monkeypatch.setenv("NIAGA_STORE", "postgres://shop:s3cret@db.internal/niaga")
    monkeypatch.setenv("NIAGA_WAREHOUSE", str(tmp_path / "env.duckdb"))
    s = settings()
    assert s.store == "postgres://shop:s3cret@db.internal/niaga"
    assert describe(s.store) == "postgres://shop:***@db.internal/niaga"  # what messages and pages show
    assert Store(s.store).path == tmp_path / "env.duckdb"  # the analytics tables' file
    # a URL that went through pathlib (a --store option typed as a path) is still the URL
    assert postgres_url(Path("postgresql://shop@db/niaga")) == "postgresql://shop@db/niaga"
    assert postgres_url(tmp_path / "w.duckdb") is None
    with pytest.raises(DataError, match=r"postgresql://nobody@/niaga\?host=/nonexistent: cannot connect"):
        Store("postgresql://nobody@/niaga?host=/nonexistent").open()


HOLD_THE_FILE = """
import sys, time, duckdb
connection = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


def test_processes_share_the_postgresql_tables_while_another_holds_the_warehouse_file(postgres_url, tmp_path, capsys):
    """An API process holds the DuckDB file; the CLI still adds a key and registers a model through PostgreSQL,
    and a second API process (another Store on the same database) sees both at once."""
    warehouse = tmp_path / "w.duckdb"
    Store(warehouse).open().close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLD_THE_FILE), str(warehouse)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with Store(postgres_url, warehouse=warehouse) as api_one, Store(postgres_url, warehouse=warehouse) as api_two:
            key = api_one.add_key("mobile app")
            assert api_two.check_key(key) == "mobile app"
            segments = tmp_path / "segments"  # a registrable folder: a customer segmentation's output
            segments.mkdir()
            (segments / "metrics.json").write_text('{"customers": 40}', encoding="utf-8")
            assert main(["serve", "models", "add", "customers", "segments", str(segments),
                         "--store", postgres_url]) == 0
            assert main(["serve", "keys", "add", "kasir", "--store", postgres_url]) == 0
            cli_key = capsys.readouterr().out.splitlines()[1]
            assert api_one.check_key(cli_key) == "kasir"
            assert api_two.models()["path"].tolist() == [str(segments.resolve())]
            with pytest.raises(DataError, match="cannot open the store"):  # the analytics file is still held
                api_two.count("reviews")
        # the same commands on the embedded store wait for the file the server holds
        assert main(["serve", "keys", "add", "kasir", "--store", str(warehouse)]) == 2
    finally:
        holder.kill()
        holder.wait()


def test_the_server_serves_from_postgresql(postgres_url, tmp_path):
    """Keys, the registry and the review queue of a running server in PostgreSQL: a key added or revoked by
    another process counts, a model another process registered serves, the API works the queue that another
    process logged, and no page shows the URL's password."""
    from fastapi.testclient import TestClient

    from niaga.config import Settings
    from niaga.serve.app import create_app

    segments = tmp_path / "segments"  # a registrable folder: a customer segmentation's output
    segments.mkdir()
    (segments / "metrics.json").write_text('{"customers": 40}', encoding="utf-8")
    with Store(postgres_url, warehouse=tmp_path / "w.duckdb") as other_process:
        other_process.register_model("customers", "segments", segments)
        key = other_process.add_key("tests")
    with DecisionLog(postgres_url) as log:
        log.append(*transactions(["p-1", "p-2"], [0.9, 0.8], ["review", "review"]))
    # a password in the URL (libpq ignores it under trust authentication) never reaches a page
    url = postgres_url.replace("niaga@", "niaga:s3cret@")
    settings = Settings(store=url, warehouse=tmp_path / "w.duckdb", require_api_key=True)
    body = {"texts": ["barang bagus bgt"]}
    with TestClient(create_app(settings), headers={"X-API-Key": key}) as client:
        assert client.post("/api/v1/text/normalize", json=body).status_code == 200
        assert client.app.state.services.path("customers", "segments") == segments.resolve()
        queue = client.get("/api/v1/fraud/cases").json()
        assert [case["transaction_id"] for case in queue] == ["p-1", "p-2"]
        assert client.post("/api/v1/fraud/cases/p-1/resolve", json={"label": "fraud"}).status_code == 200
        assert [case["transaction_id"] for case in client.get("/api/v1/fraud/cases").json()] == ["p-2"]
        overview = client.get("/").text  # its table counts open the analytics file: the settings' one
        assert "niaga:***@" in overview and "s3cret" not in overview and str(segments.resolve()) in overview
        assert (tmp_path / "w.duckdb").exists()
        with Store(postgres_url, warehouse=tmp_path / "w.duckdb") as other_process:
            other_process.revoke_key(key.split("_")[1])
        client.app.state.services._keys.clear()  # the key cache would otherwise trust it a few more seconds
        assert client.post("/api/v1/text/normalize", json=body).status_code == 401
    with DecisionLog(postgres_url) as log:
        assert log.resolved_labels().values.tolist() == [["p-1", 1]]


def test_a_dropped_postgresql_connection_is_replaced(postgres_url, tmp_path):
    """PostgreSQL restarted or a proxy dropped the connection: the request that meets it fails, the next works."""
    import psycopg

    with Store(postgres_url, warehouse=tmp_path / "w.duckdb") as store:
        key = store.add_key("app")
        pid = store.ops.fetchone("SELECT pg_backend_pid()")[0]
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(psycopg.OperationalError):
            store.check_key(key)
        assert store.check_key(key) == "app"


def test_insert_keeps_awkward_values_as_they_were(target):
    """Frames go in by column name and come back equal: tabs, newlines, backslashes, quotes and non-Latin text,
    missing values of every kind as NULL, whole numbers that arrive as floats into integer columns."""
    from niaga.store.database import connect

    db = connect(target)
    try:
        db.execute("CREATE TABLE awkward (t VARCHAR, n DOUBLE PRECISION, i BIGINT, b BOOLEAN, ts TIMESTAMP)")
        frame = pd.DataFrame({
            "t": ["tab\there", "line\nbreak\r\n", "back\\slash \\N", 'quote " \'', "Rp 150.000 – ✓ 漢字", None, ""],
            "n": [1.5, -0.1, 1e300, 3.0, np.nan, 2 ** 60, 1 / 3],
            "i": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 2.0 ** 53],
            "b": [True, False, True, True, False, False, True],
            "ts": pd.to_datetime(["2024-03-01 10:00:00.123456", None, "1999-12-31 23:59:59", "2024-03-01 00:00:00",
                                  "2024-03-01 00:00:00", "2024-03-01 00:00:00", "2024-03-01 00:00:00"], format="mixed"),
        })
        assert db.insert("awkward", frame.iloc[::-1][["ts", "b", "i", "n", "t"]]) == 7  # by name, any order
        back = db.df("SELECT * FROM awkward ORDER BY n NULLS FIRST, t")
    finally:
        db.close()
    expected = frame.sort_values(["n", "t"], na_position="first").reset_index(drop=True)
    assert back["t"].tolist() == [None if v is None else v for v in expected["t"]]
    np.testing.assert_array_equal(back["n"].to_numpy(float), expected["n"].to_numpy(float))
    np.testing.assert_array_equal(back["i"].to_numpy(float), expected["i"].to_numpy(float))
    assert back["b"].tolist() == expected["b"].tolist()
    assert back["ts"].tolist() == expected["ts"].tolist()


def test_processes_starting_together_create_the_schema_once(postgres_url, tmp_path):
    """API processes of several machines open a fresh database at the same moment: each migration runs once."""
    import threading

    errors, barrier = [], threading.Barrier(4)

    def start(number: int) -> None:
        try:
            barrier.wait()
            with Store(postgres_url, warehouse=tmp_path / f"w{number}.duckdb") as store, DecisionLog(postgres_url):
                store.add_key(f"api-{number}")
        except Exception as exc:  # noqa: BLE001 — collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Store(postgres_url, warehouse=tmp_path / "w.duckdb") as store:
        assert store.ops.fetchone("SELECT count(*) FROM schema_version")[0] == 1 and len(store.keys()) == 4
