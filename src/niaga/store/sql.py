"""Pipelines written once in SQL, run on DuckDB (one machine) or on Apache Spark (a cluster).

The SQL uses only what both engines read the same way (``TRY_CAST``, ``CASE``, joins, ``GROUP BY``, types
DOUBLE / STRING / TIMESTAMP), so a definition such as ``validation_sql`` below or the fraud capability's
customer windows (``niaga.fraud.features_sql``) gives the same rows on either. ``SparkEngine`` runs
pyspark in local mode by default; ``master`` points it at a cluster (``spark://HOST:7077``, ``yarn``,
``k8s://…``), and ``register_parquet`` reads the data where the cluster sees it (HDFS, S3, a shared disk)
instead of shipping a pandas frame from this process. See docs/streaming.md.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import pandas as pd

from niaga.errors import NiagaError
from niaga.store.schema import Table


class SqlEngine(ABC):
    name: str

    @abstractmethod
    def register(self, view: str, frame: pd.DataFrame) -> None:
        """Make a pandas frame queryable as ``view``."""

    @abstractmethod
    def register_parquet(self, view: str, paths: list[str]) -> None:
        """Make Parquet files (as the engine's workers see them) queryable as ``view``."""

    @abstractmethod
    def query(self, sql: str) -> pd.DataFrame:
        """Run a query and bring its result back as a pandas frame."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DuckDBEngine(SqlEngine):
    name = "duckdb"

    def __init__(self, connection=None):
        import duckdb

        self.db = connection if connection is not None else duckdb.connect()

    def register(self, view: str, frame: pd.DataFrame) -> None:
        self.db.register(view, frame)

    def register_parquet(self, view: str, paths: list[str]) -> None:
        files = ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths)  # a view takes no parameters
        self.db.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM read_parquet([{files}])")

    def query(self, sql: str) -> pd.DataFrame:
        return self.db.execute(sql).df()


class SparkEngine(SqlEngine):
    name = "spark"

    def __init__(self, master: str = "local[2]", config: dict | None = None):
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise NiagaError("pyspark is not installed: pip install 'niaga[stream]' (and Java 17)") from None
        builder = SparkSession.builder.master(master).appName("niaga")
        # UTC: a timestamp means the same instant on every worker; no UI: a library call, not a job server
        for key, value in {"spark.sql.session.timeZone": "UTC", "spark.ui.enabled": "false",
                           "spark.sql.shuffle.partitions": "4", **(config or {})}.items():
            builder = builder.config(key, value)
        self.spark = builder.getOrCreate()

    def register(self, view: str, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        for column in frame.columns:  # text columns as plain objects: Spark infers StringType from them
            if not pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        self.spark.createDataFrame(frame).createOrReplaceTempView(view)

    def register_parquet(self, view: str, paths: list[str]) -> None:
        self.spark.read.parquet(*map(str, paths)).createOrReplaceTempView(view)

    def query(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()

    def close(self) -> None:
        self.spark.stop()


def _text(column: str) -> str:
    return f"TRIM(CAST({column} AS STRING))"


def validation_sql(table: Table, view: str, mapping: dict[str, str], row_column: str = "source_row") -> str:
    """One line per problem (``source_row``, ``field``, ``reason``) of the rows in ``view``: a required value
    missing, a number or time that does not parse, a number below the column's minimum. The checks of
    ``niaga.store.ingest.validate`` (which gives the reasons with the offending value; this gives the kind)."""
    checks = []
    for column in table.columns:
        if column.name not in mapping:
            continue
        source = f"`{mapping[column.name]}`"
        present = f"({source} IS NOT NULL AND {_text(source)} <> '')"
        if column.required:
            checks.append((column.name, f"NOT {present}", "missing"))
        if column.type in ("number", "integer"):
            checks.append((column.name, f"{present} AND TRY_CAST({source} AS DOUBLE) IS NULL", "not a number"))
            if column.minimum is not None:
                checks.append((column.name, f"TRY_CAST({source} AS DOUBLE) < {float(column.minimum)!r}",
                               f"below {column.minimum:g}"))
        elif column.type == "timestamp":
            checks.append((column.name, f"{present} AND TRY_CAST({_text(source)} AS TIMESTAMP) IS NULL",
                           "cannot parse as a date/time"))
    if not checks:
        return f"SELECT {row_column} AS source_row, 'none' AS field, 'none' AS reason FROM {view} WHERE 1 = 0"
    return "\nUNION ALL\n".join(f"SELECT {row_column} AS source_row, '{name}' AS field, '{reason}' AS reason "
                                f"FROM {view} WHERE {condition}" for name, condition, reason in checks)
