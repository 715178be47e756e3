"""Feed transaction files into a stream in the order the scorer replays them (``niaga stream publish``)."""

from __future__ import annotations

import time
from typing import Callable, Iterator

import numpy as np

from niaga.fraud.schema import read_transactions
from niaga.stream.backend import Backend, encode, partition_of


def stream_order(canonical) -> np.ndarray:
    """Rows without a usable time first (they are answered without touching the state), then by time, ties in
    input order: the order ``FraudScorer.score_frame`` and ``niaga fraud replay`` use."""
    errors = canonical["error"].to_numpy(dtype=object)
    ts = canonical["ts"].to_numpy(dtype=float)
    return np.argsort(np.where(errors == "", ts, -np.inf), kind="stable")


def messages(paths, partitions: int, max_rate: float | None = None) -> tuple[int, Iterator[tuple[int, str, str]]]:
    """(count, (partition, key, JSON) of every row of the files, invalid rows included: the consumer answers
    and dead-letters them)."""
    canonical, raw = read_transactions(paths)
    order = stream_order(canonical)
    customers = canonical["customer_id"].to_numpy(dtype=object)
    columns = list(raw.columns)
    values = raw.to_numpy(dtype=object)

    def generate():
        started = time.monotonic()
        for k, row in enumerate(order.tolist()):
            if max_rate and not k % 16:  # a live feed: at most max_rate messages per second
                wait = started + k / max_rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            customer = customers[row]
            yield (partition_of(customer, partitions), "" if customer is None else str(customer),
                   encode(dict(zip(columns, values[row]))))
    return len(order), generate()


def publish(backend: Backend, stream: str, paths, partitions: int = 1, max_rate: float | None = None,
            log: Callable | None = None) -> dict:
    count, feed = messages(paths, partitions, max_rate)
    start = time.perf_counter()
    sent = backend.publish(stream, feed, partitions)
    seconds = time.perf_counter() - start
    if log:
        log(f"published {sent:,} transactions to {stream} ({partitions} partition{'s' * (partitions > 1)}) in "
            f"{seconds:.1f}s")
    return {"published": sent, "partitions": partitions, "seconds": round(seconds, 2)}
