"""The embedded warehouse (DuckDB): business tables, ingest with validation and quarantine, the model
registry and API keys; the operational tables optionally in PostgreSQL (``niaga.store.database``, docs/store.md).
A shared layer: capabilities read their data from it; it knows no capability."""

from niaga.data.io import STORE_PREFIX, register_table_source
from niaga.store.queries import read_store_table
from niaga.store.warehouse import Store

register_table_source(STORE_PREFIX, read_store_table)  # `store:TABLE` wherever niaga reads a table

__all__ = ["Store"]
