"""Loaders for the shared fraud datasets: the Fraud Detection Handbook simulation and the e-commerce purchases.

Both return the files' own columns; ``niaga.fraud.schema`` maps them onto one transaction schema.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from niaga.config import data_path
from niaga.data.io import read_table, require_columns

HANDBOOK = ("fraud", "fraud_detection_handbook_simulated")
ECOMMERCE = ("fraud", "ecommerce_fraud_data_partial")
IP_COUNTRY_COLUMNS = ["lower_bound_ip_address", "upper_bound_ip_address", "country"]


def handbook_files(months: list[str] | None = None) -> list[Path]:
    """The monthly transaction files (``2018-04`` ... ``2018-09``), all of them by default, in time order."""
    folder = data_path(*HANDBOOK)
    files = sorted(folder.glob("transactions_*.parquet"))
    if months is not None:
        files = [p for p in files if p.stem.removeprefix("transactions_") in months]
    return files


def load_handbook(months: list[str] | None = None) -> pd.DataFrame:
    """Handbook transactions (TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT, TX_FRAUD, ...)."""
    return pd.concat([read_table(p) for p in handbook_files(months)], ignore_index=True)


def load_handbook_reference_features(month: str = "2018-08") -> pd.DataFrame:
    """The book's own 14 engineered features for one month (only August ships), keyed by TRANSACTION_ID."""
    return read_table(data_path(*HANDBOOK, "features", f"features_{month}.parquet"))


def handbook_published_baselines() -> pd.DataFrame:
    return read_table(data_path(*HANDBOOK, "published_baselines.csv"))


def ecommerce_file() -> Path:
    return data_path(*ECOMMERCE, "fraud_data_first51689.parquet")


def load_ecommerce() -> pd.DataFrame:
    """E-commerce first purchases (user_id, signup_time, purchase_time, purchase_value, device_id, ..., class)."""
    return read_table(ecommerce_file())


def ip_country_file() -> Path:
    return data_path(*ECOMMERCE, "ip_address_to_country_partial.parquet")


def load_ip_countries(path: str | Path | None = None) -> pd.DataFrame:
    """IP ranges → country (sorted, non-overlapping), from ``path`` or the shared partial table."""
    path = Path(path) if path else ip_country_file()
    table = read_table(path)
    require_columns(table, IP_COUNTRY_COLUMNS, path)
    return table[IP_COUNTRY_COLUMNS].sort_values("lower_bound_ip_address", kind="stable").reset_index(drop=True)
