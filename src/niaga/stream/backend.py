"""One consumer interface, two brokers: what the publisher and the consumer loop need from a stream.

A stream is split into ``partitions`` by customer id (``partition_of``), so that every transaction of a
customer reaches the consumer that owns its partition and the customer's feature state lives in one place.
A consumer reads its partitions (``poll``), and hands back each batch's decisions and dead letters together
with the acknowledgement of the batch's messages (``emit``): the broker makes the three one atomic step
(Redis MULTI/EXEC, a Kafka transaction), so a decision is on the output exactly when its message is
acknowledged. Messages read and not acknowledged before a crash come back (``pending``, or Kafka's committed
offset) and are answered again.
"""

from __future__ import annotations

import json
import math
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterable

from niaga.errors import NiagaError

BACKENDS = ("redis", "kafka")
#: the fields of a decision on the output stream, in this order
DECISION_FIELDS = ("transaction_id", "fraud_score", "decision", "reasons", "partition", "message", "consumer",
                   "latency_ms")


class StreamError(NiagaError):
    """The broker cannot be reached, or a stream is not what the command expects (one line, exit 2)."""


@dataclass(frozen=True)
class Message:
    partition: int
    id: str  # the broker's position: a Redis entry id, a Kafka offset
    payload: str | None  # the transaction as JSON text (None when the message has none)
    source: str  # unique label of the message (stream or topic, partition, position), kept in the decision log
    published: float  # epoch seconds at which the broker took the message in


def partition_of(customer_id, partitions: int) -> int:
    """The partition of a customer: CRC-32 of its id (stable across processes, unlike ``hash``)."""
    if partitions <= 1 or customer_id is None:
        return 0
    return zlib.crc32(str(customer_id).encode("utf-8")) % partitions


def parse_partitions(text: str | None, count: int) -> list[int]:
    """``--own 0,2`` → [0, 2]; None → every partition."""
    if not text:
        return list(range(count))
    try:
        owned = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise StreamError(f"--own {text!r}: give partition numbers separated by commas, e.g. --own 0,2") from None
    wrong = [p for p in owned if not 0 <= p < count]
    if wrong or not owned:
        raise StreamError(f"--own {text!r}: partitions are 0 … {count - 1} (the stream has {count})")
    return owned


def jsonable(value):
    """A table cell as JSON: numpy scalars as Python numbers, times as text, NaN / NaT as null."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, (int, str, bool)):
        return value
    text = str(value)
    return None if text in ("NaT", "nan", "<NA>") else text


def encode(record: dict) -> str:
    return json.dumps({key: jsonable(value) for key, value in record.items()}, ensure_ascii=False,
                      separators=(",", ":"))


def decode(payload) -> tuple[dict | None, str]:
    """(record, "") or (None, why the message is not a transaction)."""
    if payload is None or payload == "" or payload == b"":
        return None, "empty message (no transaction JSON in the 'data' field)"
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError:
            return None, "not UTF-8 text"
    try:
        record = json.loads(payload)
    except ValueError as exc:
        return None, f"not JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(record, dict):
        return None, f"not a JSON object (a {type(record).__name__})"
    return record, ""


class Consumer(ABC):
    """A consumer of one group on some partitions of one stream."""

    partitions: list[int]

    @abstractmethod
    def pending(self) -> list[Message]:
        """Messages of the owned partitions read before and not acknowledged (a crashed run's), oldest first."""

    @abstractmethod
    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        """New messages (at most ``max_messages``), waiting at most ``timeout`` seconds for the first."""

    @abstractmethod
    def emit(self, out: str, decisions: list[tuple[Message, dict]], dead: list[tuple[Message, str]]) -> None:
        """Write the decisions to ``out`` and the dead letters to ``dead_stream(out)``, and acknowledge the
        messages, as one atomic step."""

    @abstractmethod
    def lag(self) -> dict[int, int]:
        """Per owned partition: messages in the stream not yet decided by this group."""

    def close(self) -> None:
        """Release the connection (and the partitions' ownership)."""


class Backend(ABC):
    name: str

    @abstractmethod
    def partition_count(self, stream: str) -> int | None:
        """How many partitions the stream was published with (None: not published yet)."""

    @abstractmethod
    def publish(self, stream: str, messages: Iterable[tuple[int, str, str]], partitions: int) -> int:
        """Append (partition, key, JSON payload) messages in order; returns how many."""

    @abstractmethod
    def consumer(self, stream: str, group: str, name: str, partitions: list[int], count: int,
                 out: str | None = None) -> Consumer:
        """A consumer of ``group`` owning ``partitions`` of the ``count`` the stream has, writing to ``out``."""

    @abstractmethod
    def read(self, stream: str) -> list[dict]:
        """Every entry of a (decision or dead-letter) stream, oldest first, as dicts of text."""

    @abstractmethod
    def group_lag(self, stream: str, group: str) -> dict[int, int]:
        """Per partition: messages the group has not decided yet (asked of the broker: it shows a lag that
        grows while no consumer runs)."""


def dead_stream(out: str) -> str:
    """Where the dead letters of an output stream go."""
    return f"{out}.dead"


def open_backend(kind: str, url: str) -> Backend:
    if kind == "redis":
        from niaga.stream.redis_streams import RedisBackend

        return RedisBackend(url)
    if kind == "kafka":
        from niaga.stream.kafka import KafkaBackend

        return KafkaBackend(url)
    raise StreamError(f"--backend {kind!r}: one of {', '.join(BACKENDS)}")
