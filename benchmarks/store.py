"""The operational tables on PostgreSQL beside the embedded DuckDB: what each operation the running system does
costs on either, and what PostgreSQL adds (several processes writing at once).

Both in one run, on the same synthetic rows: a throwaway PostgreSQL cluster on a unix socket (the tests' own,
``tests/conftest.py``, with durability on: each commit waits for the disk, as in production) and a DuckDB
file in a temporary folder. Timings are
the median of repeated calls after one warm-up. The concurrency row starts 4 processes that each add 50 API keys
at once: on PostgreSQL all land; on DuckDB a second process cannot open the file while another holds it.

Run: python benchmarks/store.py [--decisions 200000]
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _common import save  # noqa: E402

from niaga.errors import DataError  # noqa: E402
from niaga.fraud.log import DecisionLog  # noqa: E402
from niaga.store import Store  # noqa: E402
from niaga.store.ingest import ingest  # noqa: E402


def test_helpers(relative: str):
    spec = importlib.util.spec_from_file_location(relative.replace("/", "_").removesuffix(".py"), ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def median_ms(call, repeat: int = 20) -> float:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def add_keys(target: str, warehouse: str, count: int, results) -> None:
    try:
        with Store(target, warehouse=warehouse) as store:
            for i in range(count):
                store.add_key(f"worker-{i}")
        results.put(count)
    except DataError:
        results.put(0)


def concurrent_keys(target: str, warehouse: str, processes: int = 4, each: int = 50) -> int:
    """How many of ``processes`` × ``each`` keys land when the processes add them at the same time."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=add_keys, args=(target, warehouse, each, results)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    landed = sum(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join()
    return landed


def measure(name: str, target: str, folder: Path, decisions: int) -> dict:
    transactions = test_helpers("tests/store/test_operational.py").transactions
    rng = np.random.default_rng(0)
    ids = [f"t{i}" for i in range(decisions)]
    canonical, scored = transactions(ids, rng.random(decisions), np.where(rng.random(decisions) < 0.03, "review",
                                                                           "approve"))
    batch = transactions([f"b{i}" for i in range(150)], rng.random(150), ["approve"] * 150, start="2024-05-01")
    row = {"backend": name}
    with DecisionLog(target) as log:
        start = time.perf_counter()
        log.append(canonical, scored)
        row["append_decisions_per_s"] = decisions / (time.perf_counter() - start)
        row["append_150_ms"] = median_ms(lambda: log.append(*batch), repeat=10)
        row["open_cases_ms"] = median_ms(lambda: log.cases("open", 50), repeat=5)
        row["case_count"] = log.case_count("open")
        row["resolve_ms"] = median_ms(lambda: log.resolve(ids[int(rng.integers(decisions))], "legit"))
    events = folder / f"events-{name}.csv"
    pd.DataFrame({"user_id": [f"u{i % 5000}" for i in range(100_000)], "item_id": [f"i{i % 800}" for i in range(100_000)],
                  "event": "view", "timestamp": pd.date_range("2024-01-01", periods=100_000, freq="s")}
                 ).to_csv(events, index=False)
    warehouse = str(folder / f"warehouse-{name}.duckdb")
    with Store(target, warehouse=warehouse) as store:
        key = store.add_key("bench")
        row["check_key_ms"] = median_ms(lambda: store.check_key(key), repeat=200)
        row["add_key_ms"] = median_ms(lambda: store.add_key("more"), repeat=50)
        row["models_ms"] = median_ms(store.models, repeat=50)
        start = time.perf_counter()
        ingest(store, "events", [events], log=lambda message: None, progress=False)
        row["ingest_events_per_s"] = 100_000 / (time.perf_counter() - start)
    with Store(target, warehouse=warehouse) as holder:  # a running server holds the store
        holder.count("events")
        row["concurrent_keys_landed"] = concurrent_keys(str(target), warehouse)
    row["concurrent_keys_offered"] = 200
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    args = parser.parse_args()
    conftest = test_helpers("tests/conftest.py")
    with tempfile.TemporaryDirectory() as scratch, conftest.postgres_cluster(durable=True) as url:
        folder = Path(scratch)
        rows = [measure("duckdb", str(folder / "store.duckdb"), folder, args.decisions),
                measure("postgresql", url, folder, args.decisions)]
    duck, pg = rows
    lines = [
        "## The store: operational tables on DuckDB and on PostgreSQL (`benchmarks/store.py`)",
        "",
        f"The same operations on the embedded DuckDB file and on PostgreSQL 15 (a local cluster on a unix socket, "
        f"Debian's defaults: each commit waits for the disk), in one run, synthetic rows: a decision log of {args.decisions:,} "
        f"decisions (3 % sent to review), one batch of the server's decision writer (150 decisions), the review "
        f"queue's first 50 open cases of {duck['case_count']:,}, resolving a case, checking and adding an API key, "
        f"reading the registry, ingesting 100,000 events; then 4 processes adding 50 keys each while a fifth "
        f"holds the store (as a running server does). Medians of repeated calls. No target: this shows what "
        f"moving the operational tables to PostgreSQL costs and buys. The machine's load average was "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end: read the ratios, measured side by side.",
        "",
        "| operation | DuckDB | PostgreSQL | PostgreSQL / DuckDB |",
        "|---|---|---|---|",
    ]
    for label, field, unit, fmt in [
        ("append decisions (bulk)", "append_decisions_per_s", "/s", "{:,.0f}"),
        ("append a batch of 150 decisions", "append_150_ms", "ms", "{:.1f}"),
        ("review queue: first 50 open cases", "open_cases_ms", "ms", "{:.1f}"),
        ("resolve a case", "resolve_ms", "ms", "{:.2f}"),
        ("check an API key (uncached)", "check_key_ms", "ms", "{:.2f}"),
        ("add an API key", "add_key_ms", "ms", "{:.2f}"),
        ("read the model registry", "models_ms", "ms", "{:.2f}"),
        ("ingest events (validated, deduplicated)", "ingest_events_per_s", "rows/s", "{:,.0f}"),
    ]:
        lines.append(f"| {label} | {fmt.format(duck[field])} {unit} | {fmt.format(pg[field])} {unit} | "
                     f"{pg[field] / duck[field]:.2f} |")
    lines.append(f"| keys added by 4 processes at once while a server holds the store | "
                 f"{duck['concurrent_keys_landed']} of 200 | {pg['concurrent_keys_landed']} of 200 | |")
    save("store", {"decisions": args.decisions, "rows": rows}, "\n".join(lines))


if __name__ == "__main__":
    main()
