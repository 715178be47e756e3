"""The warehouse: migrations, ingest with validation / quarantine / idempotency, registry, API keys, settings;
the operational tables on DuckDB and on PostgreSQL alike."""

import json

import pandas as pd
import pytest

from niaga.cli import main
from niaga.config import settings
from niaga.errors import DataError, NiagaError
from niaga.store import Store
from niaga.store.ingest import ingest
from niaga.store.schema import MIGRATIONS, TABLES


@pytest.fixture(params=["duckdb", "postgresql"])
def store(request, tmp_path):
    """The warehouse with its operational tables in the same DuckDB file, or in PostgreSQL (analytics in DuckDB)."""
    if request.param == "postgresql":
        target = Store(request.getfixturevalue("postgres_url"), warehouse=tmp_path / "w.duckdb")
    else:
        target = Store(tmp_path / "w.duckdb")
    with target as opened:
        yield opened


def test_migrations_create_every_table_once_and_refuse_a_newer_schema(tmp_path):
    path = tmp_path / "w.duckdb"
    with Store(path) as store:
        assert store.version == len(MIGRATIONS)
        assert set(store.counts()) == {*TABLES, "quarantine"} and store.is_empty()
    with Store(path) as store:  # opening again applies nothing twice
        assert store.db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)
        store.db.execute("INSERT INTO schema_version (version, description) VALUES (99, 'from the future')")
    with pytest.raises(NiagaError, match="newer than this niaga knows"):
        Store(path).open()


def test_ingest_keeps_good_rows_quarantines_bad_ones_and_adds_nothing_twice(store, tmp_path, capsys):
    path = tmp_path / "tx.csv"
    pd.DataFrame({"TRANSACTION_ID": [1, 2, 3, 4, 5], "TX_DATETIME": ["2018-04-01 00:00:31", "not a date",
                                                                     "2018-04-01 00:02:10", "2018-04-01 00:07:56",
                                                                     "2018-04-01 00:09:29"],
                  "CUSTOMER_ID": [596, 4961, None, 4128, 927], "TX_AMOUNT": [57.16, 81.51, 146.0, -3, 35.0],
                  "TERMINAL_ID": [3156, 3412, 1365, 8737, 9906], "TX_FRAUD": [0, 0, 0, 0, 1],
                  "shop_note": ["a", "b", "c", "d", "e"]}).to_csv(path, index=False)
    [result] = ingest(store, "transactions", [path], log=print)
    assert (result.rows, result.stored, result.quarantined, result.duplicates) == (5, 2, 3, 0)
    stored = store.table("transactions")
    assert stored["transaction_id"].tolist() == ["1", "5"] and stored["source_row"].tolist() == [2, 6]
    assert json.loads(stored["extra"][0]) == {"shop_note": "a"}  # an unmapped column is kept, not dropped
    bad = store.table("quarantine").sort_values("source_row")
    assert bad[["source_row", "field"]].values.tolist() == [[3, "timestamp"], [4, "customer_id"], [5, "amount"]]
    assert bad["reason"].tolist()[0].startswith("cannot parse") and bad["reason"].tolist()[2] == "below 0: -3.0"
    assert json.loads(bad["raw"].iloc[1])["TX_AMOUNT"] == "146.0"
    [again] = ingest(store, "transactions", [path], log=print)
    assert again.already_ingested and store.counts()["transactions"] == 2
    assert "already ingested into transactions: nothing added" in capsys.readouterr().out
    overlap = tmp_path / "more.parquet"
    pd.read_csv(path).iloc[[0, 4]].assign(TX_AMOUNT=[1.0, 2.0]).to_parquet(overlap)  # same ids, other file
    [more] = ingest(store, "transactions", [overlap], log=print)
    assert (more.stored, more.duplicates) == (0, 2) and store.counts()["transactions"] == 2


def test_tables_without_a_key_keep_repeated_rows_but_not_the_same_file_in_another_format(store, tmp_path):
    first, again, more = tmp_path / "a.csv", tmp_path / "a.jsonl", tmp_path / "b.csv"
    rows = pd.DataFrame({"review": ["bagus", "jelek", "bagus"], "Emotion": ["Happy", "Anger", "Happy"]})
    rows.to_csv(first, index=False)
    rows.to_json(again, orient="records", lines=True)
    pd.DataFrame({"review": ["bagus", "mantap"], "Emotion": ["Happy", "Happy"]}).to_csv(more, index=False)
    results = ingest(store, "reviews", [first, again, more], log=lambda m: None)
    assert [(r.stored, r.duplicates) for r in results] == [(3, 0), (0, 3), (1, 1)]
    assert sorted(store.table("reviews")["text"]) == ["bagus", "bagus", "jelek", "mantap"]


def test_a_file_that_is_not_the_table_is_one_clear_error(store, tmp_path, capsys):
    path = tmp_path / "x.csv"
    pd.DataFrame({"foo": [1]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"not a 'reviews' table, missing text: one of text, review"):
        ingest(store, "reviews", [path])
    assert store.counts()["reviews"] == 0
    assert main(["ingest", "reviews", str(path), "--store", str(tmp_path / "cli.duckdb")]) == 2
    assert main(["ingest", "reviews", str(tmp_path / "missing.csv"), "--store", str(tmp_path / "cli.duckdb")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_cli_ingest_prints_a_summary(tmp_path, capsys):
    path = tmp_path / "posts.csv"
    pd.DataFrame({"tweet": ["mau beli hp", ""]}).to_csv(path, index=False)
    assert main(["ingest", "posts", str(path), "--store", str(tmp_path / "w.duckdb")]) == 0
    out = capsys.readouterr().out
    assert "2 rows → 1 stored in posts, 1 quarantined" in out and "posts now holds 1 rows" in out


def test_registry_and_api_keys(store, tmp_path):
    from niaga.modeling import save_model
    from niaga.text.classify.tfidf import TfidfTextClassifier

    model = TfidfTextClassifier(calibration_cv=2).fit(["bagus sekali", "jelek sekali"] * 4, ["pos", "neg"] * 4)
    save_model(model, tmp_path / "m1", task="reviews", metrics={"f1_macro": 0.5})
    save_model(model, tmp_path / "m2", task="reviews", metrics={"f1_macro": 0.7})
    store.register_model("reviews", "emotion", tmp_path / "m1")
    store.register_model("reviews", "emotion", tmp_path / "m2")
    active = store.models()
    assert len(active) == 1 and active["path"][0].endswith("m2") and json.loads(active["metrics"][0])["f1_macro"] == 0.7
    with pytest.raises(NiagaError):
        store.register_model("reviews", "emotion", tmp_path)  # not a model directory
    key = store.add_key("dashboard")
    assert store.check_key(key) == "dashboard" and store.check_key(key + "x") is None and store.check_key(None) is None
    assert key.split("_", 2)[2] not in store.ops.fetchone("SELECT hash FROM api_keys")[0]  # only a hash
    store.revoke_key(key.split("_")[1])
    assert store.check_key(key) is None
    with pytest.raises(DataError, match="no active API key"):
        store.revoke_key("nope")


def test_settings_from_toml_and_environment(tmp_path, monkeypatch):
    config = tmp_path / "niaga.toml"
    config.write_text('[niaga]\nstore = "data/w.duckdb"\nport = 9000\n', encoding="utf-8")
    monkeypatch.setenv("NIAGA_CONFIG", str(config))
    monkeypatch.setenv("NIAGA_REQUIRE_API_KEY", "false")
    s = settings()
    assert str(s.store) == "data/w.duckdb" and s.port == 9000 and s.require_api_key is False
    monkeypatch.setenv("NIAGA_PORT", "eighty")
    with pytest.raises(DataError, match="port='eighty': expected int"):
        settings()
    config.write_text('[niaga]\nstorage = "x"\n', encoding="utf-8")
    monkeypatch.delenv("NIAGA_PORT")
    with pytest.raises(DataError, match="unknown setting"):
        settings()


def test_no_raw_personal_data_reaches_a_stored_table_when_masking_is_on(store, tmp_path):
    path = tmp_path / "customers.csv"
    pd.DataFrame({"customer_id": ["c1", "c2"], "name": ["Siti", "Budi"], "email": ["siti@contoh.co.id", "-"],
                  "phone": ["0812-3456-7890", "+62 857 1234 5678"], "address": ["Jl. Merdeka No. 10, Bandung", ""],
                  "city": ["Bandung", "Depok"]}).to_csv(path, index=False)
    reviews = tmp_path / "reviews.csv"
    pd.DataFrame({"review": ["barang bagus, hubungi saya di 081234567890 ya kak", "mantap Rp 150.000 saja"]}
                 ).to_csv(reviews, index=False)
    ingest(store, "customers", [path], log=lambda m: None)
    ingest(store, "reviews", [reviews], log=lambda m: None)
    dump = store.db.execute("SELECT * FROM customers").df().to_csv() + store.db.execute("SELECT * FROM reviews").df().to_csv()
    for raw in ("siti@contoh.co.id", "0812-3456-7890", "857 1234 5678", "Merdeka No. 10", "081234567890"):
        assert raw not in dump
    stored = store.table("reviews")["text"].tolist()
    assert stored == ["barang bagus, hubungi saya di [PHONE] ya kak", "mantap Rp 150.000 saja"]  # a price is no PII
    assert store.table("customers")["city"].tolist() == ["Bandung", "Depok"]


def test_store_tables_read_wherever_a_file_is_read_and_the_arrow_runs_one_way(tmp_path, monkeypatch):
    """`store:TABLE` is resolved by niaga.store registering its reader with niaga.data.io: data.io never imports
    the store (which reads files through data.io), and the niaga command registers it for `store:` arguments."""
    import ast
    import subprocess
    import sys
    from pathlib import Path

    import niaga.data.io as io

    tree = ast.parse(Path(io.__file__).read_text(encoding="utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m.startswith("niaga.store") for m in modules)
    path = tmp_path / "w.duckdb"
    reviews = tmp_path / "reviews.csv"
    pd.DataFrame({"review": ["barang bagus Rp 50.000", "rusak parah"], "seller": ["a", "b"]}).to_csv(reviews, index=False)
    with Store(path) as store:
        ingest(store, "reviews", [reviews], log=lambda m: None)
    monkeypatch.setenv("NIAGA_STORE", str(path))
    table = io.read_table("store:reviews")  # niaga.store is imported by this test module: registered
    assert table["text"].tolist() == ["barang bagus Rp 50.000", "rusak parah"] and table["seller"].tolist() == ["a", "b"]
    out = tmp_path / "extracted.csv"  # a fresh process: only the niaga command's own hook registers the reader
    run = subprocess.run([sys.executable, "-c", "import sys; from niaga.cli import main; sys.exit(main())", "social",
                          "extract", "--input", "store:reviews", "--text-col", "text", "--output", str(out)],
                         capture_output=True, text=True, env={**__import__("os").environ, "NIAGA_STORE": str(path)})
    assert run.returncode == 0, run.stderr
    assert pd.read_csv(out)["price"].tolist()[0] == 50000
