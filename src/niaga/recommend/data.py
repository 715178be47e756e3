"""Interaction data for recommenders: the three input formats, read into one shape.

Every reader returns :class:`Interactions`: a :class:`Catalogue` (item ids, display names, attributes) and
:class:`Histories` (each user's items in time order, with times and basket numbers when the data has them).
Ids are text throughout, so "12346", "85123A" and "whole milk" are all item or user ids.

Formats:

- ``sequences``: one user per line, ``user item item ...`` oldest first (the S3-Rec Amazon files), or a
  table with user and item columns (and a time column, else row order is time order).
- ``invoices``: invoice lines as in Online Retail (InvoiceNo, StockCode, Description, Quantity, InvoiceDate,
  UnitPrice, CustomerID) or Online Retail II (Invoice, Price, Customer ID). Cancellations, returns,
  non-positive prices, lines without a customer and non-product codes (postage, fees, adjustments) are
  counted and left out; one invoice is one basket.
- ``baskets``: one basket per line, items comma-separated (arules Groceries), or a table with a member /
  customer column, a date and an item column (Kaggle Groceries), where one member's items on one day are
  one basket.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from niaga.data.columns import NON_PRODUCT_CODES, NON_PRODUCT_PREFIXES, ids_as_text, match_columns, require_fields
from niaga.data.io import STORE_PREFIX, read_table
from niaga.errors import DataError
from niaga.recommend import FORMATS


# Column names accepted for each field, compared lower-case with spaces, dashes and underscores removed.
# Online Retail (InvoiceNo, UnitPrice, CustomerID), Online Retail II (Invoice, Price, Customer ID), Kaggle
# Groceries (Member_number, Date, itemDescription) and plain snake case.
COLUMN_ALIASES = {
    "invoice": ["invoiceno", "invoice", "invoiceid", "orderid", "order", "transactionid", "basket", "basketid"],
    "user": ["customerid", "customer", "userid", "user", "membernumber", "member", "memberid", "clientid",
             "reviewerid", "visitorid", "sessionid"],
    "item": ["stockcode", "itemid", "item", "productid", "product", "sku", "asin", "itemdescription"],
    "name": ["description", "productname", "itemname", "name", "title"],
    "date": ["invoicedate", "date", "timestamp", "time", "datetime", "orderdate", "unixreviewtime"],
    "quantity": ["quantity", "qty"],
    "price": ["unitprice", "price"],
}

NO_USER = "missing customer id"
CANCELLATION = "cancellation (invoice starting with C)"
RETURN = "return (zero or negative quantity)"
BAD_PRICE = "zero or negative price"
NON_PRODUCT = "not a product (postage, fee, adjustment)"
UNREADABLE = "unreadable item, date, quantity or price"


def _find_columns(columns, fields) -> dict[str, str]:
    """field -> column for ``fields`` present among ``columns`` (the shared matcher of ``niaga.data.columns``)."""
    return match_columns(columns, {name: COLUMN_ALIASES[name] for name in fields})


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates of any common form; day-first when the data says so (21-07-2015), Unix seconds when numeric."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values, unit="s", errors="coerce")
    text = values.astype("string").str.strip()
    parts = text.str.extract(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
    if parts.notna().all(axis=1).mean() > 0.9:  # dd-mm-yyyy or mm-dd-yyyy: which one, from the values
        first, second = pd.to_numeric(parts[0], errors="coerce"), pd.to_numeric(parts[1], errors="coerce")
        dayfirst = bool((first > 12).any()) or not bool((second > 12).any())
        return pd.to_datetime(text, errors="coerce", dayfirst=dayfirst, format="mixed")
    parsed = pd.to_datetime(text, errors="coerce")
    if parsed.isna().mean() > 0.01:
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return parsed


# -- the shapes ----------------------------------------------------------------------------------------

@dataclass
class Histories:
    """Users' items in time order: user ``u``'s items are ``items[indptr[u]:indptr[u + 1]]`` (catalogue rows).

    ``times`` (seconds since the epoch) and ``baskets`` (one number per basket, unique across users and
    increasing in time within a user) are per interaction, None when the data has none. ``segments``: a context label per user (the
    customer segment), "" when unknown.
    """

    users: np.ndarray
    indptr: np.ndarray
    items: np.ndarray
    times: np.ndarray | None = None
    baskets: np.ndarray | None = None
    segments: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.users)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.indptr)

    def items_of(self, u: int) -> np.ndarray:
        return self.items[self.indptr[u]:self.indptr[u + 1]]

    def row_of(self) -> np.ndarray:
        """The user row of every interaction."""
        return np.repeat(np.arange(len(self.users)), self.lengths)

    def take(self, rows) -> "Histories":
        """These users (in this order) with their whole histories."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        index = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)]) if len(rows) else np.zeros(0, np.int64)
        return self._rebuild(rows, index.astype(np.int64), ends - starts)

    def keep(self, mask: np.ndarray) -> "Histories":
        """Every user, with only the interactions where ``mask`` is true (a user may be left with none)."""
        mask = np.asarray(mask, dtype=bool)
        counts = np.add.reduceat(mask.astype(np.int64), self.indptr[:-1]) if len(self.items) else \
            np.zeros(len(self.users), np.int64)
        counts[self.lengths == 0] = 0  # reduceat repeats the next value at empty rows
        return self._rebuild(np.arange(len(self.users)), np.flatnonzero(mask), counts)

    def _rebuild(self, rows, index, counts) -> "Histories":
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        return Histories(users=self.users[rows], indptr=indptr, items=self.items[index], times=pick(self.times),
                         baskets=pick(self.baskets),
                         segments=None if self.segments is None else self.segments[rows])

    def matrix(self, n_items: int, binary: bool = False) -> sp.csr_matrix:
        """users × items counts (or 1/0), float32."""
        data = np.ones(len(self.items), dtype=np.float32)
        # copies: sum_duplicates sorts the index arrays in place, which would reorder the histories
        m = sp.csr_matrix((data, self.items.copy(), self.indptr.copy()), shape=(len(self.users), n_items))
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        return m

    @classmethod
    def from_lists(cls, users, item_lists, times=None, segments=None) -> "Histories":
        """From a list of item-row lists (one per user), e.g. for a query."""
        lengths = np.fromiter((len(x) for x in item_lists), dtype=np.int64, count=len(item_lists))
        indptr = np.zeros(len(item_lists) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        items = np.concatenate([np.asarray(x, dtype=np.int32) for x in item_lists]) if len(item_lists) else \
            np.zeros(0, np.int32)
        flat_times = None if times is None else np.concatenate([np.asarray(t, dtype=np.float64) for t in times])
        return cls(users=np.asarray(users, dtype=str), indptr=indptr, items=items.astype(np.int32),
                   times=flat_times, segments=None if segments is None else np.asarray(segments, dtype=str))


@dataclass
class Catalogue:
    """The items: text ids, display names ("" when unknown), and optional attribute rows (items × attributes)."""

    ids: np.ndarray
    names: np.ndarray | None = None
    attributes: sp.csr_matrix | None = None
    attribute_source: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    def label(self, row: int) -> str:
        name = "" if self.names is None else str(self.names[row])
        return f"{self.ids[row]} ({name})" if name else str(self.ids[row])


@dataclass
class Interactions:
    catalogue: Catalogue
    histories: Histories
    format: str
    source: str = ""
    excluded: dict = field(default_factory=dict)  # reason -> lines left out
    lines: int = 0

    @property
    def n_items(self) -> int:
        return len(self.catalogue)

    def fingerprint_columns(self):
        return (self.histories.users, np.diff(self.histories.indptr), self.catalogue.ids[self.histories.items])


def _build(users: pd.Series, items: pd.Series, order: pd.Series | None, times: pd.Series | None,
           baskets: pd.Series | None, names: pd.Series | None, fmt: str, source, excluded=None,
           lines: int = 0) -> Interactions:
    """Interactions from one row per interaction (text user and item ids), sorted by time within each user."""
    frame = pd.DataFrame({"user": users.to_numpy(dtype=object), "item": items.to_numpy(dtype=object)})
    frame["order"] = np.arange(len(frame)) if order is None else order.to_numpy()
    if times is not None:
        frame["time"] = times.to_numpy()
    if baskets is not None:
        frame["basket"] = baskets.to_numpy(dtype=object)
    if frame.empty:
        raise DataError(f"{source}: no interaction left to learn from")
    item_ids, item_rows = np.unique(frame["item"].to_numpy(dtype=str), return_inverse=True)
    user_ids, user_rows = np.unique(frame["user"].to_numpy(dtype=str), return_inverse=True)
    frame["item_row"], frame["user_row"] = item_rows, user_rows
    keys = ["user_row"] + (["time"] if times is not None else []) + ["order"]
    frame = frame.sort_values(keys, kind="stable")
    indptr = np.zeros(len(user_ids) + 1, dtype=np.int64)
    np.cumsum(np.bincount(frame["user_row"].to_numpy(), minlength=len(user_ids)), out=indptr[1:])
    time_values = None
    if times is not None:
        # seconds since the epoch whatever the datetime resolution (pandas may keep s, ms, us or ns)
        time_values = ((pd.to_datetime(frame["time"]) - pd.Timestamp(0)) / pd.Timedelta(seconds=1)).to_numpy(np.float64)
    basket_values = None
    if baskets is not None:  # basket numbers increasing within a user in time order
        first_seen = frame.groupby(["user_row", "basket"], sort=False).ngroup()
        basket_values = first_seen.to_numpy(dtype=np.int64)
    display = None
    if names is not None:
        named = pd.DataFrame({"item": items.to_numpy(dtype=str), "name": names.astype("string").str.strip().to_numpy()}).dropna()
        common = named.groupby("item")["name"].agg(lambda s: s.value_counts().index[0]) if len(named) else pd.Series()
        display = common.reindex(item_ids).fillna("").astype(str).to_numpy()
    histories = Histories(users=user_ids.astype(str), indptr=indptr,
                          items=frame["item_row"].to_numpy(dtype=np.int32), times=time_values, baskets=basket_values)
    return Interactions(Catalogue(item_ids.astype(str), display), histories, fmt, str(source), excluded or {},
                        lines or len(frame))


# -- format detection --------------------------------------------------------------------------------------

def _first_lines(path: Path, n: int = 20) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            return [line.rstrip("\r\n") for _, line in zip(range(n), fh) if line.strip()]
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def detect_format(path: str | Path) -> str:
    """``sequences``, ``invoices`` or ``baskets`` from the file's first lines and column names."""
    path = Path(path)
    in_store = str(path).startswith(STORE_PREFIX)
    if not in_store and not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a file")
    suffix = path.name.lower().removesuffix(".gz")
    if in_store or suffix.endswith((".parquet", ".jsonl", ".ndjson", ".xlsx", ".xls")):
        columns = _columns(path)
    else:
        lines = _first_lines(path)
        if not lines:
            raise DataError(f"{path}: is empty")
        if all(re.fullmatch(r"\s*\w+(\s+\w+)+\s*", line) and len(line.split()) >= 2 and
               all(t.isdigit() for t in line.split()) for line in lines):
            return "sequences"
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        delimiter = max(counts, key=counts.get)
        columns = next(csv.reader([lines[0]], delimiter=delimiter))
    found = _find_columns(columns, COLUMN_ALIASES)
    if "item" in found and "invoice" in found:
        return "invoices"
    if "item" in found and "user" in found:
        return "baskets" if "date" in found else "sequences"
    if "item" not in found and "user" not in found:
        return "baskets"  # no header we know: one basket per line
    raise DataError(f"{path}: cannot tell the format from its columns ({', '.join(map(str, columns[:20]))}); "
                    "give --format sequences|invoices|baskets and a table with user and item columns "
                    "(e.g. CustomerID, StockCode)")


def _read(path: Path) -> pd.DataFrame:
    return read_table(path)  # CSV delimiter and encoding are found by read_table


def _columns(path: Path) -> list:
    """A table's column names without reading its rows (Parquet schema; the header of anything else)."""
    if path.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure is an unreadable file
            raise DataError(f"{path}: cannot be read as a table ({exc})") from exc
    return list(_read(path).columns)


# -- readers -----------------------------------------------------------------------------------------------

def read_sequences(path: str | Path) -> Interactions:
    path = Path(path)
    lines = _first_lines(path, 3)
    if lines and all(all(t.isdigit() for t in line.split()) and len(line.split()) >= 2 for line in lines):
        users, items, orders = [], [], []
        with open(path, encoding="utf-8-sig") as fh:
            for number, line in enumerate(fh, start=1):
                tokens = line.split()
                if not tokens:
                    continue
                if len(tokens) < 2:
                    raise DataError(f"{path}: line {number} has a user but no item")
                users += [tokens[0]] * (len(tokens) - 1)
                items += tokens[1:]
                orders += range(len(tokens) - 1)
        frame = pd.DataFrame({"user": users, "item": items, "order": orders})
        frame["order"] = np.arange(len(frame))
        return _build(frame["user"], frame["item"], frame["order"], None, None, None, "sequences", path)
    table = _read(path)
    found = _find_columns(table.columns, ("user", "item", "date", "name"))
    missing = [f for f in ("user", "item") if f not in found]
    if missing:
        raise DataError(f"{path}: not an interaction table, missing {' and '.join(missing)} column "
                        f"(e.g. {', '.join(COLUMN_ALIASES[missing[0]][:4])}); columns present: "
                        f"{', '.join(map(str, table.columns[:20]))}")
    users, items = ids_as_text(table[found["user"]]), ids_as_text(table[found["item"]])
    times = parse_dates(table[found["date"]]) if "date" in found else None
    keep = users.notna() & items.notna() & (times.notna() if times is not None else True)
    excluded = {UNREADABLE: int((~keep).sum())} if (~keep).any() else {}
    names = table.loc[keep, found["name"]] if "name" in found else None
    return _build(users[keep], items[keep], None, times[keep] if times is not None else None, None, names,
                  "sequences", path, excluded, len(table))


def read_invoices(path: str | Path) -> Interactions:
    """Invoice lines (Online Retail or Online Retail II naming) as baskets of customers; see the module doc."""
    path = Path(path)
    raw = _read(path)
    found = _find_columns(raw.columns, ("invoice", "user", "item", "name", "date", "quantity", "price"))
    require_fields(found, ("invoice", "user", "item", "date"), COLUMN_ALIASES, raw.columns, path, "invoice table")
    invoice = ids_as_text(raw[found["invoice"]])
    user = ids_as_text(raw[found["user"]])
    item = raw[found["item"]].astype("string").str.strip().replace("", pd.NA)
    date = parse_dates(raw[found["date"]])
    quantity = pd.to_numeric(raw[found["quantity"]], errors="coerce") if "quantity" in found else \
        pd.Series(1, index=raw.index)
    price = pd.to_numeric(raw[found["price"]], errors="coerce") if "price" in found else pd.Series(1.0, index=raw.index)
    reason = pd.Series(pd.NA, index=raw.index, dtype="string")

    def mark(mask, why):
        reason[mask & reason.isna()] = why

    mark(item.isna() | date.isna() | quantity.isna() | price.isna() | invoice.isna(), UNREADABLE)
    mark(invoice.str.upper().str.startswith("C").fillna(False).astype(bool), CANCELLATION)
    mark(quantity <= 0, RETURN)
    mark(price <= 0, BAD_PRICE)
    mark(item.isin(NON_PRODUCT_CODES).fillna(False).astype(bool)
         | item.str.startswith(NON_PRODUCT_PREFIXES).fillna(False).astype(bool), NON_PRODUCT)
    mark(user.isna(), NO_USER)
    keep = reason.isna()
    excluded = {str(k): int(v) for k, v in reason.value_counts().items()}
    names = raw.loc[keep, found["name"]] if "name" in found else None
    return _build(user[keep], item[keep], None, date[keep], invoice[keep], names, "invoices", path, excluded, len(raw))


def read_baskets(path: str | Path) -> Interactions:
    """Baskets: one per line (comma-separated items, no header) or a member / date / item table."""
    path = Path(path)
    lines = _first_lines(path, 1)
    header = next(csv.reader(lines[:1])) if lines else []
    if path.name.lower().endswith((".parquet", ".jsonl", ".ndjson", ".xlsx", ".xls")) or \
            _find_columns(header, ("user", "item")).keys() >= {"item"}:
        table = _read(path)
        found = _find_columns(table.columns, ("user", "invoice", "item", "date", "name"))
        if "item" not in found or not ({"user", "invoice"} & found.keys()):
            raise DataError(f"{path}: not a basket table, needs an item column and a member or basket column; "
                            f"columns present: {', '.join(map(str, table.columns[:20]))}")
        user = ids_as_text(table[found.get("user", found.get("invoice"))])
        item = table[found["item"]].astype("string").str.strip().replace("", pd.NA)
        date = parse_dates(table[found["date"]]) if "date" in found else None
        basket_key = (ids_as_text(table[found["invoice"]]) if "invoice" in found
                      else date.dt.strftime("%Y-%m-%d") if date is not None else user)
        keep = user.notna() & item.notna() & (date.notna() if date is not None else True)
        excluded = {UNREADABLE: int((~keep).sum())} if (~keep).any() else {}
        return _build(user[keep], item[keep], None, date[keep] if date is not None else None,
                      basket_key[keep].astype(str), None, "baskets", path, excluded, len(table))
    users, items = [], []
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for number, row in enumerate(csv.reader(fh), start=1):
                row = [c.strip() for c in row if c.strip()]
                users += [f"basket-{number}"] * len(row)
                items += row
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot be read as baskets ({exc})") from exc
    users_s = pd.Series(users, dtype=object)
    return _build(users_s, pd.Series(items, dtype=object), None, None, users_s, None, "baskets", path,
                  lines=len(items))


READERS = {"sequences": read_sequences, "invoices": read_invoices, "baskets": read_baskets}


def read_interactions(path: str | Path, format: str | None = None, items: str | Path | None = None) -> Interactions:
    """Read ``path`` in ``format`` (detected when None) and attach item attributes (``items``, or the
    ``<name>_item2attributes.json`` beside an S3-Rec file)."""
    path = Path(path)
    if format is None:
        format = detect_format(path)
    elif format not in READERS:
        raise DataError(f"--format {format}: unknown; valid: {', '.join(FORMATS)}")
    elif not path.exists() and not str(path).startswith(STORE_PREFIX):
        raise DataError(f"{path}: file not found")
    interactions = READERS[format](path)
    if items is None:
        beside = path.with_name(f"{path.name.split('.')[0]}_item2attributes.json")
        items = beside if beside.exists() else None
    if items is not None:
        attach_item_attributes(interactions, items)
    return interactions


# -- item attributes --------------------------------------------------------------------------------------

def attach_item_attributes(interactions: Interactions, path: str | Path) -> None:
    """Item attributes from an S3-Rec ``item2attributes.json`` ({"item": [attr, ...]}) or a table with an item
    column and attribute columns (category, brand, ...; a text column such as name / description is kept as
    the item's name). Items that have attributes but no interactions join the catalogue (cold items)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: item attribute file not found")
    if path.name.lower().endswith(".json"):
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(mapping, dict):
            raise DataError(f"{path}: expected an object {{item: [attribute, ...]}}")
        pairs = [(str(item), f"attr:{a}") for item, attrs in mapping.items() for a in (attrs or [])]
        names = {}
        cold = [str(item) for item in mapping]
    else:
        table = _read(path)
        found = _find_columns(table.columns, ("item", "name"))
        if "item" not in found:
            raise DataError(f"{path}: item attribute table needs an item id column (e.g. item_id, StockCode); "
                            f"columns present: {', '.join(map(str, table.columns[:20]))}")
        ids = ids_as_text(table[found["item"]]).astype(str)
        pairs = []
        for column in table.columns:
            if column in found.values():
                continue
            values = table[column].astype("string")
            pairs += [(i, f"{column}:{v.strip().lower()}") for i, v in zip(ids, values) if isinstance(v, str) and v.strip()]
        names = dict(zip(ids, table[found["name"]].astype("string").fillna(""))) if "name" in found else {}
        cold = list(ids)
    catalogue = interactions.catalogue
    known = set(catalogue.ids.tolist())
    new = sorted({i for i in cold if i not in known})
    if new:  # cold items: in the catalogue, never interacted with; rows appended so history rows stay valid
        catalogue.ids = np.concatenate([catalogue.ids, np.asarray(new, dtype=str)])
        if catalogue.names is not None:
            catalogue.names = np.concatenate([catalogue.names, np.full(len(new), "", dtype=object)])
    row = {item: r for r, item in enumerate(catalogue.ids.tolist())}
    if names:
        display = catalogue.names if catalogue.names is not None else np.full(len(catalogue.ids), "", dtype=object)
        display = np.asarray(display, dtype=object)
        for item, name in names.items():
            if name and item in row and not display[row[item]]:
                display[row[item]] = name
        catalogue.names = display
    vocabulary = {a: j for j, a in enumerate(sorted({a for _, a in pairs}))}
    rows = np.fromiter((row[i] for i, _ in pairs), dtype=np.int64, count=len(pairs))
    cols = np.fromiter((vocabulary[a] for _, a in pairs), dtype=np.int64, count=len(pairs))
    matrix = sp.csr_matrix((np.ones(len(pairs), dtype=np.float32), (rows, cols)),
                           shape=(len(catalogue.ids), len(vocabulary)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    catalogue.attributes = matrix
    catalogue.attribute_source = str(path)


def read_segments(path: str | Path) -> dict[str, str]:
    """customer id -> segment from the segments.csv that ``niaga customers segment`` writes (or its directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / "segments.csv"
    table = read_table(path, dtype=str)
    found = match_columns(table.columns, {"user": ["customer_id", "user_id", "user", "customer"],
                                          "segment": ["segment"]})
    user = found.get("user")
    if user is None or "segment" not in found:
        raise DataError(f"{path}: a segments table needs customer_id and segment columns (as 'niaga customers "
                        f"segment' writes); columns present: {', '.join(map(str, table.columns[:20]))}")
    ids = ids_as_text(table[user])
    return {str(i): str(s) for i, s in zip(ids, table[found["segment"]]) if isinstance(i, str) and isinstance(s, str)}
