"""Order and invoice logs (Online Retail, the warehouse's ``orders``): their columns, whatever they are called,
and which lines are purchases. Shared by the customer segments and the demand forecasts, so that both leave
out the same cancellations, returns and bad lines, each counted under its reason.

A line is excluded under the first reason that applies, in the order below; a missing customer id only
excludes a line when the caller needs customers (a segmentation does; a demand forecast does not: an
anonymous sale is still demand).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from niaga.data.columns import ids_as_text, match_columns, require_fields
from niaga.data.io import STORE_PREFIX, read_table
from niaga.errors import DataError

# Column names accepted for each field, compared lower-case with spaces, dashes and underscores removed:
# Online Retail (InvoiceNo, UnitPrice, CustomerID, StockCode), Online Retail II (Invoice, Price, Customer ID),
# the warehouse's orders table (order_id, product_id, timestamp), snake case.
COLUMN_ALIASES = {
    "invoice": ["invoiceno", "invoice", "invoiceid", "orderid", "order", "transactionid"],
    "date": ["invoicedate", "date", "orderdate", "timestamp", "datetime", "transactiondate"],
    "customer_id": ["customerid", "customer", "clientid", "userid"],
    "quantity": ["quantity", "qty"],
    "price": ["unitprice", "price"],
    "country": ["country", "location", "city", "region"],
    "item": ["stockcode", "item", "itemid", "productid", "sku", "product", "itemdescription"],
    "category": ["category", "productcategory", "itemcategory"],
}
REQUIRED = ("invoice", "date", "customer_id", "quantity", "price")

UNREADABLE = "unreadable date, quantity or price"
NO_CUSTOMER = "missing customer id"
NO_ITEM = "missing item"
CANCELLATION = "cancellation (invoice starting with C)"
RETURN = "return (zero or negative quantity)"
BAD_PRICE = "zero or negative price"
DUPLICATE = "exact duplicate line"
AFTER_CUTOFF = "after the cut-off date"


def read_log(path: str | Path) -> pd.DataFrame:
    """A transaction log as read from CSV / TSV / parquet / JSON lines / ``store:TABLE``, or Excel (every sheet)."""
    if not str(path).startswith(STORE_PREFIX) and Path(path).suffix.lower() in (".xlsx", ".xls"):
        path = Path(path)
        if not path.exists():
            raise DataError(f"{path}: file not found")
        try:
            sheets = pd.read_excel(path, sheet_name=None)
        except ImportError as exc:
            raise DataError(f"{path}: reading Excel needs openpyxl (pip install openpyxl), or save it as CSV") from exc
        return pd.concat(sheets.values(), ignore_index=True)
    return read_table(path)


def resolve_columns(frame: pd.DataFrame, source: str | Path, required: Iterable[str] = REQUIRED) -> dict[str, str]:
    """The frame's column for each field (by alias); DataError naming what is missing and what is there."""
    found = match_columns(frame.columns, COLUMN_ALIASES)
    require_fields(found, tuple(required), COLUMN_ALIASES, frame.columns, source, what="transaction log")
    return found


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates without a time zone; a column that mixes formats is parsed cell by cell."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
    parsed = pd.to_datetime(values, errors="coerce")
    if parsed.isna().mean() > 0.01:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    return parsed


def classify_lines(raw: pd.DataFrame, source: str | Path = "transactions", as_of: pd.Timestamp | None = None,
                   required: Iterable[str] = REQUIRED) -> tuple[pd.DataFrame, pd.Series]:
    """The log's fields under their field names (invoice, date, quantity, price, and customer_id, country,
    item, category where present) and, per line, the reason it is left out (NA for a purchase line).

    ``required``: the fields the caller needs; a line missing one of them is excluded (customer id: under
    ``NO_CUSTOMER``, item: under ``NO_ITEM``). ``as_of``: lines after that day are excluded too.
    """
    required = tuple(required)
    columns = resolve_columns(raw, source, required)
    frame = pd.DataFrame({
        "invoice": ids_as_text(raw[columns["invoice"]]),
        "date": parse_dates(raw[columns["date"]]),
        "quantity": pd.to_numeric(raw[columns["quantity"]], errors="coerce"),
        "price": pd.to_numeric(raw[columns["price"]], errors="coerce"),
    }, index=raw.index)
    for name in ("customer_id", "item"):
        frame[name] = (ids_as_text(raw[columns[name]]) if name in columns
                       else pd.Series(pd.NA, index=raw.index, dtype="string"))
    for name in ("country", "category"):
        frame[name] = (raw[columns[name]].astype("string") if name in columns
                       else pd.Series(pd.NA, index=raw.index, dtype="string"))
    reason = pd.Series(pd.NA, index=frame.index, dtype="string")

    def mark(mask: pd.Series, why: str) -> None:
        reason[mask & reason.isna()] = why

    mark(frame["date"].isna() | frame["quantity"].isna() | frame["price"].isna() | frame["invoice"].isna(), UNREADABLE)
    if "customer_id" in required:
        mark(frame["customer_id"].isna(), NO_CUSTOMER)
    if "item" in required:
        mark(frame["item"].isna(), NO_ITEM)
    cancelled = frame["invoice"].str.upper().str.startswith("C").fillna(False).astype(bool)
    mark(cancelled, CANCELLATION)
    mark(frame["quantity"] <= 0, RETURN)
    mark(frame["price"] <= 0, BAD_PRICE)
    mark(pd.util.hash_pandas_object(raw, index=False).duplicated(), DUPLICATE)  # 64-bit row hashes: 2x faster
    if as_of is not None:
        mark(frame["date"] >= as_of.normalize() + pd.Timedelta(days=1), AFTER_CUTOFF)
    return frame, reason


def exclusion_counts(reason: pd.Series) -> dict[str, int]:
    return {why: int(n) for why, n in reason.value_counts().items()}
