"""Redis Streams: a partition is a stream key, a group is a Redis consumer group (XREADGROUP / XACK).

Keys of a stream NAME: ``NAME`` (one partition) or ``NAME:0`` … ``NAME:N-1``; ``NAME:meta`` (a hash holding
the partition count); ``NAME:owner:GROUP:P`` (which consumer of the group owns partition P: a lease that
its consumer renews, so two live consumers never hold one customer's state).
"""

from __future__ import annotations

import sys
import time
from typing import Iterable

from niaga.stream.backend import Backend, Consumer, Message, StreamError, dead_stream

LEASE_MS = 15_000
CHUNK = 1000


def partition_key(stream: str, partition: int, count: int) -> str:
    return stream if count == 1 else f"{stream}:{partition}"


def _published(entry_id: str) -> float:
    return int(entry_id.split("-", 1)[0]) / 1000.0


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else repr(value)
    return str(value)


class RedisBackend(Backend):
    name = "redis"

    def __init__(self, url: str):
        import redis

        self.url = url
        try:
            # replace, not raise: a message with broken UTF-8 must become a dead letter, not stop the consumer
            self.redis = redis.Redis.from_url(url, decode_responses=True, encoding_errors="replace")
            self.redis.ping()
        except (redis.RedisError, ValueError) as exc:
            raise StreamError(f"cannot reach Redis at {url}: {str(exc).splitlines()[0]}") from None

    def partition_count(self, stream: str) -> int | None:
        value = self.redis.hget(f"{stream}:meta", "partitions")
        return int(value) if value else None

    def publish(self, stream: str, messages: Iterable[tuple[int, str, str]], partitions: int) -> int:
        known = self.partition_count(stream)
        if known is not None and known != partitions:
            raise StreamError(f"{stream}: published before with {known} partitions, not {partitions} (a customer "
                              "would change partition and its state with it): use the same --partitions or a "
                              "new stream")
        self.redis.hset(f"{stream}:meta", "partitions", partitions)
        sent = 0
        pipe = self.redis.pipeline(transaction=False)
        for partition, key, payload in messages:
            pipe.xadd(partition_key(stream, partition, partitions), {"data": payload, "key": key or ""})
            sent += 1
            if sent % CHUNK == 0:
                pipe.execute()
        pipe.execute()
        return sent

    def consumer(self, stream: str, group: str, name: str, partitions: list[int], count: int,
                 out: str | None = None) -> "RedisConsumer":
        return RedisConsumer(self.redis, stream, group, name, partitions, count)

    def group_lag(self, stream: str, group: str) -> dict[int, int]:
        count = self.partition_count(stream) or 1
        lags = {p: key_lag(self.redis, partition_key(stream, p, count), group) for p in range(count)}
        return {p: lag for p, lag in lags.items() if lag is not None}

    def read(self, stream: str) -> list[dict]:
        entries, start = [], "-"
        while True:
            chunk = self.redis.xrange(stream, min=start, count=10_000)
            entries.extend(fields for _, fields in chunk)
            if len(chunk) < 10_000:
                return entries
            start = "(" + chunk[-1][0]


def key_lag(redis, key: str, group: str) -> int | None:
    """Entries of one partition the group has not acknowledged: not yet read, or read and pending."""
    import redis as redis_module

    try:
        info = next((g for g in redis.xinfo_groups(key) if g["name"] == group), None)
    except redis_module.ResponseError:  # no such key yet
        return None
    if info is None:
        return None
    behind = info.get("lag")
    if behind is None:  # Redis cannot tell after deletions: count what is after the group's position
        behind = len(redis.xrange(key, min="(" + info["last-delivered-id"], count=100_000))
    return int(behind) + int(info.get("pending", 0))


class RedisConsumer(Consumer):
    def __init__(self, redis, stream: str, group: str, name: str, partitions: list[int], count: int):
        import redis as redis_module

        self.redis, self.stream, self.group, self.name = redis, stream, group, name
        self.partitions = partitions
        self.keys = {partition_key(stream, p, count): p for p in partitions}
        self.leases = {p: f"{stream}:owner:{group}:{p}" for p in partitions}
        for p in partitions:
            self._take_lease(p)
        self._renewed = time.monotonic()
        for key in self.keys:
            try:  # the group reads the partition from its first entry; an existing group keeps its position
                redis.xgroup_create(key, group, id="0", mkstream=True)
            except redis_module.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise StreamError(f"{key}: cannot create consumer group {group!r}: {exc}") from None

    # -- ownership ----------------------------------------------------------------------------------
    def _take_lease(self, partition: int) -> None:
        """Own the partition; a lease another consumer holds is waited for until it expires (its consumer
        died) and refused while that consumer keeps renewing it (it is alive)."""
        key = self.leases[partition]
        deadline = time.monotonic() + LEASE_MS / 1000 + 2
        said = False
        while True:
            if self.redis.set(key, self.name, px=LEASE_MS, nx=True) or self.redis.get(key) == self.name:
                self.redis.pexpire(key, LEASE_MS)
                return
            if time.monotonic() > deadline:
                raise StreamError(f"partition {partition} of {self.stream} is owned by consumer "
                                  f"{self.redis.get(key)!r} of group {self.group!r}, which is running: give this "
                                  "consumer other partitions (--own)")
            if not said:
                print(f"partition {partition} is leased to consumer {self.redis.get(key)!r}: waiting for the lease "
                      "to expire (at most 15 s)", file=sys.stderr, flush=True)
                said = True
            time.sleep(0.25)

    def _renew(self) -> None:
        if time.monotonic() - self._renewed < LEASE_MS / 3000:
            return
        for p, key in self.leases.items():
            owner = self.redis.get(key)
            if owner not in (None, self.name):
                raise StreamError(f"partition {p} of {self.stream} was taken over by consumer {owner!r} while this "
                                  "one paused longer than its lease: stopping so one customer's state is not "
                                  "kept in two places")
            self.redis.set(key, self.name, px=LEASE_MS)
        self._renewed = time.monotonic()

    # -- reading ------------------------------------------------------------------------------------
    def _message(self, key: str, entry_id: str, fields: dict | None) -> Message:
        return Message(self.keys[key], entry_id, (fields or {}).get("data"), f"{key}#{entry_id}",
                       _published(entry_id))

    def pending(self) -> list[Message]:
        messages = []
        for key in self.keys:
            start = "0-0"
            while True:  # claim every unacknowledged entry of the partition, whichever consumer read it
                reply = self.redis.xautoclaim(key, self.group, self.name, min_idle_time=0, start_id=start, count=1000)
                start, claimed = reply[0], reply[1]
                messages.extend(self._message(key, entry_id, fields) for entry_id, fields in claimed
                                if entry_id is not None)
                if start == "0-0":
                    break
        return messages

    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        self._renew()
        reply = self.redis.xreadgroup(self.group, self.name, {key: ">" for key in self.keys}, count=max_messages,
                                      block=max(1, int(timeout * 1000)))
        return [self._message(key, entry_id, fields) for key, entries in reply or [] for entry_id, fields in entries]

    def emit(self, out: str, decisions: list[tuple[Message, dict]], dead: list[tuple[Message, str]]) -> None:
        pipe = self.redis.pipeline(transaction=True)  # MULTI … EXEC: output and acknowledgement together
        for _, decision in decisions:
            pipe.xadd(out, {key: _text(value) for key, value in decision.items()})
        for message, reason in dead:
            pipe.xadd(dead_stream(out), {"source": message.source, "partition": message.partition,
                                         "message": message.id, "data": message.payload or "", "reason": reason})
        acked: dict[str, list[str]] = {}
        for message, _ in decisions:
            acked.setdefault(message.source.rsplit("#", 1)[0], []).append(message.id)
        for key, ids in acked.items():
            pipe.xack(key, self.group, *ids)
        pipe.execute()

    def lag(self) -> dict[int, int]:
        return {p: lag for key, p in self.keys.items() if (lag := key_lag(self.redis, key, self.group)) is not None}

    def close(self) -> None:
        for key in self.leases.values():
            if self.redis.get(key) == self.name:
                self.redis.delete(key)
        self.redis.close()
