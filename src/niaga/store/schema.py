"""The warehouse's tables: what a row of each holds, how input columns map onto it, and the versioned
migrations that create and change them.

Every business table keeps, beside its own columns, the input's other columns (``extra``, JSON: nothing a
file held is lost), a hash of the row (``row_hash``: a row stored once is not stored again), where it came
from (``source_file`` and ``source_row``, the line in the file with header = 1) and when it was ingested, so
a figure can always be traced back to an input line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "text", "number", "integer", "timestamp", "label"
    required: bool = False
    aliases: tuple[str, ...] = ()
    minimum: float | None = None

    @property
    def sql(self) -> str:
        return {"text": "VARCHAR", "number": "DOUBLE", "integer": "BIGINT", "timestamp": "TIMESTAMP",
                "label": "VARCHAR"}[self.type]


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # a row whose key is already stored is a duplicate: not stored twice
    pii: tuple[str, ...] = field(default=())  # columns that may hold personal data: masked on ingest by policy

    @property
    def aliases(self) -> dict[str, tuple[str, ...]]:
        return {c.name: (c.name, *c.aliases) for c in self.columns}


def _c(name, type_="text", required=False, *aliases, minimum=None) -> Column:
    return Column(name, type_, required, tuple(aliases), minimum)


#: what the running system logs with each recommendation shown, click and order (``niaga.store.tracking``): the
#: response it came from, the recommender's source of the item, the experiment and arm, the list position and
#: an order's value. Added to ``events`` by migration 2.
EVENT_TRACKING_COLUMNS = (
    _c("request_id"), _c("source", "text", False, "recommendation_source"), _c("experiment"),
    _c("variant", "text", False, "arm"), _c("position", "integer", False, "rank", minimum=0),
    _c("value", "number", False, "revenue", "order_value", minimum=0))

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("customers", "one row per customer", (
        _c("customer_id", "text", True, "CustomerID", "Customer ID", "user_id", "member_number"),
        _c("name"), _c("email"), _c("phone", "text", False, "phone_number", "mobile"),
        _c("address"), _c("city", "text", False, "country", "region"),
        _c("signup_time", "timestamp", False, "signup", "created_at"),
        _c("age", "number"), _c("gender", "text", False, "sex")), key=("customer_id",),
        pii=("name", "email", "phone", "address")),
    Table("products", "one row per product", (
        _c("product_id", "text", True, "StockCode", "item_id", "id", "asin"),
        _c("title", "text", False, "Description", "name", "productDisplayName"),
        _c("category", "text", False, "masterCategory", "articleType"), _c("brand"),
        _c("price", "number", False, "UnitPrice", minimum=0)), key=("product_id",)),
    Table("orders", "one row per order line (Online Retail invoices, basket lines)", (
        _c("order_id", "text", False, "InvoiceNo", "Invoice", "order"),
        _c("customer_id", "text", False, "CustomerID", "Customer ID", "user_id", "Member_number"),
        _c("product_id", "text", False, "StockCode", "itemDescription", "item_id"),
        _c("quantity", "number", False, "Quantity", "qty"),
        _c("price", "number", False, "UnitPrice", "Price"),
        _c("timestamp", "timestamp", True, "InvoiceDate", "Date", "order_date"),
        _c("country", "text", False, "Country")), key=()),
    Table("transactions", "one row per payment (fraud scoring)", (
        _c("transaction_id", "text", True, "TRANSACTION_ID", "tx_id", "order_id"),
        _c("timestamp", "timestamp", True, "TX_DATETIME", "purchase_time", "datetime", "event_time"),
        _c("customer_id", "text", True, "CUSTOMER_ID", "user_id", "card_id", "account_id"),
        _c("amount", "number", True, "TX_AMOUNT", "purchase_value", "value", minimum=0),
        _c("terminal_id", "text", False, "TERMINAL_ID", "merchant_id", "seller_id", "shop_id"),
        _c("label", "label", False, "TX_FRAUD", "is_fraud", "fraud", "class"),
        _c("device_id"), _c("ip_address", "number", False, "ip"), _c("source", "text", False, "channel"),
        _c("browser"), _c("signup_time", "timestamp")), key=("transaction_id",)),
    Table("reviews", "one row per product review", (
        _c("text", "text", True, "review", "Customer Review", "content", "ulasan"),
        _c("label", "label", False, "Emotion", "emotion", "sentiment", "Sentiment"),
        _c("rating", "number", False, "Customer Rating", "stars"),
        _c("product_id", "text", False, "product"), _c("category", "text", False, "Category"),
        _c("created_at", "timestamp", False, "date", "time")), key=(), pii=("text",)),
    Table("posts", "one row per social post or chat", (
        _c("post_id", "text", False, "id", "tweet_id"), _c("text", "text", True, "tweet", "content"),
        _c("label"), _c("activity"), _c("created_at", "timestamp", False, "date", "time")), key=(), pii=("text",)),
    Table("events", "one row per user-item interaction (views, carts, purchases) for recommendations", (
        _c("user_id", "text", True, "customer_id", "session_id", "reviewerID"),
        _c("item_id", "text", True, "product_id", "asin", "itemId"),
        _c("event", "text", False, "type", "event_type"),
        _c("timestamp", "timestamp", False, "time", "unixReviewTime", "eventdate"),
        *EVENT_TRACKING_COLUMNS), key=()),
)}

#: Each migration is applied once, in order; the store's ``schema_version`` records how far it got.
#: Never edit a migration that has shipped: add the next one.
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("business tables, quarantine, ingested files, model registry, API keys", [
        *[f"""CREATE TABLE IF NOT EXISTS {t.name} ({', '.join(f'"{c.name}" {c.sql}' for c in t.columns)},
              extra VARCHAR, row_hash VARCHAR, source_file VARCHAR, source_row BIGINT,
              ingested_at TIMESTAMP DEFAULT current_timestamp)"""
          for t in TABLES.values()],
        """CREATE TABLE IF NOT EXISTS quarantine (table_name VARCHAR, source_file VARCHAR, source_row BIGINT,
              field VARCHAR, reason VARCHAR, raw VARCHAR, ingested_at TIMESTAMP DEFAULT current_timestamp)""",
        """CREATE TABLE IF NOT EXISTS ingested_files (sha256 VARCHAR, table_name VARCHAR, source_file VARCHAR,
              rows_stored BIGINT, rows_quarantined BIGINT, rows_duplicate BIGINT,
              ingested_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (sha256, table_name))""",
        """CREATE TABLE IF NOT EXISTS models (capability VARCHAR, name VARCHAR, path VARCHAR, task VARCHAR,
              metrics VARCHAR, registered_at TIMESTAMP DEFAULT current_timestamp, active BOOLEAN DEFAULT TRUE)""",
        """CREATE TABLE IF NOT EXISTS api_keys (key_id VARCHAR PRIMARY KEY, name VARCHAR, salt VARCHAR,
              hash VARCHAR, created_at TIMESTAMP DEFAULT current_timestamp, revoked_at TIMESTAMP)""",
    ]),
    ("events: recommendations shown, clicks and orders with request id, source, experiment arm, position, value", [
        f'ALTER TABLE events ADD COLUMN IF NOT EXISTS "{c.name}" {c.sql}' for c in EVENT_TRACKING_COLUMNS]),
]

#: The tables a running system writes while it serves (plus the fraud decision log, ``niaga.fraud.log``):
#: with ``store = "postgresql://…"`` they live in PostgreSQL, which many processes on many machines share;
#: the other business tables stay in the DuckDB warehouse, the analytics engine. ``ingested_files`` is kept
#: beside each table's rows (a file lands with its bookkeeping or not at all).
OPERATIONAL = ("api_keys", "models", "quarantine", "events")


def _postgres(sql: str) -> str:
    return sql.replace(" DOUBLE", " DOUBLE PRECISION")  # PostgreSQL's name for DuckDB's DOUBLE


#: The operational tables' migrations on PostgreSQL (its own ``schema_version``), as ``MIGRATIONS`` is to DuckDB.
POSTGRES_MIGRATIONS: list[tuple[str, list[str]]] = [
    ("operational tables: events, quarantine, ingested files, model registry, API keys", [
        *[_postgres(statement) for statement in MIGRATIONS[0][1]
          if any(f"EXISTS {name} " in statement for name in (*OPERATIONAL, "ingested_files"))],
        "CREATE INDEX IF NOT EXISTS events_row_hash ON events (row_hash)",  # ingest's duplicate check
        "CREATE INDEX IF NOT EXISTS models_capability_name ON models (capability, name)"]),
]
