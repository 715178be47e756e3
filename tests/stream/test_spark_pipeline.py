"""The way out to a cluster: pipeline definitions written once in SQL give the same rows on DuckDB and on
Spark (pyspark in local mode), and the same as niaga's own batch path."""

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from niaga.data.columns import match_columns
from niaga.fraud.features import batch_features
from niaga.fraud.features_sql import customer_window_names, customer_windows_sql, stream_table
from niaga.fraud.schema import normalize
from niaga.store.ingest import validate
from niaga.store.schema import TABLES
from niaga.store.sql import DuckDBEngine, SparkEngine, validation_sql

from .conftest import fraud_helpers

# pyspark 4.3 warns that it has not been certified on pandas 3; the results are checked here
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas",
                                        "ignore:The copy keyword is deprecated")


@pytest.fixture(scope="module")
def engines():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[stream]'): the Spark path "
                                          "is not tested")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("no Java runtime (java on PATH or JAVA_HOME): Spark cannot start; install Java 17")
    spark = SparkEngine("local[2]")
    yield {"duckdb": DuckDBEngine(), "spark": spark}
    spark.close()


def test_customer_windows_are_the_same_on_duckdb_spark_and_the_batch_pipeline(engines):
    canonical = normalize(fraud_helpers().simulate(n_customers=25, n_terminals=10, days=35, seed=3))
    table = stream_table(canonical)
    names = customer_window_names()
    expected = batch_features(canonical).loc[table.index, names].to_numpy(dtype=float)
    assert len(table) > 1000 and (expected[:, names.index("customer_nb_tx_2min")] > 1).any()  # ties and bursts
    for name, engine in engines.items():
        engine.register("tx", table)
        got = engine.query(customer_windows_sql("tx"))
        assert got["seq"].tolist() == list(range(len(table))), name
        np.testing.assert_allclose(got[names].to_numpy(dtype=float), expected, rtol=1e-9, err_msg=name)


def test_ingest_validation_is_the_same_on_duckdb_spark_and_the_ingest_path(engines):
    frame = fraud_helpers().simulate(n_customers=10, n_terminals=5, days=5, seed=5).astype(str)
    frame.loc[3, "TX_AMOUNT"] = "abc"
    frame.loc[5, "TX_AMOUNT"] = "-5"
    frame.loc[8, "CUSTOMER_ID"] = ""
    frame.loc[9, "TX_DATETIME"] = "not a time"
    frame.loc[12, "TRANSACTION_ID"] = " "
    table = TABLES["transactions"]
    _, quarantine = validate(frame, table, "cards.csv")
    expected = sorted(zip(quarantine["source_row"], quarantine["field"]))
    assert len(expected) == 5
    view = frame.assign(source_row=frame.index + 2)
    sql = validation_sql(table, "raw", match_columns(frame.columns, table.aliases))
    for name, engine in engines.items():
        engine.register("raw", view)
        got = engine.query(sql)
        assert sorted(zip(got["source_row"].astype(int), got["field"])) == expected, name
        reasons = dict(zip(got["field"], got["reason"]))
        assert reasons["amount"] in ("not a number", "below 0") and reasons["timestamp"] == "cannot parse as a date/time"


def test_the_same_definitions_read_parquet_where_the_engine_sees_it(engines, tmp_path):
    canonical = normalize(fraud_helpers().simulate(n_customers=5, n_terminals=3, days=10, seed=6))
    table = stream_table(canonical)
    table.to_parquet(tmp_path / "tx.parquet", index=False)
    results = []
    for engine in engines.values():
        engine.register_parquet("tx_files", [str(tmp_path / "tx.parquet")])
        results.append(engine.query(customer_windows_sql("tx_files")))
    pd.testing.assert_frame_equal(results[0], results[1], check_dtype=False)
