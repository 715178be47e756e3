"""Kafka (confluent-kafka): a stream is a topic, its partitions Kafka's, the key the customer id.

A consumer is assigned its partitions explicitly (``--own``), not by the group's rebalancing: a partition's
feature state lives with the consumer that owns it, so it moves only when its owner stops (a clean stop
snapshots it) and another consumer is started for it on the same state directory. Decisions, dead letters
and the group's offsets are committed in one Kafka transaction (the transactional id is the group, stream
and partitions: a second consumer started for the same partitions fences the first off).
"""

from __future__ import annotations

import json
import time
from typing import Iterable

from niaga.stream.backend import Backend, Consumer, Message, StreamError, dead_stream

TIMEOUT = 30.0


def _kafka_error(url: str, exc) -> StreamError:
    return StreamError(f"Kafka at {url}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


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

    def consumer(self, stream: str, group: str, name: str, partitions: list[int], count: int) -> "KafkaConsumer":
        return KafkaConsumer(self, stream, group, name, partitions)

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
        from confluent_kafka import OFFSET_BEGINNING, Consumer as Reader, KafkaError, TopicPartition

        count = self.partition_count(stream)
        if count is None:
            return []
        reader = Reader({"bootstrap.servers": self.url, "group.id": f"niaga-read-{time.time_ns()}",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": True})
        reader.assign([TopicPartition(stream, p, OFFSET_BEGINNING) for p in range(count)])
        entries, ended = [], set()
        try:
            while len(ended) < count:
                message = reader.poll(TIMEOUT)
                if message is None:
                    break
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        ended.add(message.partition())
                        continue
                    raise _kafka_error(self.url, message.error())
                entries.append({key: "" if value is None else str(value)
                                for key, value in json.loads(message.value()).items()})
        finally:
            reader.close()
        return entries


class KafkaConsumer(Consumer):
    def __init__(self, backend: KafkaBackend, stream: str, group: str, name: str, partitions: list[int]):
        from confluent_kafka import OFFSET_STORED, Consumer as Reader, KafkaException, Producer, TopicPartition

        self.url, self.stream, self.partitions = backend.url, stream, partitions
        self.backend = backend
        self.reader = Reader({"bootstrap.servers": self.url, "group.id": group, "client.id": name,
                              "enable.auto.commit": False, "auto.offset.reset": "earliest",
                              "isolation.level": "read_committed"})
        self.reader.assign([TopicPartition(stream, p, OFFSET_STORED) for p in partitions])
        self.producer = Producer({"bootstrap.servers": self.url,
                                  "transactional.id": f"niaga-{group}-{stream}-{'-'.join(map(str, partitions))}"})
        try:
            self.producer.init_transactions(TIMEOUT)
        except KafkaException as exc:
            raise _kafka_error(self.url, exc) from None
        self.ready: set[str] = set()

    def pending(self) -> list[Message]:
        return []  # Kafka delivers again from the group's committed offset by itself

    def poll(self, max_messages: int, timeout: float) -> list[Message]:
        messages = []
        for message in self.reader.consume(num_messages=max_messages, timeout=timeout):
            if message.error():
                raise _kafka_error(self.url, message.error())
            kind, ms = message.timestamp()
            messages.append(Message(message.partition(), str(message.offset()), message.value(),
                                    f"{self.stream}[{message.partition()}]@{message.offset()}",
                                    ms / 1000.0 if kind and ms > 0 else time.time()))
        return messages

    def emit(self, out: str, decisions: list[tuple[Message, dict]], dead: list[tuple[Message, str]]) -> None:
        from confluent_kafka import TopicPartition

        for topic in (out, dead_stream(out)):
            if topic not in self.ready:
                self.backend.ensure(topic, self.backend.partition_count(topic) or 1)
                self.ready.add(topic)
        self.producer.begin_transaction()
        for _, decision in decisions:
            self.producer.produce(out, key=decision["transaction_id"].encode("utf-8"),
                                  value=json.dumps(decision, ensure_ascii=False).encode("utf-8"))
        for message, reason in dead:
            payload = message.payload.decode("utf-8", "replace") if isinstance(message.payload, bytes) else message.payload
            self.producer.produce(dead_stream(out), value=json.dumps({
                "source": message.source, "partition": message.partition, "message": message.id,
                "data": payload or "", "reason": reason}, ensure_ascii=False).encode("utf-8"))
        last: dict[int, int] = {}
        for message, _ in decisions:
            last[message.partition] = max(last.get(message.partition, -1), int(message.id))
        self.producer.send_offsets_to_transaction([TopicPartition(self.stream, p, offset + 1)
                                                   for p, offset in last.items()],
                                                  self.reader.consumer_group_metadata(), TIMEOUT)
        self.producer.commit_transaction(TIMEOUT)

    def lag(self) -> dict[int, int]:
        from confluent_kafka import TopicPartition

        lags = {}
        for position in self.reader.position([TopicPartition(self.stream, p) for p in self.partitions]):
            low, high = self.reader.get_watermark_offsets(position, timeout=5, cached=False)
            lags[position.partition] = max(0, high - (position.offset if position.offset >= 0 else low))
        return lags

    def close(self) -> None:
        self.reader.close()
        self.producer.flush(TIMEOUT)
