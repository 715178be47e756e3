"""The consumer's Prometheus metrics, in a registry of its own (the consumer is its own process): served on
``--metrics-port`` at /metrics, beside the API server's. Names start with ``niaga_stream_``."""

from __future__ import annotations

import time
from collections import deque

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

RATE_WINDOW_SECONDS = 10.0


class StreamMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.decisions = Counter("niaga_stream_decisions", "Fraud decisions written to the output stream, by type",
                                 ["decision"], registry=self.registry)
        self.invalid = Counter("niaga_stream_dead_letters", "Messages answered 'invalid input' and dead-lettered",
                               registry=self.registry)
        self.lag = Gauge("niaga_stream_consumer_lag", "Messages in an owned partition not yet decided (unread + "
                                                      "read but not acknowledged)", ["partition"],
                         registry=self.registry)
        self.rate = Gauge("niaga_stream_decisions_per_second",
                          f"Decisions per second over the last {RATE_WINDOW_SECONDS:g} s", registry=self.registry)
        self.latency = Histogram("niaga_stream_latency_seconds", "Time from the broker taking a transaction in to "
                                                                 "its decision on the output stream",
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30),
                                 registry=self.registry)
        self._recent: deque[tuple[float, int]] = deque()

    def decided(self, decisions: list[dict], dead: int) -> None:
        now = time.time()
        for decision in decisions:
            self.decisions.labels(decision["decision"]).inc()
            self.latency.observe(max(0.0, decision["latency_ms"] / 1000.0))
        if dead:
            self.invalid.inc(dead)
        self._recent.append((time.monotonic(), len(decisions)))
        self.tick(now)

    def tick(self, _now: float | None = None) -> None:
        """Refresh decisions per second (also while idle, so it falls to 0)."""
        edge = time.monotonic() - RATE_WINDOW_SECONDS
        while self._recent and self._recent[0][0] < edge:
            self._recent.popleft()
        self.rate.set(sum(n for _, n in self._recent) / RATE_WINDOW_SECONDS)

    def set_lag(self, lags: dict[int, int]) -> None:
        for partition, value in lags.items():
            self.lag.labels(str(partition)).set(value)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        from prometheus_client import start_http_server

        from niaga.stream.backend import StreamError

        try:
            start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise StreamError(f"--metrics-port {port}: cannot serve metrics there ({exc.strerror})") from None


class GroupLagCollector:
    """Consumer lag asked of the broker at each scrape, for a registry other than the consumer's (the API
    server's /metrics): it keeps growing while no consumer runs, which a consumer's own gauge cannot show.
    ``registry.register(GroupLagCollector(open_backend("redis", url), "transactions", "fraud"))``."""

    def __init__(self, backend, stream: str, group: str):
        self.backend, self.stream, self.group = backend, stream, group

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("niaga_stream_group_lag", "Messages of a stream's partition the consumer group "
                                                             "has not decided yet (from the broker)",
                                   labels=["stream", "group", "partition"])
        try:
            lags = self.backend.group_lag(self.stream, self.group)
        except Exception:  # noqa: BLE001 — a scrape must not fail because the broker is away; the gap shows it
            lags = {}
        for partition, lag in sorted(lags.items()):
            family.add_metric([self.stream, self.group, str(partition)], lag)
        yield family

