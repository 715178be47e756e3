"""The recommendations the API showed, logged into the warehouse's events table in batches, off the request
path: a response is answered at once and its ``shown`` events are written within ``PAUSE`` seconds, with the
others that came meanwhile (one insert per batch instead of one per request). Whatever reads the events in this
process (the dashboard's CTR, ``POST /events``) flushes first, so it sees every response answered."""

from __future__ import annotations

import atexit
import logging
import threading
import weakref

from niaga.store.tracking import append_events


class ShownLog:
    PAUSE = 0.5

    def __init__(self, services):
        self.services = weakref.proxy(services)
        self.pending: list[dict] = []
        self.lock = threading.Lock()
        self.wake = threading.Event()
        threading.Thread(target=self._run, daemon=True, name="shown-events").start()
        atexit.register(self._last_flush)

    def add(self, events: list[dict]) -> None:
        with self.lock:
            self.pending.extend(events)
        self.wake.set()

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        if batch:
            self.services.read(lambda store: append_events(store, batch, source="api:recommend"))

    def _last_flush(self) -> None:
        try:
            self.flush()
        except ReferenceError:  # the server is gone, and nothing was pending
            pass

    def _run(self) -> None:
        while True:
            self.wake.wait()
            threading.Event().wait(self.PAUSE)  # let the batch gather
            self.wake.clear()
            try:
                self.flush()
            except ReferenceError:  # the server was closed
                return
            except Exception:  # noqa: BLE001 — keep logging later batches; this one is reported
                logging.getLogger("niaga.serve").exception("could not log the recommendations shown")


_logs: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_logs_lock = threading.Lock()


def shown_log(services) -> ShownLog:
    with _logs_lock:
        log = _logs.get(services)
        if log is None:
            log = _logs[services] = ShownLog(services)
        return log


def flush(services) -> None:
    """Write what is pending now (before reading the events)."""
    with _logs_lock:
        log = _logs.get(services)
    if log is not None:
        log.flush()
