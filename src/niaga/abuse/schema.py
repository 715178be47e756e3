"""The marketplace tables of docs/marketplace-events.md (shared/docs), read from a folder by their names.

Columns are found by name, in any order; extra columns are kept. A missing optional table or column lowers
what can be detected and is named in the summary; a missing required column makes its table unusable (named
too). A row whose required field is empty or cannot be read is kept, flagged in ``_problem`` with its line
number (header = 1), and left out of the detection; an unreadable optional value becomes empty and is noted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from niaga.data.io import read_table
from niaga.errors import DataError

#: table → (required columns, optional columns)
SCHEMA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accounts": (("account_id", "created_at"),
                 ("email", "phone", "name", "city", "signup_device_id", "signup_ip", "referred_by")),
    "sellers": (("seller_id", "created_at"), ("city", "category", "account_id")),
    "logins": (("account_id", "time", "success"), ("ip", "device_id", "user_agent", "otp")),
    "account_changes": (("account_id", "time", "field"), ("device_id", "ip")),
    "sessions": (("account_id", "start"), ("events", "seconds", "device_id", "ip")),
    "orders": (("order_id", "account_id", "seller_id", "time", "amount"),
               ("payment_method", "payment_account", "promo_code", "voucher_amount", "shipping_address", "device_id",
                "ip", "category", "status", "delivered_at")),
    "refunds": (("refund_id", "order_id", "time", "amount"), ("reason", "evidence")),
    "reviews": (("review_id", "order_id", "time", "rating"), ("text",)),
    "labels": (("entity_type", "entity_id", "typology"), ("ring_id", "time")),
}
TABLES = tuple(t for t in SCHEMA if t != "labels")
TIMES = {"created_at", "time", "start", "delivered_at"}
BOOLS = {"success", "otp", "evidence"}
NUMBERS = {"amount", "voucher_amount", "events", "seconds", "rating"}
TYPOLOGIES = ("account_takeover", "promo_abuse", "refund_abuse", "brushing", "fake_seller")
ACCOUNT_TYPOLOGIES = ("account_takeover", "promo_abuse", "refund_abuse")
SELLER_TYPOLOGIES = ("brushing", "fake_seller")
SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv", ".xlsx", ".jsonl", ".ndjson", ".jsonl.gz")
TRUE = {"true", "1", "yes", "y", "t", "ya"}
FALSE = {"false", "0", "no", "n", "f", "tidak"}
#: what each optional part feeds, said in the summary when it is missing
NEEDED_FOR = {
    "logins": "account takeover (credential stuffing, new device logins)",
    "account_changes": "account takeover (change-then-order sequences)",
    "sessions": "account takeover (click speed)",
    "refunds": "refund abuse and fake sellers (claims)",
    "reviews": "brushing (5-star generic reviews)",
    "sellers": "fake sellers (seller age)",
    "accounts": "promo abuse (sign-up bursts) and account age",
    "orders.payment_account": "the entity graph's payment links",
    "orders.shipping_address": "the entity graph's address links and new-address orders",
    "orders.device_id": "the entity graph's device links",
    "orders.voucher_amount": "first-order voucher rules",
    "orders.delivered_at": "undelivered orders (fake sellers) and claim speed (refund abuse)",
    "refunds.evidence": "claims without evidence",
    "refunds.reason": "not-received claims",
    "logins.device_id": "new-device logins",
    "logins.ip": "credential-stuffing IPs",
}


@dataclass
class Marketplace:
    """The tables of one export, parsed; what was missing; the malformed rows."""

    tables: dict[str, pd.DataFrame]
    sources: dict[str, str] = field(default_factory=dict)
    missing_tables: list[str] = field(default_factory=list)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> pd.DataFrame:
        """The usable rows of a table (no ``_problem``), or an empty frame with its columns."""
        frame = self.tables.get(name)
        if frame is None:
            required, optional = SCHEMA[name]
            return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c in TIMES else object)
                                 for c in (*required, *optional)})
        return frame[frame["_problem"].isna()]

    def has(self, name: str, column: str | None = None) -> bool:
        if name not in self.tables:
            return False
        return column is None or column not in self.missing_columns.get(name, [])

    def malformed(self) -> pd.DataFrame:
        """table, row (line number, header = 1), problem: every row left out or with an unreadable value."""
        parts = []
        for name, frame in self.tables.items():
            bad = frame[frame["_problem"].notna() | frame["_note"].notna()]
            if len(bad):
                parts.append(pd.DataFrame({"table": name, "row": bad["_row"].to_numpy(),
                                           "problem": bad["_problem"].fillna(bad["_note"]).to_numpy(),
                                           "left_out": bad["_problem"].notna().to_numpy()}))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["table", "row", "problem",
                                                                                       "left_out"])

    def summary(self) -> list[str]:
        lines = [f"{name}: {len(frame):,} rows from {self.sources.get(name, '?')}"
                 + (f", {int(frame['_problem'].notna().sum()):,} malformed (kept, left out)"
                    if frame["_problem"].notna().any() else "")
                 for name, frame in self.tables.items()]
        for name in self.missing_tables:
            lines.append(f"{name}: missing; lowers {NEEDED_FOR.get(name, 'nothing essential')}")
        for name, reason in self.unusable.items():
            lines.append(f"{name}: unusable ({reason}); lowers {NEEDED_FOR.get(name, 'detection')}")
        for name, columns in self.missing_columns.items():
            for column in columns:
                key = f"{name}.{column}"
                if key in NEEDED_FOR:
                    lines.append(f"{key}: missing; lowers {NEEDED_FOR[key]}")
        return lines + self.notes


def find_file(directory: Path, name: str) -> Path | None:
    for suffix in SUFFIXES:
        for candidate in (directory / f"{name}{suffix}", directory / f"{name.upper()}{suffix}"):
            if candidate.is_file():
                return candidate
    return None


def parse_times(values: pd.Series) -> pd.Series:
    """ISO date-times (or datetimes already) as naive local times; what cannot be read becomes NaT."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("Asia/Jakarta").dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    # an offset ("+07:00", "Z") is honoured, a naive time is taken as local (WIB) as the contract says
    has_zone = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True, na=False)
    local = pd.to_datetime(text.where(~has_zone), errors="coerce", format="mixed")
    zoned = parsed.dt.tz_convert("Asia/Jakarta").dt.tz_localize(None)
    return local.where(~has_zone, zoned).astype("datetime64[ns]")


def parse_bools(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(TRUE).fillna(False).to_numpy(bool)] = True
    out[text.isin(FALSE).fillna(False).to_numpy(bool)] = False
    return out


def parse_ids(values: pd.Series) -> pd.Series:
    """Ids as text: whole numbers without ".0", blanks as missing."""
    if pd.api.types.is_float_dtype(values):
        whole = values.notna() & (values % 1 == 0)
        text = values.astype("string").where(~whole, values.where(whole).astype("Int64").astype("string"))
    else:
        text = values.astype("string").str.strip()
    text = text.where(text != "")
    return pd.Series(text.to_numpy(object, na_value=None), index=values.index, dtype=object)


def parse_table(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The table with typed columns, ``_row``, ``_problem`` (required field missing or unreadable) and ``_note``
    (an optional value unreadable); returns the optional columns that are missing too."""
    required, optional = SCHEMA[name]
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    lower = {c.lower(): c for c in frame.columns}
    frame = frame.rename(columns={lower[c]: c for c in (*required, *optional) if c not in frame.columns and c in lower})
    missing_required = [c for c in required if c not in frame.columns]
    if missing_required:
        raise DataError(f"missing required column(s) {', '.join(missing_required)}; columns present: "
                        f"{', '.join(map(str, frame.columns[:20]))}")
    missing_optional = [c for c in optional if c not in frame.columns]
    problem = pd.Series(None, index=frame.index, dtype=object)
    note = pd.Series(None, index=frame.index, dtype=object)
    for column in (*required, *[c for c in optional if c in frame.columns]):
        raw = frame[column]
        if column in TIMES:
            value = parse_times(raw)
            bad = value.isna() & raw.notna() & (raw.astype("string").str.strip() != "").fillna(False)
            what = "not a date-time"
        elif column in BOOLS:
            value = parse_bools(raw)
            bad = value.isna() & raw.notna()
            what = "not true / false"
        elif column in NUMBERS:
            value = pd.to_numeric(raw, errors="coerce")
            bad = value.isna() & raw.notna() & (raw.astype("string").str.strip() != "").fillna(False)
            what = "not a number"
        else:
            value = parse_ids(raw)
            bad = pd.Series(False, index=frame.index)
            what = ""
        frame[column] = value
        if column in required:
            empty = value.isna()
            reason = np.where(bad, f"{column}: {what}", f"{column}: empty")
            problem = problem.where(~empty | problem.notna(), pd.Series(reason, index=frame.index))
        elif bad.any():
            note = note.where(~bad | note.notna(), f"{column}: {what} (read as empty)")
    frame["_row"] = np.arange(2, len(frame) + 2)
    frame["_problem"] = problem
    frame["_note"] = note
    return frame, missing_optional


def load(directory, tables: tuple[str, ...] = (*TABLES, "labels")) -> Marketplace:
    """Read every table of the contract that is in ``directory``; never fails on a bad row or a missing table
    (only when the folder is missing or holds no orders)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: not a folder (expected one file per table: orders.csv, logins.parquet ...)")
    market = Marketplace(tables={})
    for name in tables:
        path = find_file(directory, name)
        if path is None:
            if name != "labels":
                market.missing_tables.append(name)
            continue
        try:
            frame, missing = parse_table(name, read_table(path))
        except DataError as exc:
            market.unusable[name] = str(exc).replace(f"{path}: ", "")
            continue
        market.tables[name] = frame
        market.sources[name] = str(path)
        if missing:
            market.missing_columns[name] = missing
    if "orders" not in market.tables:
        reason = market.unusable.get("orders", "no orders.csv / orders.parquet / ... there")
        raise DataError(f"{directory}: the orders table is required ({reason})")
    return market


def from_frames(frames: dict[str, pd.DataFrame]) -> Marketplace:
    """A Marketplace from frames in memory (the simulator's, a test's), parsed like files."""
    market = Marketplace(tables={})
    for name, frame in frames.items():
        if name not in SCHEMA:
            continue
        parsed, missing = parse_table(name, frame)
        market.tables[name] = parsed
        market.sources[name] = "memory"
        if missing:
            market.missing_columns[name] = missing
    market.missing_tables = [t for t in TABLES if t not in market.tables]
    return market
