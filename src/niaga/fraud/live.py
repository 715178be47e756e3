"""A live replay: transactions scored one by one on a background thread while a page polls its counts and
latest decisions (the dashboard's fraud page). The caller gives the rows and the scoring function, so the same
replay runs over the served scorer, which logs and counts each decision."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Callable

from niaga.errors import NiagaError


class LiveReplay:
    def __init__(self, latest: int = 20):
        self.thread: threading.Thread | None = None
        self.counts: Counter = Counter()
        self.latest: deque = deque(maxlen=latest)
        self.status = "no replay yet"

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, rows: Callable[[], list[dict]], score: Callable[[dict], dict]) -> None:
        """Replay ``rows()`` through ``score`` (each result a dict with a "decision"); a running replay goes on."""
        if self.running:
            return
        self.counts, self.latest = Counter(), deque(maxlen=self.latest.maxlen)
        self.thread = threading.Thread(target=self._run, args=(rows, score), daemon=True, name="fraud-replay")
        self.thread.start()

    def _run(self, rows, score) -> None:
        try:
            self.status = "reading the transactions ..."
            records = rows()
            for i, record in enumerate(records, start=1):
                decision = score(record)
                self.counts[decision["decision"]] += 1
                self.latest.appendleft(decision)
                self.status = f"replaying: {i:,} of {len(records):,} transactions scored"
            self.status = f"replay done: {len(records):,} transactions scored"
        except NiagaError as exc:
            self.status = f"replay stopped: {exc}"
