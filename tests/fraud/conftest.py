"""Small synthetic card streams in the handbook's layout, made fresh in each test (no shared data needed)."""

import numpy as np
import pandas as pd
import pytest


def simulate(n_customers: int = 80, n_terminals: int = 40, days: int = 40, seed: int = 0) -> pd.DataFrame:
    """A miniature of the handbook simulator: per-customer spending, compromised terminals (all their
    transactions fraud for 10 days) and compromised cards (a third of their transactions ×5, fraud).
    Some transactions of one customer share a timestamp, to exercise the tie order."""
    rng = np.random.default_rng(seed)
    mean = rng.uniform(5, 100, n_customers)
    rate = rng.uniform(0.5, 4, n_customers)
    rows = []
    for c in range(n_customers):
        for day in range(days):
            for _ in range(rng.poisson(rate[c])):
                rows.append((c, rng.integers(n_terminals), day * 86400 + int(rng.integers(0, 86400)),
                             max(0.0, round(rng.normal(mean[c], mean[c] / 2), 2))))
    frame = pd.DataFrame(rows, columns=["CUSTOMER_ID", "TERMINAL_ID", "TX_TIME_SECONDS", "TX_AMOUNT"])
    twins = frame.sample(20, random_state=seed).assign(TX_AMOUNT=lambda d: d["TX_AMOUNT"] + 1)
    frame = pd.concat([frame, twins], ignore_index=True).sort_values("TX_TIME_SECONDS", kind="stable")
    frame["TX_FRAUD"] = 0
    for start in range(0, days, 5):
        terminal = rng.integers(n_terminals)
        hit = (frame["TERMINAL_ID"] == terminal) & frame["TX_TIME_SECONDS"].between(start * 86400, (start + 10) * 86400)
        frame.loc[hit, "TX_FRAUD"] = 1
        card = rng.integers(n_customers)
        own = frame.index[(frame["CUSTOMER_ID"] == card)
                          & frame["TX_TIME_SECONDS"].between(start * 86400, (start + 7) * 86400)]
        chosen = own[rng.random(len(own)) < 1 / 3]
        frame.loc[chosen, "TX_AMOUNT"] *= 5
        frame.loc[chosen, "TX_FRAUD"] = 1
    frame["TX_DATETIME"] = pd.Timestamp("2018-04-01") + pd.to_timedelta(frame["TX_TIME_SECONDS"], unit="s")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "TRANSACTION_ID", np.arange(len(frame)))
    return frame[["TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_FRAUD"]]


def ecommerce_like(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """First purchases with device and IP sharing, in the e-commerce file's layout (rows not time-ordered)."""
    rng = np.random.default_rng(seed)
    signup = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 200 * 86400, n), unit="s")
    fraud = rng.random(n) < 0.15
    delay = np.where(fraud & (rng.random(n) < 0.6), 0, rng.integers(3600, 90 * 86400, n))
    devices = np.array([f"D{i:05d}" for i in range(n)], dtype=object)
    shared = np.flatnonzero(fraud)[: n // 10]
    devices[shared] = "DSHARED0001"
    return pd.DataFrame({
        "user_id": rng.permutation(100000)[:n], "signup_time": signup,
        "purchase_time": signup + pd.to_timedelta(delay, unit="s"), "purchase_value": rng.integers(9, 150, n),
        "device_id": devices, "source": rng.choice(["SEO", "Ads", "Direct"], n),
        "browser": rng.choice(["Chrome", "IE", "Safari"], n), "sex": rng.choice(["M", "F"], n),
        "age": rng.integers(18, 70, n), "ip_address": rng.uniform(1e8, 4e9, n).round(1), "class": fraud.astype(int)})


@pytest.fixture()
def stream():
    return simulate()
