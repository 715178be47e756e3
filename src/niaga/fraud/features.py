"""Transaction features, computed two ways that give the same values: in batch (numpy/pandas, for training)
and by an online state updated one transaction at a time (for real-time scoring and replay).

Stream order is by timestamp, ties in input order. A transaction's features use only itself and earlier
transactions; labels are used only once they are known, ``label_delay_days`` after the transaction
(the Fraud Detection Handbook's convention: a label arrives 7 days later).

- customer: count, sum and mean of amounts over each window (the current transaction included, as in the
  handbook), and amount ÷ the mean of the customer's *earlier* transactions in the window;
- terminal: transactions and fraud share in the delayed window (t − delay − w, t − delay], the label of its
  latest known transaction, days since the last known fraud and since the first known fraud in the longest
  window (how long a compromise has lasted);
- time: hour, night (hour ≤ 6), weekend;
- e-commerce: seconds from signup to purchase, accounts seen on the device / IP so far, whether the device
  is new for the customer, country from the IP, age, source, browser, sex.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd

from niaga.fraud.schema import sort_stream

DAY = 86400.0
NAN = math.nan


@dataclass(frozen=True)
class FeatureConfig:
    """Window lengths (name, seconds) and the label delay; the feature names follow from them."""

    customer_windows: tuple = (("2min", 120.0), ("1h", 3600.0), ("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))
    terminal_windows: tuple = (("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))
    label_delay_days: float = 7.0

    @property
    def delay(self) -> float:
        return self.label_delay_days * DAY

    @property
    def names(self) -> list[str]:
        names = ["amount", "tx_hour", "tx_during_night", "tx_during_weekend", "customer_seconds_since_last_tx"]
        for w, _ in self.customer_windows:
            names += [f"customer_nb_tx_{w}", f"customer_sum_amount_{w}", f"customer_avg_amount_{w}",
                      f"customer_amount_ratio_{w}"]
        for w, _ in self.terminal_windows:
            names += [f"terminal_nb_tx_{w}", f"terminal_risk_{w}"]
        return names + ["terminal_last_label", "terminal_days_since_last_fraud", "terminal_days_since_first_fraud",
                        "seconds_since_signup",
                        "device_accounts", "ip_accounts", "customer_new_device", "age"] + CATEGORICAL


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

def batch_features(canonical: pd.DataFrame, config: FeatureConfig = FeatureConfig(),
                   ip_countries: IpCountries | None = None) -> pd.DataFrame:
    """Features of every valid row (``error == ""``), indexed like ``canonical``, rows in stream order.

    Windows are found with binary search on (group, timestamp rank) keys, sums with per-group cumulative
    sums, so the cost is a few sorts of the whole table rather than a Python loop.
    """
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

    ts_rank = rank(ts)
    positions = np.arange(n)

    # customer windows (the current transaction included, ties in stream order)
    codes, _ = pd.factorize(s["customer_id"].to_numpy(dtype=object))
    by = np.argsort(codes, kind="stable")
    c, t, a = codes[by].astype(np.int64), ts[by], amount[by]
    key = c * span + ts_rank[by]
    csum = pd.Series(a).groupby(c).cumsum().to_numpy()
    since_last = np.full(n, np.nan)
    same = np.r_[False, c[1:] == c[:-1]]
    since_last[same] = (t[1:] - t[:-1])[same[1:]]
    result = {"customer_seconds_since_last_tx": since_last}
    for w, seconds in config.customer_windows:
        start = np.searchsorted(key, c * span + rank(t - seconds), side="right")
        count = (positions - start + 1).astype(float)
        total = csum - csum[start] + a[start]
        prev_mean = np.divide(total - a, count - 1, out=np.full(n, np.nan), where=count > 1)
        prev_mean[prev_mean < MIN_MEAN] = np.nan
        result[f"customer_nb_tx_{w}"] = count
        result[f"customer_sum_amount_{w}"] = total
        result[f"customer_avg_amount_{w}"] = total / count
        result[f"customer_amount_ratio_{w}"] = a / prev_mean
    for name, values in result.items():
        out[name] = np.empty(n)
        out[name][by] = values

    # terminal windows, delayed: (t - delay - w, t - delay]; labels of those transactions are known
    terminal_known = s["terminal_id"].notna().to_numpy()
    codes, _ = pd.factorize(s["terminal_id"].to_numpy(dtype=object))
    by = np.argsort(codes, kind="stable")
    c, t, f = codes[by].astype(np.int64), ts[by], label[by]
    key = c * span + ts_rank[by]
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
    group_start = np.searchsorted(key, c * span, side="right")
    result["terminal_last_label"] = np.where(hi > group_start, f[np.maximum(hi - 1, 0)], np.nan)
    fraud_key, fraud_ts = key[f == 1], t[f == 1]
    last = np.searchsorted(fraud_key, c * span + rank(t - config.delay), side="right") - 1
    has_last = (last >= 0) & (fraud_key[np.maximum(last, 0)] > c * span) if len(fraud_key) else np.zeros(n, bool)
    result["terminal_days_since_last_fraud"] = np.where(has_last, (t - fraud_ts[np.maximum(last, 0)]) / DAY
                                                        if len(fraud_key) else np.nan, np.nan)
    longest = max(seconds for _, seconds in config.terminal_windows)
    first = np.searchsorted(fraud_key, c * span + rank(t - config.delay - longest), side="right")
    has_first = has_last & (first <= last)
    result["terminal_days_since_first_fraud"] = np.where(has_first, (t - fraud_ts[np.minimum(first, len(fraud_ts) - 1)])
                                                         / DAY if len(fraud_key) else np.nan, np.nan)
    for name, values in result.items():
        out[name] = np.empty(n)
        out[name][by] = values
        out[name][~terminal_known] = np.nan

    # e-commerce: signup delay, accounts per device / IP so far, device new for the customer, country
    out["seconds_since_signup"] = ts - s["signup_ts"].to_numpy(dtype=float)
    customers = s["customer_id"].to_numpy(dtype=object)
    for name, column in (("device_accounts", "device_id"), ("ip_accounts", "ip_address")):
        keys = s[column].to_numpy(dtype=object if column == "device_id" else float)
        present = pd.notna(keys)
        new_pair = ~pd.DataFrame({"k": keys, "c": customers}).duplicated().to_numpy()
        accounts = pd.Series(new_pair.astype(float)).groupby(pd.factorize(keys)[0]).cumsum().to_numpy()
        out[name] = np.where(present, accounts, np.nan)
        if column == "device_id":
            out["customer_new_device"] = np.where(present, new_pair.astype(float), np.nan)
    out["age"] = s["age"].to_numpy(dtype=float)
    ips = s["ip_address"].to_numpy(dtype=float)
    out["country"] = ip_countries.lookup_many(ips) if ip_countries is not None else np.full(n, None, dtype=object)
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

    def compact(self) -> None:
        """Forget the entries no window holds any more (the start of the longest window, the last one)."""
        oldest = self.starts[-1]
        if oldest > 64 and oldest * 2 > len(self.times):
            del self.times[:oldest], self.values[:oldest]
            self.starts = [i - oldest for i in self.starts]


class _Terminal:
    __slots__ = ("windows", "fraud_times", "last_fraud", "last_label")

    def __init__(self, n_windows: int):
        self.windows = _Windows(n_windows)
        self.fraud_times: deque = deque()
        self.last_fraud = NAN
        self.last_label = NAN


class OnlineFeatureState:
    """The feature state of a stream: ``update`` takes one transaction (in stream order) and returns its
    features in ``config.names`` order, then remembers it. Labels are applied ``label_delay_days`` after
    the transaction: from the transaction itself when it carries one, else from ``add_label``.
    """

    def __init__(self, config: FeatureConfig = FeatureConfig(), ip_countries: IpCountries | None = None):
        self.config = config
        self.ip_countries = ip_countries
        self._cw = [seconds for _, seconds in config.customer_windows]
        self._tw = [seconds for _, seconds in config.terminal_windows]
        self._longest_tw = max(self._tw)
        if self._cw != sorted(self._cw) or self._tw != sorted(self._tw):
            raise ValueError("windows must be listed shortest first")
        self._no_terminal = [NAN] * (2 * len(self._tw) + 3)
        self._new_terminal = [0.0, 0.0] * len(self._tw) + [NAN, NAN, NAN]
        self._delay = config.delay
        self.customers: dict = {}
        self.terminals: dict = {}
        self.pending: deque = deque()  # (ts, terminal, transaction_id, label) waiting for their label delay
        self.labels: dict = {}  # feedback that arrived before a transaction's label delay ran out
        self.device_customers: dict = {}
        self.ip_customers: dict = {}
        self.clock = -math.inf

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
            history.last_label = fraud
            windows = history.windows
            windows.times.append(ts)
            windows.values.append(fraud)
            sums = windows.sums
            for k in range(n_tw):
                sums[k] += fraud
            if fraud:
                history.fraud_times.append(ts)
                history.last_fraud = ts

    def update(self, transaction_id, ts: float, amount: float, customer, terminal=None, label: float = NAN,
               signup_ts: float = NAN, device=None, ip: float = NAN, source=None, browser=None, sex=None,
               age: float = NAN) -> list:
        if ts < self.clock:
            raise ValueError(f"transaction {transaction_id}: time {ts} is before the stream's last time {self.clock}")
        self.clock = ts
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
               ts - times[-1] if times else NAN]
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
                if starts[-1] > 64:
                    windows.compact()
                frauds = known.fraud_times
                while frauds and frauds[0] <= limit - self._longest_tw:
                    frauds.popleft()
                row += [known.last_label, (ts - known.last_fraud) / DAY if known.last_fraud == known.last_fraud else NAN,
                        (ts - frauds[0]) / DAY if frauds else NAN]
            self.pending.append((ts, terminal, transaction_id, label))

        row.append(ts - signup_ts)
        new_device = NAN
        if device is not None:
            accounts = self.device_customers.setdefault(device, set())
            new_device = 0.0 if customer in accounts else 1.0
            accounts.add(customer)
            row.append(float(len(accounts)))
        else:
            row.append(NAN)
        if ip == ip:
            accounts = self.ip_customers.setdefault(ip, set())
            accounts.add(customer)
            row.append(float(len(accounts)))
        else:
            row.append(NAN)
        row += [new_device, age, self.ip_countries.lookup(ip) if self.ip_countries is not None else None,
                source, browser, sex]
        return row


STREAM_FIELDS = ["transaction_id", "ts", "amount", "customer_id", "terminal_id", "label", "signup_ts", "device_id",
                 "ip_address", "source", "browser", "sex", "age"]


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
                    ip_countries: IpCountries | None = None) -> pd.DataFrame:
    """The same table as ``batch_features``, computed by streaming the rows through an OnlineFeatureState."""
    order = sort_stream(canonical)
    state = OnlineFeatureState(config, ip_countries)
    rows = [state.update(*args) for args in zip(*stream_columns(canonical, order))]
    frame = pd.DataFrame(rows, columns=config.names, index=canonical.index[order])
    for name in CATEGORICAL:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame

