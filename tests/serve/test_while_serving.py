"""Managing the store while a server holds it: ingest (CLI and upload), keys and models go through the server
while requests run, none fails and every row lands once; and ``--workers 2`` gives the fraud decisions of one
process. The servers run as real processes (DuckDB's lock is per process: an in-process app would share it)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd

from niaga.cli import main
from niaga.store import Store
from niaga.store.owner import owner, socket_path

SRC = Path(__file__).resolve().parents[2] / "src"
TEXTS = ["barang bagus sekali mantap", "pengiriman cepat seller ramah", "barang rusak parah kecewa",
         "kualitas jelek mahal rusak"]


def post(url, **kwargs):  # patient: the cores are shared
    return httpx.post(url, timeout=kwargs.pop("timeout", 60), **kwargs)


def get(url, **kwargs):
    return httpx.get(url, timeout=kwargs.pop("timeout", 60), **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(store: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """``niaga serve`` in a process of its own, once every worker answers (busy shared cores: minutes allowed)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    server = subprocess.Popen([sys.executable, "-m", "niaga.cli", "serve", "--store", str(store), "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline, seen = time.monotonic() + 180, set()
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {server.stderr.read().decode()[-2000:]}")
        try:
            seen.add(get(url + "/healthz", timeout=60).json()["worker"])  # a new connection each time
            if len(seen) == workers and owner(store) is not None:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start within three minutes")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def emotion_model(root: Path) -> Path:
    from niaga.modeling import save_model
    from niaga.text.classify.tfidf import TfidfTextClassifier

    model = TfidfTextClassifier(calibration_cv=2, min_df=1).fit(TEXTS * 4, ["Happy", "Happy", "Anger", "Anger"] * 4)
    save_model(model, root / "emotion", labels=model.classes_, task="reviews")
    return root / "emotion"


def orders(first: int, count: int) -> pd.DataFrame:
    ids = range(first, first + count)
    return pd.DataFrame({"order_id": [f"o{i}" for i in ids], "customer_id": [f"c{i % 37}" for i in ids],
                         "product_id": [f"p{i % 11}" for i in ids], "quantity": [1 + i % 3 for i in ids],
                         "price": [1000.0 + i for i in ids],
                         "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(list(ids), unit="min")})


class Load:
    """Requests in a loop on a few threads until stopped; every answer that is not 200 is kept."""

    def __init__(self, url: str, key: str, threads: int = 3):
        self.url, self.key, self.stopping = url, key, threading.Event()
        self.sent, self.failures = 0, []
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _run(self, i: int) -> None:
        with httpx.Client(base_url=self.url, headers={"X-API-Key": self.key}, timeout=60) as client:
            while not self.stopping.is_set():
                try:
                    answer = client.post("/api/v1/text/normalize", json={"texts": [TEXTS[i % 4]]}) if i % 2 == 0 \
                        else client.get("/healthz")
                    if answer.status_code != 200:
                        self.failures.append((answer.status_code, answer.text[:200]))
                except httpx.HTTPError as exc:
                    self.failures.append((type(exc).__name__, str(exc)))
                self.sent += 1


def test_ingest_keys_and_models_change_while_the_server_answers(tmp_path, capsys):
    store = tmp_path / "shop.duckdb"
    with Store(store) as warehouse:
        key = warehouse.add_key("load")
    model = emotion_model(tmp_path)
    orders(0, 3000).to_csv(tmp_path / "day1.csv", index=False)
    orders(2500, 1500).to_parquet(tmp_path / "day2.parquet")  # 500 rows also in day1: stored once
    orders(4000, 700).to_csv(tmp_path / "day3.csv", index=False)
    with (tmp_path / "day3.csv").open("a") as out:
        out.write("o-bad,c1,p1,many,10,2024-02-01\n")  # quantity not a number: quarantined
    server, url = start(store)
    try:
        with Load(url, key) as load:
            time.sleep(0.3)
            assert main(["ingest", "orders", str(tmp_path / "day1.csv"), "--store", str(store)]) == 0
            assert "through it" in capsys.readouterr().out
            assert main(["serve", "keys", "add", "new-client", "--store", str(store)]) == 0
            new_key = capsys.readouterr().out.splitlines()[0]
            # the new key works at once, on the running server
            assert post(url + "/api/v1/text/normalize", json={"texts": ["bgt"]},
                              headers={"X-API-Key": new_key}).status_code == 200
            with open(tmp_path / "day2.parquet", "rb") as day2, open(tmp_path / "day3.csv", "rb") as day3:
                uploaded = post(url + "/api/v1/ingest/orders", headers={"X-API-Key": new_key}, timeout=60,
                                      files=[("files", ("day2.parquet", day2)), ("files", ("day3.csv", day3))])
            assert uploaded.status_code == 200, uploaded.text
            day2_result, day3_result = uploaded.json()["files"]
            assert (day2_result["stored"], day2_result["duplicates"]) == (1000, 500)
            assert day3_result["stored"] == 700 and uploaded.json()["rows_in_table"] == 3000 + 1000 + 700
            assert main(["ingest", "orders", str(tmp_path / "day1.csv"), "--store", str(store)]) == 0
            assert "already ingested" in capsys.readouterr().out
            (tmp_path / "notes.csv").write_text("just,some\n1,2\n")  # user errors come back as one clear line
            assert main(["ingest", "orders", str(tmp_path / "notes.csv"), "--store", str(store)]) == 2
            assert "timestamp" in capsys.readouterr().err
            assert main(["ingest", "orders", str(tmp_path / "missing.csv"), "--store", str(store)]) == 2
            assert "file not found" in capsys.readouterr().err
            assert main(["serve", "models", "add", "reviews", "emotion", str(model), "--store", str(store)]) == 0
            served = post(url + "/api/v1/reviews/classify", json={"texts": ["barang rusak parah"]},
                                headers={"X-API-Key": key})
            assert served.status_code == 200 and served.json()["results"][0]["label"] == "Anger"
            key_id = new_key.split("_")[1]
            assert main(["serve", "keys", "revoke", key_id, "--store", str(store)]) == 0
            assert post(url + "/api/v1/text/normalize", json={"texts": ["bgt"]},
                              headers={"X-API-Key": new_key}).status_code == 401
            time.sleep(0.3)
        assert load.sent > 20 and load.failures == []
        # the admin endpoints do not answer on the TCP port
        assert post(url + "/admin/keys", json={"name": "intruder"}).status_code == 403
    finally:
        stop(server)
    assert not socket_path(store).exists() and owner(store) is None
    with Store(store) as warehouse:  # the server is gone: the commands open the store themselves again
        rows = warehouse.db.execute("SELECT count(*), count(DISTINCT order_id) FROM orders").fetchone()
        assert rows == (4700, 4700)
        assert warehouse.db.execute("SELECT source_row, field FROM quarantine").fetchall() == [(702, "quantity")]
        assert set(warehouse.keys()["name"]) == {"load", "new-client"}
    assert main(["serve", "keys", "add", "after", "--store", str(store)]) == 0


def test_two_workers_give_the_fraud_decisions_of_one(tmp_path):
    import importlib.util

    from niaga.fraud.pipeline import load_scorer, train

    spec = importlib.util.spec_from_file_location("fraud_conftest", SRC.parent / "tests" / "fraud" / "conftest.py")
    fraud_helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fraud_helpers)
    cards = fraud_helpers.simulate(n_customers=40, n_terminals=20, days=20, seed=3)
    cut = int(len(cards) * 0.7)
    cards.iloc[:cut].to_parquet(tmp_path / "train.parquet")
    train([tmp_path / "train.parquet"], tmp_path / "fraud", log=None, n_estimators=20, ae_epochs=1)
    later = cards.iloc[cut:cut + 60]
    store = tmp_path / "shop.duckdb"
    with Store(store) as warehouse:
        warehouse.register_model("fraud", "transactions", tmp_path / "fraud")
        warehouse.register_model("reviews", "emotion", emotion_model(tmp_path))
        key = warehouse.add_key("tests")
    records = [{"transaction_id": str(r.TRANSACTION_ID), "timestamp": str(r.TX_DATETIME),
                "customer_id": str(r.CUSTOMER_ID), "terminal_id": str(r.TERMINAL_ID), "amount": float(r.TX_AMOUNT)}
               for r in later.itertuples()]
    one = load_scorer(tmp_path / "fraud")
    expected = [(r["decision"], round(r["fraud_score"], 6)) for r in map(one.score, records)]
    server, url = start(store, workers=2)
    try:
        workers, got = set(), []
        for i, record in enumerate(records):  # a new connection each: the kernel spreads them over both processes
            answer = post(url + "/api/v1/fraud/score", json=record, headers={"X-API-Key": key}, timeout=60)
            assert answer.status_code == 200, answer.text
            got.append((answer.json()["decision"], answer.json()["fraud_score"]))
            workers.add(get(url + "/healthz", timeout=60).json()["worker"])
            if i % 10 == 0:  # served by whichever process got the connection, with its own copy of the model
                classified = post(url + "/api/v1/reviews/classify", json={"texts": ["barang bagus sekali"]},
                                  headers={"X-API-Key": key})
                assert classified.status_code == 200 and classified.json()["results"][0]["label"] == "Happy"
        assert workers == {0, 1}
        assert got == expected
        assert post(url + "/admin/keys", json={"name": "x"}).status_code in (403, 404)
        cases = get(url + "/api/v1/fraud/cases", params={"status": "all", "limit": 1000},
                          headers={"X-API-Key": key})
        assert cases.status_code == 200
    finally:
        stop(server)


def test_the_servers_ingest_stores_what_the_command_stores(tmp_path):
    """The server validates in a process of its own and stores with SQL: the same rows, quarantine lines, masks
    and bookkeeping as ``niaga ingest`` on a store it opens itself."""
    from niaga.config import Settings
    from niaga.serve.services import Services
    from niaga.store.ingest import ingest

    orders(0, 300).to_csv(tmp_path / "a.csv", index=False)
    with (tmp_path / "a.csv").open("a") as out:
        out.write("o-bad,c1,p1,many,10,2024-02-01\n")
    orders(0, 100).to_parquet(tmp_path / "b.parquet")
    pd.DataFrame({"text": ["barang bagus hub 081234567890", "jelek", None], "label": ["Happy", "Anger", "x"]}).to_csv(
        tmp_path / "r.csv", index=False)
    files = [tmp_path / "a.csv", tmp_path / "b.parquet", tmp_path / "a.csv"]
    with Store(tmp_path / "direct.duckdb") as store:
        direct = ingest(store, "orders", files, progress=False, log=lambda m: None) + ingest(
            store, "reviews", [tmp_path / "r.csv"], progress=False, log=lambda m: None)
    services = Services(Settings(store=tmp_path / "server.duckdb"))
    try:
        served = services.ingest("orders", files)[0] + services.ingest("reviews", [tmp_path / "r.csv"])[0]
    finally:
        services.close()
    assert [r.summary() for r in served] == [r.summary() for r in direct]
    assert served[0].quarantined == 1 and served[2].already_ingested
    tables = []
    for name in ("direct", "server"):
        with Store(tmp_path / f"{name}.duckdb") as store:
            tables.append([store.db.execute(query).fetchall() for query in (
                "SELECT order_id, quantity, price, timestamp, row_hash, source_row FROM orders ORDER BY ALL",
                "SELECT source_row, field, reason FROM quarantine ORDER BY ALL",
                "SELECT text, label FROM reviews ORDER BY ALL",
                "SELECT rows_stored, rows_quarantined, rows_duplicate FROM ingested_files ORDER BY ALL")])
    assert tables[0] == tables[1]
    assert ("barang bagus hub [PHONE]", "Happy") in tables[1][2]
