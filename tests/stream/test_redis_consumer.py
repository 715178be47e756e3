"""The stream consumer against a real redis-server: a SIGKILL mid-stream loses and repeats nothing, two
consumers split a stream by customer, poison messages are answered and dead-lettered, metrics are served."""

import json
import signal
import subprocess
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest

from niaga.cli import main
from niaga.fraud.pipeline import load_scorer, stream
from niaga.fraud.schema import read_transactions
from niaga.stream.consumer import StreamConsumer, run
from niaga.stream.publish import messages, publish

from .conftest import frame, free_port, niaga

COLUMNS = ["transaction_id", "fraud_score", "decision", "reasons"]


def reference(model, path) -> pd.DataFrame:
    """An uninterrupted replay of the file through the scorer (what `niaga fraud replay` writes)."""
    canonical, _ = read_transactions([path])
    scored, _ = stream(load_scorer(model), canonical, log=None)
    return scored[COLUMNS].reset_index(drop=True)


def assert_same_decisions(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert got["transaction_id"].is_unique, "a transaction was decided twice on the output stream"
    assert sorted(got["transaction_id"]) == sorted(expected["transaction_id"]), "transactions lost or added"
    merged = expected.merge(got[COLUMNS], on="transaction_id", suffixes=("", "_stream"))
    assert merged["decision"].tolist() == merged["decision_stream"].tolist()
    assert merged["reasons"].tolist() == merged["reasons_stream"].tolist()
    np.testing.assert_allclose(merged["fraud_score_stream"], merged["fraud_score"], atol=1e-6)


@pytest.fixture()
def backend(redis_url):
    from niaga.stream.redis_streams import RedisBackend

    return RedisBackend(redis_url)


def test_a_consumer_killed_mid_stream_restarts_with_nothing_lost_or_decided_twice(shop, backend, redis_url, names,
                                                                                 tmp_path):
    model, later = shop
    expected = reference(model, later)
    assert expected["decision"].nunique() > 1  # the comparison means something
    publish(backend, names["in"], [later])
    command = niaga("stream", "run", "--model", str(model), "--backend", "redis", "--url", redis_url,
                    "--in", names["in"], "--out", names["out"], "--state", str(tmp_path / "state"),
                    "--consumer", "c1", "--batch", "10", "--snapshot-seconds", "0.2")
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while backend.redis.xlen(names["out"]) < len(expected) // 3:
        assert first.poll() is None, first.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the consumer decided nothing in two minutes"
        time.sleep(0.002)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    killed_at = backend.redis.xlen(names["out"])
    assert 0 < killed_at < len(expected), "the kill did not land mid-stream"

    second = subprocess.run(command + ["--until-idle", "1"], capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resumed from" in second.stderr
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    assert summary["decisions"] == len(expected) - killed_at
    assert_same_decisions(frame(backend.read(names["out"])), expected)


def test_a_crash_between_logging_and_acknowledging_answers_the_batch_from_the_log(shop, backend, names, tmp_path):
    """The narrowest window: a batch is in the decision log, its output and acknowledgement never happened."""
    model, later = shop
    expected = reference(model, later)
    publish(backend, names["in"], [later])
    options = dict(state_dir=tmp_path / "state", batch=50, snapshot_seconds=1e-6, log=None)
    consumer = StreamConsumer(model, backend, names["in"], names["out"], **options)
    emit, calls = consumer.consumer.emit, []

    def broker_goes_away_on_the_fifth_batch(*args):
        calls.append(1)
        if len(calls) == 5:
            raise ConnectionError("broker went away")
        emit(*args)

    consumer.consumer.emit = broker_goes_away_on_the_fifth_batch
    with pytest.raises(ConnectionError):
        consumer.run(until_idle=1)
    assert backend.redis.xlen(names["out"]) == 200

    summary = StreamConsumer(model, backend, names["in"], names["out"], **options).run(until_idle=0.5)
    assert summary["answered_from_log"] == 50 and summary["decisions"] == len(expected) - 200
    assert_same_decisions(frame(backend.read(names["out"])), expected)


def test_two_consumers_split_the_stream_by_customer(shop, backend, redis_url, names, tmp_path):
    model, later = shop
    publish(backend, names["in"], [later], partitions=2)
    consumers = [subprocess.Popen(niaga("stream", "run", "--model", str(model), "--backend", "redis", "--url",
                                        redis_url, "--in", names["in"], "--out", names["out"], "--group", "shop",
                                        "--consumer", f"c{p}", "--own", str(p), "--until-idle", "1.5",
                                        "--state", str(tmp_path / "state")),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in (0, 1)]
    summaries = []
    for process in consumers:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-2000:]
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    assert [s["partitions"] for s in summaries] == [[0], [1]]
    assert all(s["decisions"] > 0 for s in summaries)

    got = frame(backend.read(names["out"]))
    canonical, _ = read_transactions([later])
    customer = dict(zip(canonical["transaction_id"], canonical["customer_id"]))
    got["customer"] = got["transaction_id"].map(customer)
    assert got["customer"].notna().all()
    assert (got.groupby("customer")["consumer"].nunique() == 1).all(), "a customer's state in two consumers"
    assert (got["consumer"] == "c" + got["partition"]).all()

    # each partition decided exactly as one scorer streaming that partition alone would
    count, feed = messages([later], 2)
    per_partition = {0: load_scorer(model), 1: load_scorer(model)}
    expected = pd.DataFrame([per_partition[p].score(json.loads(payload)) for p, _, payload in feed])
    assert len(expected) == count
    expected["fraud_score"] = expected["fraud_score"].astype(float)
    assert_same_decisions(got, expected[COLUMNS])


def test_poison_messages_are_answered_and_dead_lettered_and_the_consumer_goes_on(shop, backend, names, tmp_path):
    model, later = shop
    expected = reference(model, later)
    redis, stream_in = backend.redis, names["in"]
    redis.xadd(stream_in, {"data": "{not json"})
    redis.xadd(stream_in, {"something": "else"})
    redis.xadd(stream_in, {"data": "[1, 2]"})
    redis.xadd(stream_in, {"data": json.dumps({"TRANSACTION_ID": "p1", "TX_DATETIME": "2018-05-01 10:00:00",
                                               "TX_AMOUNT": 10.0})})
    redis.xadd(stream_in, {"data": b"\xff\xfe{broken utf-8"})
    publish(backend, stream_in, [later])
    summary = run(model, backend, stream_in, names["out"], until_idle=0.5, state_dir=tmp_path / "state", log=None)
    assert summary["dead_letters"] == 5 and summary["decisions"] == len(expected) + 5

    got = frame(backend.read(names["out"]))
    poison = got.iloc[:5]
    assert (poison["decision"] == "invalid input").all() and poison["fraud_score"].isna().all()
    assert poison["reasons"].tolist()[:3] == ["invalid input: not JSON (Expecting property name enclosed in double "
                                              "quotes at character 1)",
                                              "invalid input: empty message (no transaction JSON in the 'data' field)",
                                              "invalid input: not a JSON object (a list)"]
    assert poison["reasons"].iloc[3] == "invalid input: customer_id: missing" and poison["transaction_id"].iloc[3] == "p1"
    assert poison["reasons"].iloc[4].startswith("invalid input: not JSON")
    dead = backend.read(names["out"] + ".dead")
    assert [d["reason"] for d in dead] == poison["reasons"].tolist()
    assert dead[0]["data"] == "{not json" and dead[3]["message"] == poison["message"].iloc[3]
    assert_same_decisions(got.iloc[5:], expected)


def test_the_consumer_serves_lag_rate_and_decisions_by_type(shop, backend, names, tmp_path):
    model, later = shop
    expected = reference(model, later)
    publish(backend, names["in"], [later], partitions=2)
    port = free_port()
    consumer = StreamConsumer(model, backend, names["in"], names["out"], own=[0], state_dir=tmp_path / "state",
                              log=None)
    consumer.metrics.serve(port)
    consumer.run(until_idle=0.5)
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("niaga_stream_")}
    decided = frame(backend.read(names["out"]))
    assert len(decided) < len(expected)  # only partition 0's customers
    for decision, n in decided["decision"].value_counts().items():
        assert samples[f'niaga_stream_decisions_total{{decision="{decision}"}}'] == n
    assert samples['niaga_stream_consumer_lag{partition="0"}'] == 0
    assert 'niaga_stream_consumer_lag{partition="1"}' not in samples  # not owned
    assert samples["niaga_stream_decisions_per_second"] == pytest.approx(len(decided) / 10.0)
    assert samples["niaga_stream_latency_seconds_count"] == len(decided)

    # what partition 1 waits for shows as lag for its consumer before it starts
    other = StreamConsumer(model, backend, names["in"], names["out"], own=[1], state_dir=tmp_path / "state",
                           log=None)
    assert other.consumer.lag() == {1: len(expected) - len(decided)}
    other.close()

    # the same, asked of the broker from another process's registry (the API server's /metrics)
    from prometheus_client import CollectorRegistry, generate_latest

    from niaga.stream.metrics import GroupLagCollector

    registry = CollectorRegistry()
    registry.register(GroupLagCollector(backend, names["in"], "niaga"))
    text = generate_latest(registry).decode()
    sample = lambda p: f'niaga_stream_group_lag{{group="niaga",partition="{p}",stream="{names["in"]}"}}'  # noqa: E731
    assert f"{sample(0)} 0.0" in text
    assert f"{sample(1)} {float(len(expected) - len(decided))}" in text

    # the API server reports it when its settings name the stream
    from fastapi.testclient import TestClient

    from niaga.config import Settings
    from niaga.serve.app import create_app

    settings = Settings(store=tmp_path / "niaga.duckdb", stream_url=backend.url, stream_in=names["in"])
    with TestClient(create_app(settings)) as client:
        assert f"{sample(1)} {float(len(expected) - len(decided))}" in client.get("/metrics").text


def test_an_unreachable_broker_is_one_line_and_exit_2(shop, capsys):
    _, later = shop
    code = main(["stream", "publish", "--backend", "redis", "--url", f"redis://127.0.0.1:{free_port()}/0",
                 "--stream", "x", str(later)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "cannot reach Redis at redis://127.0.0.1:" in err


def test_a_partition_has_one_live_owner_and_passes_on_when_its_owner_dies(shop, backend, names, tmp_path,
                                                                          monkeypatch):
    import threading

    from niaga.stream import redis_streams
    from niaga.stream.backend import StreamError

    monkeypatch.setattr(redis_streams, "LEASE_MS", 600)  # renewed every 0.2 s while its consumer polls
    model, later = shop
    publish(backend, names["in"], [later], partitions=2)
    options = dict(own=[0], state_dir=tmp_path / "state", log=None)
    owner = StreamConsumer(model, backend, names["in"], names["out"], name="a", **options)
    running = threading.Thread(target=owner.run, kwargs={"until_idle": 4})
    running.start()
    try:
        with pytest.raises(StreamError, match="partition 0 of .* is owned by consumer 'a'"):
            StreamConsumer(model, backend, names["in"], names["out"], name="b", **options)
    finally:
        running.join(timeout=60)
    # a clean stop lets go at once; a consumer that dies holds its partitions until its lease lapses
    dying = StreamConsumer(model, backend, names["in"], names["out"], name="b", **options)
    dying.stack.close()  # killed: no snapshot, no release
    started = time.monotonic()
    heir = StreamConsumer(model, backend, names["in"], names["out"], name="c", **options)
    assert 0.3 < time.monotonic() - started < 5
    assert heir.run(until_idle=0.3)["decisions"] == 0  # partition 0 was decided by 'a' already
