"""Finding a table's columns by name: the same field is spelled many ways (``InvoiceNo``, ``Invoice``,
``invoice_no``; ``CustomerID``, ``Customer ID``). Names compare lower-case with spaces, dashes and
underscores removed; the first alias present wins."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from niaga.errors import DataError


def column_key(name) -> str:
    return re.sub(r"[\s_\-]+", "", str(name).lower())


def match_columns(columns: Iterable, aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """field → the column holding it, for the fields present (first alias that matches)."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(column_key(column), column)
    found = {}
    for field, names in aliases.items():
        match = next((by_key[column_key(n)] for n in names if column_key(n) in by_key), None)
        if match is not None:
            found[field] = match
    return found


def require_fields(found: Mapping[str, str], required: Iterable[str], aliases: Mapping[str, Iterable[str]],
                   columns: Iterable, source: str | Path, what: str = "table") -> None:
    """DataError naming each missing field with the names it may have, and the columns present."""
    missing = [f for f in required if f not in found]
    if missing:
        expected = "; ".join(f"{f}: one of {', '.join(list(aliases[f])[:4])}" for f in missing)
        raise DataError(f"{source}: not a {what}, missing {expected}; columns present: "
                        f"{', '.join(map(str, list(columns)[:20]))}")


def ids_as_text(values: pd.Series) -> pd.Series:
    """Ids as text: 13085.0 (a number column with blanks) becomes "13085"; blank becomes NA."""
    if pd.api.types.is_numeric_dtype(values):
        numbers = pd.to_numeric(values, errors="coerce")
        whole = numbers.dropna().eq(numbers.dropna().round()).all()
        text = numbers.astype("Int64").astype("string") if whole else numbers.astype("string")
    else:
        text = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    return text.replace("", pd.NA)


# Online Retail's codes that are not products (the dataset README: filter them before recommending or ranking
# products): postage, fees, adjustments, tests, gift vouchers.
NON_PRODUCT_CODES = frozenset({"POST", "DOT", "D", "M", "C2", "CRUK", "PADS", "S", "B", "BANK CHARGES",
                               "AMAZONFEE", "ADJUST", "ADJUST2", "TEST001", "TEST002"})
NON_PRODUCT_PREFIXES = ("gift_0001",)
