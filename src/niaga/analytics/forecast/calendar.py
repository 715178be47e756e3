"""Periods (day, ISO week starting Monday, month) and the Indonesian shopping calendar as features.

Indonesian demand moves with dates a Western calendar does not know: Ramadan and Lebaran (Idul Fitri) move
about 11 days earlier every year (the table ``resources/indonesian_calendar.csv`` holds them per year, as the
government announced them); the week before Lebaran is the peak (THR, the holiday bonus, is paid, people buy
for mudik), the week after is quiet (couriers and sellers on holiday); the Harbolnas sales fall on the
"double dates" 10.10, 11.11 and 12.12; salaries are paid around the 25th, so the 25th to the 1st sell more.
Each feature is the share of the period's days that have it (a week with 11.11 in it has harbolnas 1/7).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from niaga.errors import DataError

FREQS = {"D": "day", "W": "week (Monday to Sunday)", "M": "month"}
#: seasonal period of each frequency (a year), for the seasonal-naive baseline and MASE
SEASON = {"D": 7, "W": 52, "M": 12}
CALENDAR_FEATURES = ["ramadan", "pre_lebaran", "post_lebaran", "harbolnas", "payday", "week_of_year", "month"]
HARBOLNAS = ((10, 10), (11, 11), (12, 12))


def check_freq(freq: str) -> str:
    freq = str(freq).upper()
    if freq not in FREQS:
        raise DataError(f"--freq {freq!r}: expected one of {', '.join(FREQS)} (day, week, month)")
    return freq


def period_start(dates: pd.Series | pd.DatetimeIndex, freq: str) -> pd.Series:
    """The start of each date's period: the day, the Monday of its ISO week, the first of its month."""
    dates = pd.Series(pd.to_datetime(dates)).dt.normalize()
    if freq == "D":
        return dates
    if freq == "W":
        return dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")
    return dates - pd.to_timedelta(dates.dt.day - 1, unit="D")


def next_periods(last: pd.Timestamp, n: int, freq: str) -> pd.DatetimeIndex:
    """The ``n`` period starts after the period that starts at ``last``."""
    offset = {"D": pd.offsets.Day(1), "W": pd.offsets.Week(1), "M": pd.offsets.MonthBegin(1)}[freq]
    return pd.date_range(pd.Timestamp(last) + offset, periods=n, freq={"D": "D", "W": "W-MON", "M": "MS"}[freq])


def period_range(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq={"D": "D", "W": "W-MON", "M": "MS"}[freq])


@lru_cache(maxsize=1)
def holiday_table() -> pd.DataFrame:
    path = resources.files("niaga") / "resources" / "indonesian_calendar.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, parse_dates=["ramadan_start", "lebaran"])
    return table.set_index("year")


def day_flags(days: pd.DatetimeIndex) -> pd.DataFrame:
    """One row per day: in Ramadan, in the 7 days before Lebaran, Lebaran and the 6 days after, a Harbolnas
    double date, a payday (25th to 1st). Years outside the table have no Ramadan / Lebaran flags."""
    days = pd.DatetimeIndex(days).normalize()
    flags = pd.DataFrame(index=days)
    ramadan = np.zeros(len(days), dtype=bool)
    pre, post = ramadan.copy(), ramadan.copy()
    table = holiday_table()
    for year in np.unique(days.year):
        for y in (year - 1, year, year + 1):  # a period near New Year may touch the next year's Ramadan
            if y not in table.index:
                continue
            start, lebaran = table.loc[y, "ramadan_start"], table.loc[y, "lebaran"]
            ramadan |= (days >= start) & (days < lebaran)
            pre |= (days >= lebaran - pd.Timedelta(days=7)) & (days < lebaran)
            post |= (days >= lebaran) & (days <= lebaran + pd.Timedelta(days=6))
    flags["ramadan"], flags["pre_lebaran"], flags["post_lebaran"] = ramadan, pre, post
    flags["harbolnas"] = np.zeros(len(days), dtype=bool)
    for month, day in HARBOLNAS:
        flags["harbolnas"] |= (days.month == month) & (days.day == day)
    flags["payday"] = (days.day >= 25) | (days.day == 1)
    return flags


def calendar_features(periods: pd.DatetimeIndex, freq: str) -> pd.DataFrame:
    """Per period start: the share of its days with each flag, its ISO week and month. Indexed by period."""
    periods = pd.DatetimeIndex(sorted(set(pd.DatetimeIndex(periods).normalize())))
    if len(periods) == 0:
        return pd.DataFrame(columns=CALENDAR_FEATURES, dtype=float)
    last_day = next_periods(periods[-1], 1, freq)[0] - pd.Timedelta(days=1)
    days = pd.date_range(periods[0], last_day, freq="D")
    flags = day_flags(days).astype(float)
    flags["period"] = period_start(pd.Series(days), freq).to_numpy()
    shares = flags.groupby("period").mean().reindex(periods).fillna(0.0)
    shares["week_of_year"] = periods.isocalendar().week.to_numpy().astype(float)
    shares["month"] = periods.month.astype(float)
    return shares[CALENDAR_FEATURES]
