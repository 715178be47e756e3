"""Kafka (confluent-kafka): a stream is a topic, its partitions Kafka's, the key the customer id.

A consumer is assigned its partitions explicitly (``--own``), not by the group's rebalancing: a partition's
feature state lives with the consumer that owns it, so it moves only when its owner stops (a clean stop
snapshots it) and another consumer is started for it on the same state directory. Decisions, dead letters
and the group's offsets are committed in one Kafka transaction (the transactional id is the group, stream
and partitions: a second consumer started for the same partitions fences the first off). A failed batch aborts
its transaction; a transaction its consumer left open when it died is ended by the next owner's
``init_transactions``, aborted by Apache Kafka and committed by Tansu: the next owner reads the output back
and takes the decisions it finds there as acknowledged (``KafkaConsumer._already_on_output``).
"""

from __future__ import annotations

import json
import time
from typing import Iterable

from niaga.stream.backend import Backend, Consumer, Message, StreamError, dead_stream

TIMEOUT = 30.0
#: headers of each decision: the message it answers and the consumer group, read back on a restart
SOURCE_HEADER, GROUP_HEADER = "niaga-source", "niaga-group"


def _kafka_error(url: str, exc) -> StreamError:
    return StreamError(f"Kafka at {url}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def _position(stream: str, source: str) -> tuple[int | None, int]:
    """(partition, offset) of a message label "stream[p]@offset" of ``stream``, or (None, -1)."""
    head, _, offset = source.rpartition("@")
    if not head.startswith(f"{stream}[") or not head.endswith("]") or not offset.isdigit():
        return None, -1
    partition = head[len(stream) + 1:-1]
    return (int(partition), int(offset)) if partition.isdigit() else (None, -1)


class KafkaBackend(Backend):
    name = "kafka"

    def __init__(self, url: str):
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient

        self.url = url
        self.admin = AdminClient({"bootstrap.servers": url})
        try:
            self.admin.list_topics(timeout=10)
        except KafkaException as exc:
            raise StreamError(f"cannot reach Kafka at {url}: {exc}") from None

    def partition_count(self, stream: str) -> int | None:
        topic = self.admin.list_topics(timeout=10).topics.get(stream)  # all topics: asking for one may create it
        return len(topic.partitions) if topic is not None and topic.error is None else None

    def ensure(self, topic: str, partitions: int) -> None:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import NewTopic

        known = self.partition_count(topic)
        if known is None:
            future = self.admin.create_topics([NewTopic(topic, num_partitions=partitions)])[topic]
            try:
                future.result(TIMEOUT)
            except KafkaException as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise _kafka_error(self.url, exc) from None
        elif known != partitions:
            raise StreamError(f"{topic}: the topic has {known} partitions, not {partitions} (a customer would change "
                              "partition and its state with it): use the same --partitions or a new topic")

    def publish(self, stream: str, messages: Iterable[tuple[int, str, str]], partitions: int) -> int:
        from confluent_kafka import Producer

        self.ensure(stream, partitions)
        producer = Producer({"bootstrap.servers": self.url, "enable.idempotence": True, "linger.ms": 5})
        failures = []
        sent = 0

        def delivered(error, _message):
            if error is not None:
                failures.append(error)

        for partition, key, payload in messages:
            while True:
                try:
                    producer.produce(stream, value=payload.encode("utf-8"), key=key.encode("utf-8"),
                                     partition=partition, on_delivery=delivered)
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    producer.poll(0.1)
            producer.poll(0)
            sent += 1
        if producer.flush(TIMEOUT) or failures:
            raise StreamError(f"{stream}: {len(failures) or 'some'} messages were not delivered to Kafka at "
                              f"{self.url}" + (f" ({failures[0]})" if failures else ""))
        return sent

    def consumer(self, stream: str, group: str, name: str, partitions: list[int], count: int,
                 out: str | None = None) -> "KafkaConsumer":
        return KafkaConsumer(self, stream, group, name, partitions, out)

    def group_lag(self, stream: str, group: str) -> dict[int, int]:
        from confluent_kafka import Consumer as Reader, TopicPartition

        count = self.partition_count(stream)
        if count is None:
            return {}
        reader = Reader({"bootstrap.servers": self.url, "group.id": group, "enable.auto.commit": False})
        try:
            lags = {}
            for committed in reader.committed([TopicPartition(stream, p) for p in range(count)], timeout=10):
                low, high = reader.get_watermark_offsets(committed, timeout=10, cached=False)
                lags[committed.partition] = max(0, high - (committed.offset if committed.offset >= 0 else low))
            return lags
        finally:
            reader.close()

    def read(self, stream: str) -> list[dict]:
        from confluent_kafka import OFFSET_BEGINNING, Consumer as Reader, TopicPartition

        count = self.partition_count(stream)
        if count is None:
            return []
        reader = Reader({"bootstrap.servers": self.url, "group.id": f"niaga-read-{time.time_ns()}",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": True})
        reader.assign([TopicPartition(stream, p, OFFSET_BEGINNING) for p in range(count)])
        try:
            return [{key: "" if value is None else str(value) for key, value in json.loads(message.value()).items()}
                    for message in _to_the_end(reader, count, self.url)]
        finally:
            reader.close()


def _to_the_end(reader, partitions: int, url: str):
    """The messages of ``reader``'s assigned partitions (``enable.partition.eof``) up to each one's end; a poll
    that waits ``TIMEOUT`` for nothing ends it too."""
    from confluent_kafka import KafkaError

    ended = set()
    while len(ended) < partitions:
        message = reader.poll(TIMEOUT)
        if message is None:
            return
        if message.error():
            if message.error().code() == KafkaError._PARTITION_EOF:
                ended.add(message.partition())
                continue
            raise _kafka_error(url, message.error())
        yield message


class KafkaConsumer(Consumer):
    def __init__(self, backend: KafkaBackend, stream: str, group: str, name: str, partitions: list[int],
                 out: str | None = None):
        from confluent_kafka import OFFSET_STORED, Consumer as Reader, KafkaException, Producer, TopicPartition

        self.url, self.stream, self.group, self.partitions = backend.url, stream, group, partitions
        self.backend = backend
        self.reader = Reader({"bootstrap.servers": self.url, "group.id": group, "client.id": name,
                              "enable.auto.commit": False, "auto.offset.reset": "earliest",
                              "isolation.level": "read_committed"})
        self.reader.assign([TopicPartition(stream, p, OFFSET_STORED) for p in partitions])
        self.producer = Producer({"bootstrap.servers": self.url,
                                  "transactional.id": f"niaga-{group}-{stream}-{'-'.join(map(str, partitions))}"})
        # where a transaction a previous owner left open may lie: the output's last stable offsets, before
        # init_transactions ends that transaction
        stable = self._stable_offsets(out)
        try:
            self.producer.init_transactions(TIMEOUT)
        except KafkaException as exc:
            raise _kafka_error(self.url, exc) from None
        self.ready: set[str] = set()
        self.skipped: dict[int, int] = {}  # partition → last offset taken as acknowledged, not yet committed
        self.on_output = self._already_on_output(out, stable) if stable else set()

    def _stable_offsets(self, out: str | None) -> dict[int, int]:
        """{partition of ``out``: its end as a read_committed reader sees it (the last stable offset)}."""
        from confluent_kafka import TopicPartition

        count = self.backend.partition_count(out) if out else None
        if not count:
            return {}
        return {p: self.reader.get_watermark_offsets(TopicPartition(out, p), timeout=TIMEOUT, cached=False)[1]
                for p in range(count)}

    def _already_on_output(self, out: str, stable: dict[int, int]) -> set[str]:
        """Labels of this group's messages, not yet acknowledged, whose decisions are on the output all the same.

        Apache Kafka aborts the transaction a crashed owner left open when the next owner calls init_transactions;
        Tansu commits it instead. Its decisions are then on the output while their messages' offsets were not
        committed, and they would be decided twice. So the decisions that came after the output's last stable
        offset are read back (on Apache Kafka none of ours is among them) and their messages are taken as
        acknowledged: they were decided and logged, and the restored state holds them.
        """
        from confluent_kafka import Consumer as Reader, TopicPartition

        committed = {tp.partition: tp.offset for tp in self.reader.committed(
            [TopicPartition(self.stream, p) for p in self.partitions], timeout=TIMEOUT)}
        reader = Reader({"bootstrap.servers": self.url, "group.id": f"niaga-recover-{time.time_ns()}",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": True})
        reader.assign([TopicPartition(out, p, offset) for p, offset in stable.items()])
        found = set()
        try:
            for message in _to_the_end(reader, len(stable), self.url):
                headers = dict(message.headers() or [])
                if headers.get(GROUP_HEADER, b"").decode() != self.group:
                    continue
                source = headers.get(SOURCE_HEADER, b"").decode()
                partition, offset = _position(self.stream, source)
                if partition in self.partitions and offset >= committed.get(partition, -1):
                    found.add(source)
        finally:
            reader.close()
        return found

    def pending(self) -> list[Message]:
        return []  # Kafka delivers again from the group's committed offset by itself

    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        messages = []
        for message in self.reader.consume(num_messages=max_messages, timeout=timeout):
            if message.error():
                raise _kafka_error(self.url, message.error())
            source = f"{self.stream}[{message.partition()}]@{message.offset()}"
            if source in self.on_output:  # decided before a restart and on the output: acknowledged with the next
                self.on_output.discard(source)
                self.skipped[message.partition()] = max(self.skipped.get(message.partition(), -1), message.offset())
                continue
            kind, ms = message.timestamp()
            messages.append(Message(message.partition(), str(message.offset()), message.value(), source,
                                    ms / 1000.0 if kind and ms > 0 else time.time()))
        if self.skipped and not messages:
            self._commit([], [], None)
        return messages

    def emit(self, out: str, decisions: list[tuple[Message, dict]], dead: list[tuple[Message, str]]) -> None:
        for topic in (out, dead_stream(out)):
            if topic not in self.ready:
                self.backend.ensure(topic, self.backend.partition_count(topic) or 1)
                self.ready.add(topic)
        self._commit(decisions, dead, out)

    def _commit(self, decisions: list[tuple[Message, dict]], dead: list[tuple[Message, str]], out: str | None) -> None:
        """One transaction: the decisions and dead letters, and the offsets after them (and after the messages
        taken as acknowledged). On any failure it is aborted and the error raised: the batch comes back."""
        from confluent_kafka import TopicPartition

        last = dict(self.skipped)
        for message, _ in decisions:
            last[message.partition] = max(last.get(message.partition, -1), int(message.id))
        self.producer.begin_transaction()
        try:
            for message, decision in decisions:
                self.producer.produce(out, key=decision["transaction_id"].encode("utf-8"),
                                      value=json.dumps(decision, ensure_ascii=False).encode("utf-8"),
                                      headers=self._headers(message))
            for message, reason in dead:
                payload = (message.payload.decode("utf-8", "replace") if isinstance(message.payload, bytes)
                           else message.payload)
                self.producer.produce(dead_stream(out), value=json.dumps({
                    "source": message.source, "partition": message.partition, "message": message.id,
                    "data": payload or "", "reason": reason}, ensure_ascii=False).encode("utf-8"))
            self.producer.send_offsets_to_transaction([TopicPartition(self.stream, p, offset + 1)
                                                       for p, offset in last.items()],
                                                      self.reader.consumer_group_metadata(), TIMEOUT)
            self.producer.commit_transaction(TIMEOUT)
        except BaseException:
            self._abort()
            raise
        self.skipped.clear()

    def _headers(self, message: Message) -> list[tuple[str, bytes]]:
        return [(SOURCE_HEADER, message.source.encode("utf-8")), (GROUP_HEADER, self.group.encode("utf-8"))]

    def _abort(self) -> None:
        """Abort the open transaction after a failed batch: what it wrote is never read (read_committed) and the
        batch's messages come back. When the broker cannot be reached the abort fails too; the next consumer
        for these partitions aborts it then, as its ``init_transactions`` fences this producer off."""
        from confluent_kafka import KafkaException

        try:
            self.producer.abort_transaction(TIMEOUT)
        except KafkaException:
            pass

    def lag(self) -> dict[int, int]:
        from confluent_kafka import TopicPartition

        lags = {}
        for position in self.reader.position([TopicPartition(self.stream, p) for p in self.partitions]):
            # the end each fetch response brings: no request that would queue behind a fetch waiting for data
            low, high = self.reader.get_watermark_offsets(position, cached=True)
            if high < 0 or (position.offset < 0 and low < 0):  # nothing fetched yet
                low, high = self.reader.get_watermark_offsets(position, timeout=5, cached=False)
            lags[position.partition] = max(0, high - (position.offset if position.offset >= 0 else low))
        return lags

    def close(self) -> None:
        self.reader.close()
        self.producer.flush(TIMEOUT)
