"""A small running system for the server tests: a store, tiny models of every capability (text, fraud,
customer segments from a synthetic log, a recommender on synthetic invoices, a product CNN on drawn photos),
and the app (``TestClient``) or a live server for the browser."""

import contextlib
import importlib.util
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from niaga.config import Settings

TESTS = Path(__file__).resolve().parents[1]
POS = ["barang bagus sekali mantap", "pengiriman cepat seller ramah", "kualitas bagus harga murah puas"]
NEG = ["barang rusak parah kecewa", "pengiriman lama sekali kecewa", "kualitas jelek mahal rusak"]
POSTS = ["sudah transfer 150rb tapi pesanan belum diproses", "sudah bayar pakai gopay 200rb belum dikirim",
         "paket saya belum sampai sudah seminggu", "min pesanan saya dibatalkan sepihak", "ikut kuis berhadiah yuk",
         "selamat pagi semua semangat", "promo gajian diskon besar", "nonton bola malam ini"]


def helper(relative: str):
    spec = importlib.util.spec_from_file_location(relative.replace("/", "_"), TESTS / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def system(tmp_path_factory, shared_data):
    """Settings of a store with registered models (built once per session)."""
    from niaga.customers.segment_report import write_segmentation
    from niaga.modeling import save_model
    from niaga.social.pipeline import train as train_posts
    from niaga.store import Store
    from niaga.text.classify.tfidf import TfidfTextClassifier

    root = tmp_path_factory.mktemp("system")
    texts, labels = (POS + NEG) * 4, (["Happy"] * 3 + ["Anger"] * 3) * 4
    emotion = TfidfTextClassifier(calibration_cv=2, min_df=1).fit(texts, labels)
    save_model(emotion, root / "emotion", labels=emotion.classes_, task="reviews")
    posts = root / "posts.csv"
    pd.DataFrame({"text": POSTS * 3, "label": (["TRANSACTION"] * 4 + ["NON_TRANSACTION"] * 4) * 3,
                  "activity": (["payment", "payment", "shipping", "cancellation"] + [None] * 4) * 3}).to_csv(posts, index=False)
    train_posts(posts, "text", "label", root / "posts", log=lambda m: None, min_df=1, calibration_cv=2)
    log = helper("customers/conftest.py").population()
    log["CustomerID"] = log["CustomerID"].replace(3000, 12347)  # the id the API's example asks for
    write_segmentation(log, "log", root / "segments", as_of="2011-12-31")
    cards = helper("fraud/conftest.py").simulate(n_customers=60, n_terminals=30, days=30, seed=4)
    cut = int(len(cards) * 0.7)
    cards.iloc[:cut].to_parquet(root / "cards-train.parquet")
    later = cards.iloc[cut:]
    # a card tried 12 times within a minute, early in the later transactions: the velocity rule (high severity)
    # sends it to review, so the dashboard's replay always has a case to work
    first = later.iloc[0]
    burst = pd.DataFrame({"TRANSACTION_ID": np.arange(12) + cards["TRANSACTION_ID"].max() + 1,
                          "TX_DATETIME": first["TX_DATETIME"] + pd.to_timedelta(np.arange(12) * 5 + 1, unit="s"),
                          "CUSTOMER_ID": first["CUSTOMER_ID"], "TERMINAL_ID": first["TERMINAL_ID"],
                          "TX_AMOUNT": float(later["TX_AMOUNT"].median()), "TX_FRAUD": 0})
    pd.concat([later, burst]).sort_values("TX_DATETIME", kind="stable").to_parquet(root / "cards-later.parquet")
    # the packaged rules, but a score alone never blocks: a rule's review is never lifted to a block
    from niaga.fraud.rules import default_rules_path

    rules = yaml.safe_load(default_rules_path().read_text(encoding="utf-8"))
    rules["decision"]["thresholds"]["block"] = 1.0
    (root / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    from niaga.fraud.pipeline import train as train_fraud

    train_fraud([root / "cards-train.parquet"], root / "fraud", rules_path=root / "rules.yaml", log=None,
                n_estimators=40, ae_epochs=2)
    from niaga.recommend.pipeline import train as train_recommender

    helper("recommend/conftest.py").invoice_lines().to_csv(root / "invoices.csv", index=False)
    train_recommender(root / "invoices.csv", root / "recommend", log=lambda m: None)
    vision = helper("vision/conftest.py")
    photos = vision.make_dataset(root / "photos", per_class=6)
    from niaga.vision.pipeline import train as train_vision

    train_vision(photos, root / "vision", log=lambda m: None, **{**vision.TINY, "epochs": 2})
    from niaga.analytics.forecast.pipeline import build_panel, demand_lines
    from niaga.analytics.forecast.pipeline import train as train_forecast

    orders = helper("analytics/conftest.py").synthetic_log().replace({"StockCode": {"A": "85123A"}})
    train_forecast(build_panel(demand_lines(orders)[0], "W"), root / "forecast", horizon=4, kind="moving_average")

    from niaga.abuse import pipeline as abuse_pipeline
    from niaga.abuse import schema as abuse_schema
    from niaga.abuse.simulate import simulate as simulate_marketplace

    abuse_model, abuse_metrics = abuse_pipeline.train(
        abuse_schema.from_frames(simulate_marketplace(accounts=300, days=21, seed=1)), params={"n_estimators": 20})
    save_model(abuse_model, root / "abuse", metrics=abuse_metrics)
    settings = Settings(store=root / "niaga.duckdb", models=root, require_api_key=True)
    with Store(settings.store) as store:
        store.register_model("reviews", "emotion", root / "emotion")
        store.register_model("social", "posts", root / "posts")
        store.register_model("customers", "segments", root / "segments")
        store.register_model("fraud", "transactions", root / "fraud")
        store.register_model("recommend", "orders", root / "recommend")
        store.register_model("vision", "products", root / "vision")
        store.register_model("forecast", "orders", root / "forecast")
        store.register_model("abuse", "marketplace", root / "abuse")
        key = store.add_key("tests")
        from niaga.store.ingest import ingest

        ingest(store, "transactions", [root / "cards-later.parquet"], log=lambda m: None, progress=False)
        ingest(store, "orders", [root / "invoices.csv"], log=lambda m: None, progress=False)  # the overview's sales
        store.db.execute("INSERT INTO reviews (text, label) VALUES ('bagus', 'Happy'), ('jelek', 'Anger'), "
                         "('mantap', 'Happy')")
    return settings, key


@pytest.fixture(scope="session")
def photo() -> bytes:
    """A drawn product photo (a pair of heels) as JPEG bytes, for uploads."""
    import io

    buffer = io.BytesIO()
    helper("vision/conftest.py").draw("Heels", "Women", seed=7).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture()
def client(system):
    from fastapi.testclient import TestClient

    from niaga.serve.app import create_app

    settings, key = system
    with TestClient(create_app(settings), headers={"X-API-Key": key}) as test_client:
        yield test_client


@contextlib.contextmanager
def serving(settings):
    """The app of ``settings`` on a free local port, in a thread: its base URL."""
    import uvicorn

    from niaga.serve.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def app_server():
    """``with app_server(settings) as url``: another system's app served in a thread (see ``serving``)."""
    return serving


@pytest.fixture(scope="module")
def live_server(system):
    """The app on a free local port, in a thread (for the browser and the fuzzer)."""
    settings, key = system
    with serving(settings) as url:
        yield url, key
