"""The same consumer on Kafka: runs when a broker is given (NIAGA_TEST_KAFKA=HOST:9092), else skips."""

import uuid

import pytest

from niaga.stream.consumer import StreamConsumer
from niaga.stream.publish import publish

from .conftest import frame
from .test_redis_consumer import assert_same_decisions, reference


@pytest.fixture()
def kafka(kafka_url):
    pytest.importorskip("confluent_kafka", reason="confluent-kafka is not installed: pip install -e '.[stream]'")
    from niaga.stream.kafka import KafkaBackend

    return KafkaBackend(kafka_url)


def test_kafka_decisions_survive_a_failed_transaction_and_match_a_replay(kafka, shop, tmp_path):
    model, later = shop
    expected = reference(model, later)
    topic, out = f"niaga-test-{uuid.uuid4().hex[:8]}", f"niaga-test-out-{uuid.uuid4().hex[:8]}"
    publish(kafka, topic, [later], partitions=2)
    options = dict(group=f"g-{uuid.uuid4().hex[:8]}", state_dir=tmp_path / "state", batch=100,
                   snapshot_seconds=1e-6, log=None)
    consumer = StreamConsumer(model, kafka, topic, out, **options)
    emit, calls = consumer.consumer.emit, []

    def broker_goes_away_on_the_third_batch(*args):
        calls.append(1)
        if len(calls) == 3:
            consumer.consumer.producer.abort_transaction()
            raise ConnectionError("broker went away")
        emit(*args)

    consumer.consumer.emit = broker_goes_away_on_the_third_batch
    with pytest.raises(ConnectionError):
        consumer.run(until_idle=5)
    summary = StreamConsumer(model, kafka, topic, out, **options).run(until_idle=5)
    assert summary["answered_from_log"] > 0
    decided = frame(kafka.read(out))  # two partitions: each customer's decisions from one state, all of them once
    assert decided["transaction_id"].is_unique
    assert sorted(decided["transaction_id"]) == sorted(expected["transaction_id"])


def test_kafka_single_partition_equals_replay(kafka, shop, tmp_path):
    model, later = shop
    expected = reference(model, later)
    topic, out = f"niaga-test-{uuid.uuid4().hex[:8]}", f"niaga-test-out-{uuid.uuid4().hex[:8]}"
    publish(kafka, topic, [later])
    StreamConsumer(model, kafka, topic, out, group=f"g-{uuid.uuid4().hex[:8]}", state_dir=tmp_path / "state",
                   log=None).run(until_idle=5)
    assert_same_decisions(frame(kafka.read(out)), expected)
