"""Transaction features, computed two ways that give the same values: in batch (numpy/pandas, for training)
and by an online state updated one transaction at a time (for real-time scoring and replay).

Stream order is by timestamp, ties in input order. A transaction's features use only itself and earlier
transactions; labels are used only once they are known, ``label_delay_days`` after the transaction
(the Fraud Detection Handbook's convention: a label arrives 7 days later).

- customer: count, sum and mean of amounts over each window (the current transaction included, as in the
  handbook), amount ÷ the mean of the customer's *earlier* transactions in the window, seconds since the
  customer's previous transaction (within the longest window);
- terminal: transactions and fraud share in the delayed window (t − delay − w, t − delay], the label of its
  latest known transaction, days since the last and since the first known fraud (all within the longest
  delayed window: a compromise lasts days, not months);
- time: hour, night (hour ≤ 6), weekend;
- e-commerce: seconds from signup to purchase and its bucket; per device and per IP address: the accounts
  seen on it (a device idle for ``account_days`` starts a new list), its purchases in rolling windows and
  seconds since its previous purchase; per device also the amount ÷ its earlier purchases' mean, its
  distinct signup times and their spread, the countries its IPs map to; whether an IP is missing from the
  IP → country table; the amount ÷ the mean of the same source's earlier purchases; country, age, source,
  browser, sex.

Nothing the features read lies further back than the longest window (``FeatureConfig.horizon``), so the
online state drops whatever is older (``OnlineFeatureState.prune``) without changing a single value.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from niaga.fraud.schema import TransactionRecord, sort_stream

DAY = 86400.0
NAN = math.nan
#: seconds from signup to purchase → bucket: < 1 min, < 1 h, < 1 day, < 7 days, < 30 days, < 90 days, later
SIGNUP_BUCKETS = (60.0, 3600.0, DAY, 7 * DAY, 30 * DAY, 90 * DAY)


@dataclass(frozen=True)
class FeatureConfig:
    """Window lengths (name, seconds), the label delay and the device / IP account horizon; the feature
    names follow from them."""

    customer_windows: tuple = (("2min", 120.0), ("1h", 3600.0), ("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))
    terminal_windows: tuple = (("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))
    #: purchases per device / IP address (and the source's amount history, over the longest)
    device_windows: tuple = (("1h", 3600.0), ("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))
    label_delay_days: float = 7.0
    #: a device or IP address without a purchase for this long starts a new list of accounts
    account_days: float = 180.0

    @property
    def delay(self) -> float:
        return self.label_delay_days * DAY

    @property
    def horizon(self) -> dict[str, float]:
        """How far back (seconds before the latest transaction) each part of the state is ever read."""
        return {"customer": max(s for _, s in self.customer_windows),
                "terminal": self.delay + max(s for _, s in self.terminal_windows),
                "device": self.account_days * DAY, "source": max(s for _, s in self.device_windows)}

    @property
    def names(self) -> list[str]:
        names = ["amount", "tx_hour", "tx_during_night", "tx_during_weekend", "customer_seconds_since_last_tx"]
        for w, _ in self.customer_windows:
            names += [f"customer_nb_tx_{w}", f"customer_sum_amount_{w}", f"customer_avg_amount_{w}",
                      f"customer_amount_ratio_{w}"]
        for w, _ in self.terminal_windows:
            names += [f"terminal_nb_tx_{w}", f"terminal_risk_{w}"]
        names += ["terminal_last_label", "terminal_days_since_last_fraud", "terminal_days_since_first_fraud",
                  "seconds_since_signup", "signup_delay_bucket"]
        return names + self.account_names + ["age"] + CATEGORICAL

    @property
    def account_names(self) -> list[str]:
        """The device / IP / source features, in row order."""
        longest = self.device_windows[-1][0]
        return (["device_accounts", "customer_new_device"] + [f"device_nb_tx_{w}" for w, _ in self.device_windows]
                + ["device_seconds_since_last_tx", f"device_amount_ratio_{longest}", "device_signups",
                   "device_signup_span_days", "device_countries", "ip_accounts"]
                + [f"ip_nb_tx_{w}" for w, _ in self.device_windows]
                + ["ip_seconds_since_last_tx", "ip_unmapped", f"source_amount_ratio_{longest}"])

    def check(self) -> "FeatureConfig":
        for windows in (self.customer_windows, self.terminal_windows, self.device_windows):
            seconds = [s for _, s in windows]
            if seconds != sorted(seconds):
                raise ValueError("windows must be listed shortest first")
        if self.account_days * DAY < self.device_windows[-1][1]:
            raise ValueError("account_days must cover the longest device window")
        return self

    def to_dict(self) -> dict:
        return {"customer_windows": [list(w) for w in self.customer_windows],
                "terminal_windows": [list(w) for w in self.terminal_windows],
                "device_windows": [list(w) for w in self.device_windows],
                "label_delay_days": self.label_delay_days, "account_days": self.account_days}

    @classmethod
    def from_dict(cls, spec: dict) -> "FeatureConfig":
        return cls(**{k: tuple(tuple(w) for w in v) if k.endswith("windows") else v for k, v in spec.items()})
CATEGORICAL = ["country", "source", "browser", "sex"]
#: the Fraud Detection Handbook's 15 model inputs, under our names (its 14 features plus the amount).
HANDBOOK_FEATURES = ["amount", "tx_during_weekend", "tx_during_night"] + [
    f"customer_{kind}_{w}" for w in ("1d", "7d", "30d") for kind in ("nb_tx", "avg_amount")] + [
    f"terminal_{kind}_{w}" for w in ("1d", "7d", "30d") for kind in ("nb_tx", "risk")]
#: our names → the handbook's column names in features_*.parquet
HANDBOOK_NAMES = {"tx_during_weekend": "TX_DURING_WEEKEND", "tx_during_night": "TX_DURING_NIGHT", **{
    f"{entity.lower()}_{k}_{w}d": f"{entity}_ID_{k.upper()}_{w}DAY_WINDOW"
    for entity, kinds in (("CUSTOMER", ("nb_tx", "avg_amount")), ("TERMINAL", ("nb_tx", "risk")))
    for w in (1, 7, 30) for k in kinds}}
#: below one cent the customer's earlier mean is treated as unknown, so a ratio never explodes on zero amounts
MIN_MEAN = 0.01


class IpCountries:
    """IP ranges → country; ``lookup`` (one IP) and ``lookup_many`` (an array) agree by construction."""

    def __init__(self, lower, upper, country):
        self.lower = np.asarray(lower, dtype=float)
        self.upper = np.asarray(upper, dtype=float)
        self.country = np.asarray(country, dtype=object)
        self._lower_list = self.lower.tolist()

    @classmethod
    def from_frame(cls, table: pd.DataFrame) -> "IpCountries":
        return cls(table["lower_bound_ip_address"], table["upper_bound_ip_address"], table["country"])

    def lookup(self, ip: float):
        if ip != ip:  # NaN
            return None
        i = bisect_right(self._lower_list, ip) - 1
        return self.country[i] if i >= 0 and ip <= self.upper[i] else None

    def lookup_many(self, ips: np.ndarray) -> np.ndarray:
        ips = np.asarray(ips, dtype=float)
        i = np.searchsorted(self.lower, ips, side="right") - 1
        ok = (i >= 0) & ~np.isnan(ips)
        ok[ok] &= ips[ok] <= self.upper[i[ok]]
        out = np.full(len(ips), None, dtype=object)
        out[ok] = self.country[i[ok]]
        return out

    def __getstate__(self):  # countries as a str array: skops writes an object array value by value
        return {"lower": self.lower, "upper": self.upper, "country": self.country.astype(str)}

    def __setstate__(self, state):
        self.__init__(state["lower"], state["upper"], state["country"])


def time_features(ts):
    """hour, night (hour ≤ 6, the handbook's definition) and weekend (Saturday/Sunday) from epoch seconds."""
    hour = np.floor_divide(np.asarray(ts) % DAY, 3600.0)
    weekday = (np.floor_divide(np.asarray(ts), DAY) + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    return hour, (hour <= 6).astype(float), (weekday >= 5).astype(float)



# ----------------------------------------------------------------------------------------------- batch

def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group codes of the values (missing ones share one code) and which rows have a value."""
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    present = codes >= 0
    return np.where(present, codes, codes.max(initial=-1) + 1).astype(np.int64), present


def _group_windows(codes, ts, amount, rank, span, windows, prefix: str, longest_only_ratio=False) -> dict:
    """Per row (stream order) and window: count, sum, mean of the group's amounts (the current row included),
    amount ÷ the mean of its earlier ones, and seconds since the group's previous row within the longest."""
    n = len(codes)
    positions = np.arange(n)
    by = np.argsort(codes, kind="stable")
    c, t, a = codes[by], ts[by], amount[by]
    ts_rank = rank(t)
    key = c * span + ts_rank
    csum = pd.Series(a).groupby(c).cumsum().to_numpy()
    longest = windows[-1][1]
    since_last = np.full(n, np.nan)
    same = np.r_[False, c[1:] == c[:-1]]
    inside = np.r_[False, t[:-1] > t[1:] - longest]  # as online: the previous row is still in the window
    since_last[same & inside] = (t[1:] - t[:-1])[(same & inside)[1:]]
    result = {f"{prefix}_seconds_since_last_tx": since_last}
    for w, seconds in windows:
        start = np.searchsorted(key, c * span + rank(t - seconds), side="right")
        count = (positions - start + 1).astype(float)
        total = csum - csum[start] + a[start]
        result[f"{prefix}_nb_tx_{w}"] = count
        if not longest_only_ratio or seconds == longest:
            prev_mean = np.divide(total - a, count - 1, out=np.full(n, np.nan), where=count > 1)
            prev_mean[prev_mean < MIN_MEAN] = np.nan
            result[f"{prefix}_amount_ratio_{w}"] = a / prev_mean
        if not longest_only_ratio:
            result[f"{prefix}_sum_amount_{w}"] = total
            result[f"{prefix}_avg_amount_{w}"] = total / count
    out = {}
    for name, values in result.items():
        out[name] = np.empty(n)
        out[name][by] = values
    return out


def _sessions(codes: np.ndarray, ts: np.ndarray, gap: float) -> np.ndarray:
    """A session id per row: a group's rows, split where the group was idle for ``gap`` seconds or more."""
    by = np.argsort(codes, kind="stable")
    c, t = codes[by], ts[by]
    new = np.r_[True, (c[1:] != c[:-1]) | ~(t[:-1] > t[1:] - gap)]
    sessions = np.empty(len(codes), dtype=np.int64)
    sessions[by] = np.cumsum(new) - 1
    return sessions


def _running_distinct(sessions: np.ndarray, values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per row (stream order): distinct present values its session has had so far, this row included."""
    first = ~pd.DataFrame({"s": sessions, "v": values}).duplicated().to_numpy() & present
    return pd.Series(first.astype(float)).groupby(sessions).cumsum().to_numpy()


def batch_features(canonical: pd.DataFrame, config: FeatureConfig = FeatureConfig(),
                   ip_countries: IpCountries | None = None) -> pd.DataFrame:
    """Features of every valid row (``error == ""``), indexed like ``canonical``, rows in stream order.

    Windows are found with binary search on (group, timestamp rank) keys, sums with per-group cumulative
    sums, so the cost is a few sorts of the whole table rather than a Python loop.
    """
    config.check()
    order = sort_stream(canonical)
    s = canonical.iloc[order]
    n = len(s)
    ts = s["ts"].to_numpy(dtype=float)
    amount = s["amount"].to_numpy(dtype=float)
    label = np.nan_to_num(s["label"].to_numpy(dtype=float), nan=0.0)
    out: dict[str, np.ndarray] = {"amount": amount}
    out["tx_hour"], out["tx_during_night"], out["tx_during_weekend"] = time_features(ts)
    distinct = np.unique(ts)
    span = len(distinct) + 1

    def rank(x):  # number of distinct timestamps ≤ x: exact integer keys, comparisons as in the online state
        return np.searchsorted(distinct, x, side="right").astype(np.int64)

    # customer windows (the current transaction included, ties in stream order)
    codes, _ = _codes(s["customer_id"].to_numpy(dtype=object))
    out.update(_group_windows(codes, ts, amount, rank, span, config.customer_windows, "customer"))

    # terminal windows, delayed: (t - delay - w, t - delay]; labels of those transactions are known
    terminal_known = s["terminal_id"].notna().to_numpy()
    codes, _ = pd.factorize(s["terminal_id"].to_numpy(dtype=object))
    by = np.argsort(codes, kind="stable")
    c, t, f = codes[by].astype(np.int64), ts[by], label[by]
    key = c * span + rank(t)
    fsum = pd.Series(f).groupby(c).cumsum().to_numpy()
    hi = np.searchsorted(key, c * span + rank(t - config.delay), side="right")
    result = {}
    for w, seconds in config.terminal_windows:
        lo = np.searchsorted(key, c * span + rank(t - config.delay - seconds), side="right")
        count = (hi - lo).astype(float)
        safe_lo = np.minimum(lo, n - 1)
        frauds = np.where(count > 0, fsum[np.maximum(hi - 1, 0)] - fsum[safe_lo] + f[safe_lo], 0.0)
        result[f"terminal_nb_tx_{w}"] = count
        result[f"terminal_risk_{w}"] = np.divide(frauds, count, out=np.zeros(n), where=count > 0)
    result["terminal_last_label"] = np.where(hi > lo, f[np.maximum(hi - 1, 0)], np.nan)  # lo: the longest window
    longest = config.terminal_windows[-1][1]
    fraud_key, fraud_ts = key[f == 1], t[f == 1]
    last = np.searchsorted(fraud_key, c * span + rank(t - config.delay), side="right") - 1
    first = np.searchsorted(fraud_key, c * span + rank(t - config.delay - longest), side="right")
    has = last >= first  # a known fraud in the longest delayed window (keys of one terminal only)
    safe = lambda i: np.clip(i, 0, max(len(fraud_ts) - 1, 0))  # noqa: E731
    at = lambda i: fraud_ts[safe(i)] if len(fraud_ts) else np.zeros(n)  # noqa: E731
    result["terminal_days_since_last_fraud"] = np.where(has, (t - at(last)) / DAY, np.nan)
    result["terminal_days_since_first_fraud"] = np.where(has, (t - at(first)) / DAY, np.nan)
    for name, values in result.items():
        out[name] = np.empty(n)
        out[name][by] = values
        out[name][~terminal_known] = np.nan

    # e-commerce: signup delay, and per device / IP address / source
    out["seconds_since_signup"] = ts - s["signup_ts"].to_numpy(dtype=float)
    delay = out["seconds_since_signup"]
    out["signup_delay_bucket"] = np.where(np.isnan(delay), np.nan,
                                          np.searchsorted(SIGNUP_BUCKETS, np.nan_to_num(delay), side="right"))
    for name in config.account_names:
        out[name] = np.full(n, np.nan)
    customers = s["customer_id"].to_numpy(dtype=object)
    country = ip_countries.lookup_many(s["ip_address"].to_numpy(dtype=float)) if ip_countries is not None else \
        np.full(n, None, dtype=object)
    gap = config.account_days * DAY
    longest_name = config.device_windows[-1][0]
    for prefix, column in (("device", "device_id"), ("ip", "ip_address")):
        keys = s[column].to_numpy(dtype=object if column == "device_id" else float)
        codes, present = _codes(keys)
        if not present.any():
            continue
        sessions = _sessions(codes, ts, gap)
        accounts = _running_distinct(sessions, customers, present)
        windows = _group_windows(codes, ts, amount, rank, span, config.device_windows, prefix, True)
        if prefix == "ip":
            windows.pop(f"ip_amount_ratio_{longest_name}")
        for name, values in windows.items():
            out[name] = np.where(present, values, np.nan)
        out[f"{prefix}_accounts"] = np.where(present, accounts, np.nan)
        if prefix == "device":
            new_pair = ~pd.DataFrame({"s": sessions, "c": customers}).duplicated().to_numpy()
            out["customer_new_device"] = np.where(present, new_pair.astype(float), np.nan)
            signup = s["signup_ts"].to_numpy(dtype=float)
            known = ~np.isnan(signup)
            out["device_signups"] = np.where(present, _running_distinct(sessions, signup, known), np.nan)
            hi_signup = pd.Series(np.where(known, signup, -np.inf)).groupby(sessions).cummax().to_numpy()
            lo_signup = pd.Series(np.where(known, signup, np.inf)).groupby(sessions).cummin().to_numpy()
            seen = present & np.isfinite(hi_signup)
            out["device_signup_span_days"] = np.where(seen, (hi_signup - lo_signup) / DAY, np.nan)
            out["device_countries"] = np.where(
                present, _running_distinct(sessions, country, pd.notna(country)), np.nan)
    ips = s["ip_address"].to_numpy(dtype=float)
    if ip_countries is not None:
        out["ip_unmapped"] = np.where(np.isnan(ips), np.nan, pd.isna(country).astype(float))
    codes, present = _codes(s["source"].to_numpy(dtype=object))
    if present.any():
        windows = _group_windows(codes, ts, amount, rank, span, config.device_windows[-1:], "source", True)
        out[f"source_amount_ratio_{longest_name}"] = np.where(
            present, windows[f"source_amount_ratio_{longest_name}"], np.nan)
    out["age"] = s["age"].to_numpy(dtype=float)
    out["country"] = country
    for name in ("source", "browser", "sex"):
        out[name] = s[name].to_numpy(dtype=object)
    frame = pd.DataFrame(out, index=s.index)[config.names]
    for name in CATEGORICAL:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


# ---------------------------------------------------------------------------------------------- online

class _Windows:
    """Sliding windows over one entity's (time, value) history: per window a start index and a running sum.

    Hand-written rather than pandas because it is updated one transaction at a time in microseconds.
    """

    __slots__ = ("times", "values", "starts", "sums")

    def __init__(self, n_windows: int):
        self.times: list[float] = []
        self.values: list[float] = []
        self.starts = [0] * n_windows
        self.sums = [0.0] * n_windows

    def compact(self, always: bool = False) -> None:
        """Forget the entries no window holds any more (before the start of the longest window, the last)."""
        oldest = self.starts[-1]
        if oldest and (always or (oldest > 64 and oldest * 2 > len(self.times))):
            del self.times[:oldest], self.values[:oldest]
            self.starts = [i - oldest for i in self.starts]

    def prefix(self, until: float) -> "_Windows":
        """A copy holding only the entries at or before ``until``, its windows not yet placed (all at 0)."""
        j = bisect_right(self.times, until)
        copy = _Windows(len(self.starts))
        copy.times, copy.values = self.times[:j], self.values[:j]
        copy.sums = [math.fsum(copy.values)] * len(self.starts)
        return copy


def _advance(history: _Windows, ts: float, amount: float, windows: list[float]) -> tuple[list, float, float]:
    """Add one transaction to an entity's windows (it is inside all of them): counts per window, amount ÷ the
    mean of the earlier ones in the longest window, seconds since the previous one within the longest."""
    times, values, starts, sums = history.times, history.values, history.starts, history.sums
    since = ts - times[-1] if times and times[-1] > ts - windows[-1] else NAN
    times.append(ts)
    values.append(amount)
    n = len(times)
    counts = []
    for k, w in enumerate(windows):
        limit, i, total = ts - w, starts[k], sums[k] + amount
        while times[i] <= limit:
            total -= values[i]
            i += 1
        starts[k], sums[k] = i, total
        counts.append(float(n - i))
    count = n - starts[-1]
    prev_mean = (sums[-1] - amount) / (count - 1) if count > 1 else NAN
    if starts[-1] > 64:
        history.compact()
    return counts, amount / prev_mean if prev_mean >= MIN_MEAN else NAN, since


class _Terminal:
    """A terminal's transactions whose labels are known (matured), and its known frauds' times."""

    __slots__ = ("windows", "fraud_times")

    def __init__(self, n_windows: int):
        self.windows = _Windows(n_windows)
        self.fraud_times: deque = deque()

    def prefix(self, until: float) -> "_Terminal":
        copy = _Terminal(len(self.windows.starts))
        copy.windows = self.windows.prefix(until)
        copy.fraud_times = deque(t for t in self.fraud_times if t <= until)
        return copy


class _Account:
    """A device's or IP address's purchases (windows) and what it has seen since it was last idle for
    ``account_days``: accounts, signup times (and their range), countries."""

    __slots__ = ("windows", "last", "customers", "signups", "signup_lo", "signup_hi", "countries")

    def __init__(self, n_windows: int):
        self.windows = _Windows(n_windows)
        self.last = -math.inf
        self.customers: set = set()
        self.signups: set = set()
        self.signup_lo, self.signup_hi = math.inf, -math.inf
        self.countries: set = set()

    def prefix(self, until: float) -> "_Account":
        """Windows up to ``until``; the account, signup and country sets as they are (not time-stamped)."""
        copy = _Account(len(self.windows.starts))
        copy.windows = self.windows.prefix(until)
        copy.last = copy.windows.times[-1] if copy.windows.times else self.last
        copy.customers, copy.signups, copy.countries = set(self.customers), set(self.signups), set(self.countries)
        copy.signup_lo, copy.signup_hi = self.signup_lo, self.signup_hi
        return copy


class OnlineFeatureState:
    """The feature state of a stream: ``update`` takes one transaction (in stream order) and returns its
    features in ``config.names`` order, then remembers it. Labels are applied ``label_delay_days`` after
    the transaction: from the transaction itself when it carries one, else from ``add_label``.

    Once per day of stream time ``prune`` drops what no feature can read any more (``config.horizon``);
    ``peek`` gives the features of a transaction older than the latest one without adding it.
    ``niaga.fraud.state`` writes and reads the whole state as a versioned data file.
    """

    def __init__(self, config: FeatureConfig = FeatureConfig(), ip_countries: IpCountries | None = None):
        self.config = config.check()
        self.ip_countries = ip_countries
        self._cw = [seconds for _, seconds in config.customer_windows]
        self._tw = [seconds for _, seconds in config.terminal_windows]
        self._dw = [seconds for _, seconds in config.device_windows]
        self._longest_cw, self._longest_tw = self._cw[-1], self._tw[-1]
        self._account_gap = config.account_days * DAY
        self._no_terminal = [NAN] * (2 * len(self._tw) + 3)
        self._new_terminal = [0.0, 0.0] * len(self._tw) + [NAN, NAN, NAN]
        n_dw = len(self._dw)
        self._no_device = [NAN] * (n_dw + 7)
        self._no_ip = [NAN] * (n_dw + 3)
        self._no_accounts = [NAN] * len(config.account_names)
        self._no_shop = [NAN, NAN] + self._no_accounts  # signup delay and bucket, accounts
        self._delay = config.delay
        self.customers: dict = {}
        self.terminals: dict = {}
        self.pending: deque = deque()  # (ts, terminal, transaction_id, label) waiting for their label delay
        self.labels: dict = {}  # feedback that arrived before a transaction's label delay ran out
        self.devices: dict = {}
        self.ips: dict = {}
        self.sources: dict = {}
        self.clock = -math.inf
        self.next_prune = -math.inf

    def add_label(self, transaction_id, label: float) -> None:
        """Feedback for a pending transaction (an investigator's resolution); used once its delay has passed."""
        self.labels[transaction_id] = float(label)

    def _mature(self, now: float) -> None:
        limit = now - self._delay
        pending, labels, terminals = self.pending, self.labels, self.terminals
        n_tw = len(self._tw)
        while pending and pending[0][0] <= limit:
            ts, terminal, tx_id, label = pending.popleft()
            if label != label:  # NaN: no label in the transaction; investigators' feedback, else genuine
                label = labels.pop(tx_id, 0.0)
            history = terminals.get(terminal)
            if history is None:
                history = terminals[terminal] = _Terminal(n_tw)
            fraud = 1.0 if label == 1.0 else 0.0
            windows = history.windows
            windows.times.append(ts)
            windows.values.append(fraud)
            sums = windows.sums
            for k in range(n_tw):
                sums[k] += fraud
            if fraud:
                history.fraud_times.append(ts)

    def prune(self, now: float) -> None:
        """Drop the customers, terminals, devices, IPs and sources no window reaches from ``now`` on, and
        compact the rest; no feature changes (a dropped entity reads exactly as a new one)."""
        horizon = self.config.horizon
        for mapping, edge in ((self.customers, now - horizon["customer"]), (self.sources, now - horizon["source"])):
            for key in [k for k, h in mapping.items() if not h.times or h.times[-1] <= edge]:
                del mapping[key]
            for history in mapping.values():
                history.compact(always=True)
        edge = now - horizon["terminal"]
        for key in [k for k, h in self.terminals.items() if not h.windows.times or h.windows.times[-1] <= edge]:
            del self.terminals[key]
        for history in self.terminals.values():
            history.windows.compact(always=True)
        edge = now - horizon["device"]
        for mapping in (self.devices, self.ips):
            for key in [k for k, a in mapping.items() if a.last <= edge]:
                del mapping[key]
            for account in mapping.values():
                account.windows.compact(always=True)
        if self.labels:  # feedback only matters for transactions still waiting for their label
            waiting = {tx for _, _, tx, _ in self.pending}
            self.labels = {tx: label for tx, label in self.labels.items() if tx in waiting}
        self.next_prune = now + DAY

    def update(self, transaction_id, ts: float, amount: float, customer, terminal=None, label: float = NAN,
               signup_ts: float = NAN, device=None, ip: float = NAN, source=None, browser=None, sex=None,
               age: float = NAN) -> list:
        if ts < self.clock:
            raise ValueError(f"transaction {transaction_id}: time {ts} is before the stream's last time {self.clock}")
        self.clock = ts
        if ts >= self.next_prune:
            self.prune(ts)
        pending = self.pending
        if pending and pending[0][0] <= ts - self._delay:
            self._mature(ts)
        hour = ((ts % DAY) // 3600.0)
        weekday = ((ts // DAY) + 3) % 7
        history = self.customers.get(customer)
        if history is None:
            history = self.customers[customer] = _Windows(len(self._cw))
        times, values, starts, sums = history.times, history.values, history.starts, history.sums
        row = [amount, hour, 1.0 if hour <= 6 else 0.0, 1.0 if weekday >= 5 else 0.0,
               ts - times[-1] if times and times[-1] > ts - self._longest_cw else NAN]
        times.append(ts)
        values.append(amount)
        n = len(times)
        extend = row.extend
        for k, w in enumerate(self._cw):  # windows shortest first; the current transaction is always inside
            limit, i, total = ts - w, starts[k], sums[k] + amount
            while times[i] <= limit:
                total -= values[i]
                i += 1
            starts[k], sums[k] = i, total
            count = n - i
            prev_mean = (total - amount) / (count - 1) if count > 1 else NAN
            extend((float(count), total, total / count, amount / prev_mean if prev_mean >= MIN_MEAN else NAN))
        if starts[-1] > 64:
            history.compact()

        if terminal is None:
            row += self._no_terminal
        else:
            known = self.terminals.get(terminal)
            if known is None:
                row += self._new_terminal
            else:
                limit = ts - self._delay
                windows = known.windows
                times, values, starts, sums = windows.times, windows.values, windows.starts, windows.sums
                n = len(times)
                for k, w in enumerate(self._tw):
                    edge, i, total = limit - w, starts[k], sums[k]
                    while i < n and times[i] <= edge:
                        total -= values[i]
                        i += 1
                    starts[k], sums[k] = i, total
                    count = n - i
                    extend((float(count), total / count if count else 0.0))
                last_label = values[-1] if n > starts[-1] else NAN
                if starts[-1] > 64:
                    windows.compact()
                frauds = known.fraud_times
                while frauds and frauds[0] <= limit - self._longest_tw:
                    frauds.popleft()
                if frauds:
                    row += [last_label, (ts - frauds[-1]) / DAY, (ts - frauds[0]) / DAY]
                else:
                    row += [last_label, NAN, NAN]
            self.pending.append((ts, terminal, transaction_id, label))

        if device is None and ip != ip and source is None and signup_ts != signup_ts:  # no e-commerce fields
            row += self._no_shop
            extend((age, None, None, browser, sex))
            return row
        delay = ts - signup_ts
        row += [delay, float(bisect_right(SIGNUP_BUCKETS, delay)) if delay == delay else NAN]
        country = self.ip_countries.lookup(ip) if self.ip_countries is not None else None
        if device is None and ip != ip and source is None:
            row += self._no_accounts
        else:
            row += self._accounts(ts, amount, customer, signup_ts, device, ip, source, country)
        extend((age, country, source, browser, sex))
        return row

    def _accounts(self, ts, amount, customer, signup_ts, device, ip, source, country) -> list:
        """The device, IP and source features (``config.account_names``) of one transaction, remembered."""
        windows = self._dw
        if device is None:
            out = list(self._no_device)
        else:
            account = self.devices.get(device)
            if account is None or account.last <= ts - self._account_gap:
                account = self.devices[device] = _Account(len(windows))
            counts, ratio, since = _advance(account.windows, ts, amount, windows)
            new = customer not in account.customers
            account.customers.add(customer)
            if signup_ts == signup_ts:
                account.signups.add(signup_ts)
                account.signup_lo = min(account.signup_lo, signup_ts)
                account.signup_hi = max(account.signup_hi, signup_ts)
            if country is not None:
                account.countries.add(country)
            account.last = ts
            out = [float(len(account.customers)), 1.0 if new else 0.0] + counts + [
                since, ratio, float(len(account.signups)),
                (account.signup_hi - account.signup_lo) / DAY if account.signups else NAN,
                float(len(account.countries))]
        if ip != ip:
            out += self._no_ip
        else:
            account = self.ips.get(ip)
            if account is None or account.last <= ts - self._account_gap:
                account = self.ips[ip] = _Account(len(windows))
            counts, _, since = _advance(account.windows, ts, amount, windows)
            account.customers.add(customer)
            account.last = ts
            unmapped = NAN if self.ip_countries is None else 1.0 if country is None else 0.0
            out += [float(len(account.customers))] + counts + [since, unmapped]
        if source is None:
            out.append(NAN)
        else:
            history = self.sources.get(source)
            if history is None:
                history = self.sources[source] = _Windows(1)
            out.append(_advance(history, ts, amount, windows[-1:])[1])
        return out

    def peek(self, transaction_id, ts: float, amount: float, customer, terminal=None, label: float = NAN,
             signup_ts: float = NAN, device=None, ip: float = NAN, source=None, browser=None, sex=None,
             age: float = NAN) -> list:
        """The features of a transaction older than the stream's latest one, from the history up to its time,
        without remembering it. Windows are exact as far as the state still holds them; the accounts seen
        on a device or IP address are those known now."""
        past = OnlineFeatureState(self.config, self.ip_countries)
        if customer in self.customers:
            past.customers[customer] = self.customers[customer].prefix(ts)
        if terminal is not None and terminal in self.terminals:
            past.terminals[terminal] = self.terminals[terminal].prefix(ts - self._delay)
        if device is not None and device in self.devices:
            past.devices[device] = self.devices[device].prefix(ts)
        if ip == ip and ip in self.ips:
            past.ips[ip] = self.ips[ip].prefix(ts)
        if source is not None and source in self.sources:
            past.sources[source] = self.sources[source].prefix(ts)
        return past.update(transaction_id, ts, amount, customer, terminal, NAN, signup_ts, device, ip, source,
                           browser, sex, age)

    def size(self) -> dict:
        """How much the state holds: entities of each kind, window entries, labels waiting."""
        entries = sum(len(h.times) for h in self.customers.values()) + sum(
            len(h.times) for h in self.sources.values()) + sum(
            len(t.windows.times) for t in self.terminals.values()) + sum(
            len(a.windows.times) for mapping in (self.devices, self.ips) for a in mapping.values())
        return {"customers": len(self.customers), "terminals": len(self.terminals), "devices": len(self.devices),
                "ips": len(self.ips), "sources": len(self.sources), "window_entries": entries,
                "pending_labels": len(self.pending), "feedback_labels": len(self.labels)}


STREAM_FIELDS = list(TransactionRecord._fields)  # the update() arguments, in order


def stream_columns(canonical: pd.DataFrame, positions: np.ndarray) -> list[list]:
    """The update() arguments of the given rows as plain Python lists (NA → None/NaN), one list per field."""
    s = canonical.iloc[positions]
    columns = []
    for field in STREAM_FIELDS:
        values = s[field]
        if field in ("ts", "amount", "label", "signup_ts", "ip_address", "age"):
            columns.append(values.to_numpy(dtype=float).tolist())
        else:
            columns.append(values.astype(object).where(values.notna(), None).tolist())
    return columns


def online_features(canonical: pd.DataFrame, config: FeatureConfig = FeatureConfig(),
                    ip_countries: IpCountries | None = None, state: OnlineFeatureState | None = None) -> pd.DataFrame:
    """The same table as ``batch_features``, computed by streaming the rows through an OnlineFeatureState
    (a new one, or ``state``, which is then left at the end of the stream)."""
    order = sort_stream(canonical)
    state = state if state is not None else OnlineFeatureState(config, ip_countries)
    rows = [state.update(*args) for args in zip(*stream_columns(canonical, order))]
    frame = pd.DataFrame(rows, columns=state.config.names, index=canonical.index[order])
    for name in CATEGORICAL:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame
