"""The sequence model for account takeover: a small GRU over each account's last events.

An account's logins (successful or failed), security changes, sessions and orders become one time-ordered
sequence; each event is a vector (its kind, hours since the account's previous event, a new device / new IP for
the account, OTP passed, the changed field, amount, resellable goods, a new shipping address, click speed). The
GRU reads the last ``length`` events of the period and scores the account. Trained on the CPU in seconds.
Measured beside the default in benchmarks/abuse.py; not part of the saved model (it did not win there).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from niaga.abuse.address import normalize_addresses
from niaga.abuse.features import RESELLABLE, combine, seconds

KINDS = ("login_ok", "login_failed", "change", "session", "order")
WIDTH = len(KINDS) + 9


def events(current: dict[str, pd.DataFrame], history: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """One row per event of every account, history included (``_current`` marks the period's), with its vector
    columns ``x0..``."""
    data = combine(current, history)
    parts = []

    def take(name, kind, time_column, **extra):
        frame = data.get(name)
        if frame is None or not len(frame):
            return
        part = pd.DataFrame({"account_id": frame["account_id"].to_numpy(object), "t": seconds(frame[time_column]),
                             "kind": kind, "device": frame.get("device_id", pd.Series(None, index=frame.index)).to_numpy(object),
                             "ip": frame.get("ip", pd.Series(None, index=frame.index)).to_numpy(object),
                             "_current": frame["_current"].to_numpy(bool)})
        for name_, values in extra.items():
            part[name_] = values(frame)
        parts.append(part)

    logins = data.get("logins")
    if logins is not None and len(logins):
        ok = logins["success"].fillna(False).astype(bool)
        data["logins_ok"], data["logins_failed"] = logins[ok], logins[~ok]
    take("logins_ok", 0, "time", otp=lambda f: f["otp"].fillna(False).astype(bool).to_numpy(float))
    take("logins_failed", 1, "time")
    take("account_changes", 2, "time",
         contact=lambda f: f["field"].isin(("phone", "email", "password")).to_numpy(float),
         address_change=lambda f: f["field"].isin(("address", "bank_account", "payout_account")).to_numpy(float))
    take("sessions", 3, "start", clicks=lambda f: (pd.to_numeric(f["events"], errors="coerce").fillna(0)
                                                   / pd.to_numeric(f["seconds"], errors="coerce").fillna(1).clip(lower=1)
                                                   ).clip(upper=5).to_numpy(float))
    take("orders", 4, "time", amount=lambda f: np.log1p(f["amount"].astype(float).clip(lower=0)).to_numpy() / 16,
         resellable=lambda f: f["category"].astype("string").str.lower().isin(RESELLABLE).fillna(False).to_numpy(float),
         address=lambda f: normalize_addresses(f["shipping_address"]).to_numpy(object))
    frame = pd.concat(parts, ignore_index=True).sort_values(["account_id", "t"], kind="stable").reset_index(drop=True)
    for column in ("otp", "contact", "address_change", "clicks", "amount", "resellable"):
        frame[column] = frame[column].fillna(0.0) if column in frame.columns else 0.0
    seen_account = frame.groupby("account_id").cumcount() > 0
    ok = frame["kind"] != 1  # a failed login is anyone's attempt, not the account's device
    for what in ("device", "ip", "address"):
        if what not in frame.columns:
            frame[f"new_{what}"] = 0.0
            continue
        has = frame[what].notna() & ok
        first = ~frame[has].duplicated(["account_id", what])
        frame[f"new_{what}"] = (first.reindex(frame.index).fillna(False).to_numpy(bool) & seen_account.to_numpy()
                                ).astype(float)
    gap = frame.groupby("account_id")["t"].diff().fillna(30 * 86_400).clip(lower=0)
    frame["gap"] = np.log1p(gap.to_numpy(float) / 3600) / 6
    onehot = np.eye(len(KINDS))[frame["kind"].to_numpy(int)]
    vector = np.column_stack([onehot, frame[["gap", "new_device", "new_ip", "otp", "contact", "address_change",
                                             "amount", "resellable", "new_address"]].to_numpy(float)])
    vector[:, len(KINDS) + 8] *= frame["kind"].eq(4).to_numpy(float)  # a new address only means something on an order
    out = frame[["account_id", "t", "_current"]].copy()
    out[[f"x{i}" for i in range(WIDTH)]] = vector
    out["clicks"] = frame["clicks"].to_numpy(float)
    return out


def sequences(frame: pd.DataFrame, account_ids, length: int = 32) -> np.ndarray:
    """(accounts, length, WIDTH + 1): each account's last ``length`` events of the period, left-padded with zeros."""
    current = frame[frame["_current"]]
    from_end = current.groupby("account_id").cumcount(ascending=False).to_numpy()
    keep = from_end < length
    current = current[keep]
    rows = pd.Index(np.asarray(account_ids, dtype=object)).get_indexer(current["account_id"].to_numpy(object))
    slot = length - 1 - from_end[keep]
    out = np.zeros((len(account_ids), length, WIDTH + 1), dtype=np.float32)
    good = rows >= 0
    values = current[[f"x{i}" for i in range(WIDTH)] + ["clicks"]].to_numpy(np.float32)
    out[rows[good], slot[good]] = values[good]
    return out


class SequenceModel:
    """A GRU over event sequences → one takeover score per account; ``network_`` holds the trained torch module."""

    def __init__(self, hidden: int = 32, epochs: int = 40, batch_size: int = 256, learning_rate: float = 3e-3,
                 seed: int = 0):
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.seed = seed

    def _network(self):
        import torch

        class Network(torch.nn.Module):
            def __init__(self, width, hidden):
                super().__init__()
                self.gru = torch.nn.GRU(width, hidden, batch_first=True)
                self.out = torch.nn.Linear(hidden, 1)

            def forward(self, x):
                _, last = self.gru(x)
                return self.out(last[-1]).squeeze(-1)

        return Network(WIDTH + 1, self.hidden)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "SequenceModel":
        import torch

        torch.manual_seed(self.seed)
        torch.set_num_threads(1)  # a tiny network: more threads only contend
        rng = np.random.default_rng(self.seed)
        self.network_ = self._network()
        optimizer = torch.optim.Adam(self.network_.parameters(), lr=self.learning_rate)
        y = np.asarray(y, np.float32)
        positives = max(float(y.sum()), 1.0)
        loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(min(50.0, (len(y) - positives) / positives)))
        # every positive in every epoch, with a sample of the negatives: the positives are a handful
        pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y == 0)
        for _ in range(self.epochs):
            chosen = np.r_[pos, rng.choice(neg, min(len(neg), 30 * max(len(pos), 1)), replace=False)]
            rng.shuffle(chosen)
            for start in range(0, len(chosen), self.batch_size):
                batch = chosen[start:start + self.batch_size]
                optimizer.zero_grad()
                loss = loss_fn(self.network_(torch.from_numpy(X[batch])), torch.from_numpy(y[batch]))
                loss.backward()
                optimizer.step()
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            logits = np.concatenate([self.network_(torch.from_numpy(X[i:i + 4096])).numpy()
                                     for i in range(0, len(X), 4096)]) if len(X) else np.array([])
        return 1 / (1 + np.exp(-logits))
