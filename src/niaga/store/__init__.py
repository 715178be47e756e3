"""The embedded warehouse (DuckDB): business tables, ingest with validation and quarantine, the model
registry and API keys; the operational tables optionally in PostgreSQL (``niaga.store.database``, docs/store.md).
A shared layer: capabilities read their data from it; it knows no capability."""

from niaga.store.warehouse import Store

__all__ = ["Store"]
