"""Experiments: are niaga's A/B statistics valid, do they agree with GrowthBook's engine, and how fast is
``niaga experiment analyze`` on a million events?

Validity, by simulation (``niaga.analytics.experiment.simulate``: binomial conversions per arm, judged by the
functions ``analyze`` uses; and end to end through ``analyze`` on per-user tables):

- A/A: 1,000 experiments without a true effect, each 20,000 users per arm; target 5 % +- 1.5 % rejected at 0.05.
- Power: 1,000 experiments at the size ``niaga experiment plan`` gives for baseline 5 %, +10 % relative lift,
  alpha 0.05, power 80 %; target 80 % +- 5 % rejected.
- Peeking: 1,000 A/A experiments looked at every day for 28 days (1,000 users per arm per day), stopped at the
  first p under 0.05: the plain p-value's false-positive rate, and the sequential p-value's (target <= 5 %).
- SRM: a 52/48 split of a planned 50/50 at the planned size: share flagged (target: flagged; we ask >= 95 %),
  and the false flags of a true 50/50.

Agreement with GrowthBook's frequentist engine (gbstats, the library GrowthBook's warehouse-native A/B
analysis runs): on 1,000 random conversion experiments, the largest difference in lift, interval bounds and
p-value. gbstats pins old pandas / numpy, so it is read from a folder of its own:
``pip install --no-deps --target .cache/gbstats gbstats==0.8.0`` then ``--gbstats .cache/gbstats``.

Speed: ``niaga experiment analyze`` (read, analyze, write; in this process, imports done) on 1,000,000 logged
events (shown / click / order, 10 experiments), on a 1,000,000-row per-user table with CUPED, and on the
warehouse's events table (``store:events``) holding the same 1,000,000 events. Target <= 10 s.

Run: python benchmarks/analytics_experiment.py [--gbstats DIR] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from niaga.analytics.experiment import simulate  # noqa: E402
from niaga.analytics.experiment.analysis import ratio_lift  # noqa: E402
from niaga.analytics.experiment.design import users_per_arm  # noqa: E402
from niaga.analytics.experiment.pipeline import analyze  # noqa: E402


def validity(experiments: int) -> dict:
    plan = users_per_arm(0.05, 0.1, 0.05, 0.8)
    started = time.perf_counter()
    found = {
        "aa_false_positive_rate": simulate.false_positive_rate(experiments, 20_000, 0.05, seed=11),
        "aa_false_positive_rate_small": simulate.false_positive_rate(experiments, 1_000, 0.2, seed=12),
        "planned_users_per_arm": plan.users_per_arm,
        "power_at_planned_size": simulate.power(plan.users_per_arm, 0.05, 0.1, experiments, seed=13),
        "peeking": simulate.peeking(experiments, 1_000, 28, 0.05, seed=14),
        "peeking_power_with_effect": simulate.peeking(experiments, 1_250, 28, 0.05, lift=0.1, seed=15),
        "srm_52_48_flagged_at_planned_size": simulate.srm_flag_rate(2 * plan.users_per_arm, 0.5, 0.52, experiments),
        "srm_52_48_flagged_at_20000_users": simulate.srm_flag_rate(20_000, 0.5, 0.52, experiments),
        "srm_false_flags_50_50": simulate.srm_flag_rate(2 * plan.users_per_arm, 0.5, 0.5, experiments, seed=16),
    }
    found["aa_end_to_end"] = aa_end_to_end(experiments)
    found["seconds"] = round(time.perf_counter() - started, 2)
    return found


def aa_end_to_end(experiments: int, users: int = 2_000) -> float:
    """A/A experiments as per-user tables through ``analyze``: the share of p-values under 0.05."""
    rng = np.random.default_rng(21)
    n = experiments * users
    frame = pd.DataFrame({"experiment": np.repeat(np.arange(experiments), users).astype(str),
                          "user": np.arange(n).astype(str), "variant": np.where(rng.random(n) < 0.5, "control", "b"),
                          "converted": (rng.random(n) < 0.1).astype(int), "revenue": rng.gamma(1.0, 100.0, n)})
    result = analyze(frame)
    return float((result["p_value"] < 0.05).mean())


def agreement(gbstats_dir: str | None, experiments: int = 1000) -> dict | None:
    if not gbstats_dir:
        return None
    sys.path.insert(0, gbstats_dir)
    from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
    from gbstats.models.statistics import ProportionStatistic

    rng = np.random.default_rng(31)
    worst = {"lift": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p_value": 0.0}
    for _ in range(experiments):
        n_c, n_t = rng.integers(500, 50_000, 2)
        rate = rng.uniform(0.01, 0.3)
        c, t = rng.binomial(n_c, rate), rng.binomial(n_t, rate * rng.uniform(0.85, 1.2))
        theirs = TwoSidedTTest(ProportionStatistic(n=int(n_c), sum=float(c)), ProportionStatistic(n=int(n_t), sum=float(t)),
                               FrequentistConfig()).compute_result()
        m_c, m_t = c / n_c, t / n_t
        ours = ratio_lift(n_c, m_c, m_c * (1 - m_c) * n_c / (n_c - 1), n_t, m_t, m_t * (1 - m_t) * n_t / (n_t - 1))
        for key, value in (("lift", theirs.expected), ("ci_low", theirs.ci[0]), ("ci_high", theirs.ci[1]),
                           ("p_value", theirs.p_value)):
            worst[key] = max(worst[key], abs(float(ours[key]) - value))
    return {"experiments": experiments, "max_abs_difference": worst}


def events(n: int, seed: int = 41) -> pd.DataFrame:
    """A logged event stream: 10 experiments, users shown recommendations, some click, fewer order."""
    rng = np.random.default_rng(seed)
    users = max(n // 5, 1)
    user = rng.integers(0, users, n)
    experiment = (user % 10).astype(str)
    variant = np.where((user * 2654435761 % 97) < 48, "control", "treatment")
    kind = rng.choice(np.array(["shown", "click", "order"]), n, p=[0.8, 0.15, 0.05])
    return pd.DataFrame({"user_id": user.astype(str), "item_id": rng.integers(0, 5000, n).astype(str),
                         "event": kind, "timestamp": pd.Timestamp("2026-11-01") + pd.to_timedelta(np.sort(
                             rng.integers(0, 30 * 86400, n)), unit="s"),
                         "request_id": rng.integers(0, n // 3, n).astype(str), "source": "als",
                         "experiment": "exp-" + experiment, "variant": variant,
                         "position": rng.integers(1, 11, n), "value": np.where(kind == "order", rng.gamma(2, 80_000, n), np.nan)})


def per_user(n: int, seed: int = 42) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pre = rng.gamma(2.0, 50.0, n)
    return pd.DataFrame({"experiment": "exp-" + (np.arange(n) % 10).astype(str), "user": np.arange(n).astype(str),
                         "variant": np.where(rng.random(n) < 0.5, "control", "treatment"),
                         "converted": (rng.random(n) < 0.08).astype(int), "revenue": 0.6 * pre + rng.normal(0, 20, n),
                         "pre_revenue": pre})


def timed(argv: list[str]) -> float:
    from niaga.cli import main

    started = time.perf_counter()
    code = main(argv)
    if code:
        raise SystemExit(f"niaga {' '.join(argv)} failed with {code}")
    return round(time.perf_counter() - started, 2)


def speed(n: int) -> dict:
    from niaga.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        events(n).to_parquet(tmp / "events.parquet")
        per_user(n).to_parquet(tmp / "users.parquet")
        found = {"rows": n}
        found["events_file_seconds"] = timed(["experiment", "analyze", "--data", str(tmp / "events.parquet"),
                                              "--output", str(tmp / "out.csv")])
        found["per_user_file_cuped_seconds"] = timed(["experiment", "analyze", "--data", str(tmp / "users.parquet"),
                                                      "--output", str(tmp / "out.csv")])
        os.environ["NIAGA_STORE"] = str(tmp / "niaga.duckdb")
        with Store(tmp / "niaga.duckdb") as store:
            columns = "user_id, item_id, event, timestamp, request_id, source, experiment, variant, position, value"
            store.db.execute(f"INSERT INTO events ({columns}) SELECT {columns} FROM read_parquet(?)",
                             [str(tmp / "events.parquet")])
        found["store_events_seconds"] = timed(["experiment", "analyze", "--data", "store:events", "--output",
                                               str(tmp / "out.csv")])
        del os.environ["NIAGA_STORE"]
    return found


def verdict(ok: bool) -> str:
    return "met" if ok else "not met"


def markdown(valid: dict, peer: dict | None, fast: dict) -> str:
    aa, power, peek = valid["aa_false_positive_rate"], valid["power_at_planned_size"], valid["peeking"]
    srm = valid["srm_52_48_flagged_at_planned_size"]
    slowest = max(fast["events_file_seconds"], fast["per_user_file_cuped_seconds"], fast["store_events_seconds"])
    lines = [
        "## Experiments (`benchmarks/analytics_experiment.py`)", "",
        "Validity by simulation (conversion experiments drawn as binomial counts, judged by the functions "
        "`niaga experiment analyze` runs: delta-method relative lift, chi-square SRM, mSPRT sequential p-value).", "",
        "| figure | protocol | target | ours | verdict |", "|---|---|---|---|---|",
        f"| A/A false-positive rate | 1,000 A/A tests, 20,000 users per arm, 5 % conversion, alpha 0.05 | 5 % ± 1.5 % "
        f"| {aa:.1%} | {verdict(0.035 <= aa <= 0.065)} |",
        f"| A/A false-positive rate, small tests | 1,000 A/A tests, 1,000 users per arm, 20 % conversion | 5 % ± 1.5 % | "
        f"{valid['aa_false_positive_rate_small']:.1%} | {verdict(0.035 <= valid['aa_false_positive_rate_small'] <= 0.065)} |",
        f"| A/A end to end through `analyze` | 1,000 per-user tables, 2,000 users each, 2 metrics (conversion, revenue): 2,000 p-values | "
        f"5 % ± 1.5 % | {valid['aa_end_to_end']:.1%} | {verdict(0.035 <= valid['aa_end_to_end'] <= 0.065)} |",
        f"| power at the planned size | `plan --baseline 0.05 --mde 0.1` = {valid['planned_users_per_arm']:,} users per "
        f"arm; 1,000 tests with a true +10 % | 80 % ± 5 % | {power:.1%} | {verdict(0.75 <= power <= 0.85)} |",
        f"| peeking daily, sequential p-value | 1,000 A/A tests, 28 daily looks, stop at the first p < 0.05 | ≤ 5 % | "
        f"{peek['sequential_p_any_look']:.1%} | {verdict(peek['sequential_p_any_look'] <= 0.05)} |",
        f"| peeking daily, plain p-value (why the sequential one exists) | the same tests | — | "
        f"{peek['fixed_p_any_look']:.1%} | — |",
        f"| sequential power with a true +10 % | 28 daily looks of 1,250 users per arm (35,000 at the end) | — | "
        f"{valid['peeking_power_with_effect']['sequential_p_any_look']:.1%} (plain p at the end: "
        f"{valid['peeking_power_with_effect']['fixed_p_final_look']:.1%}) | — |",
        f"| SRM: 52/48 of a planned 50/50 flagged | 1,000 tests at the planned size, p < 0.001 | flagged | {srm:.1%} | "
        f"{verdict(srm >= 0.95)} |",
        f"| SRM: 52/48 flagged with 20,000 users in all | 1,000 tests | — | {valid['srm_52_48_flagged_at_20000_users']:.1%} | — |",
        f"| SRM false flags of a true 50/50 | 1,000 tests at the planned size | ≈ 0.1 % | {valid['srm_false_flags_50_50']:.1%} | — |",
        "", "The planned size is for the test `analyze` runs (the relative lift's delta-method variance, as GrowthBook's "
        "engine); the textbook two-proportion formula (Evan Miller's calculator) gives 31,234 per arm for the same inputs.", ""]
    if peer:
        worst = peer["max_abs_difference"]
        lines += [f"Against GrowthBook's engine (gbstats 0.8.0, `TwoSidedTTest` on proportions), "
                  f"{peer['experiments']:,} random conversion experiments (500–50,000 users per arm, 1–30 % "
                  f"conversion): largest absolute difference in lift {worst['lift']:.1e}, interval bounds "
                  f"{max(worst['ci_low'], worst['ci_high']):.1e}, p-value {worst['p_value']:.1e} (gbstats takes the "
                  "variance of a proportion as p(1 − p), niaga as the sample variance: n/(n − 1) apart). "
                  "Gorse has no A/B testing to compare with (its issue #366).", ""]
    else:
        lines += ["GrowthBook's engine was not compared in this run (give `--gbstats DIR`).", ""]
    lines += ["| `niaga experiment analyze` on | rows | seconds (read, analyze, write) | target | verdict |",
              "|---|---|---|---|---|",
              f"| logged events (Parquet; shown / click / order -> users) | {fast['rows']:,} | "
              f"{fast['events_file_seconds']} | ≤ 10 s | {verdict(fast['events_file_seconds'] <= 10)} |",
              f"| per-user table with CUPED covariate (Parquet) | {fast['rows']:,} | "
              f"{fast['per_user_file_cuped_seconds']} | ≤ 10 s | {verdict(fast['per_user_file_cuped_seconds'] <= 10)} |",
              f"| the warehouse's events table (`store:events`) | {fast['rows']:,} | {fast['store_events_seconds']} | "
              f"≤ 10 s | {verdict(fast['store_events_seconds'] <= 10)} |", "",
              f"Slowest: {slowest} s on a shared 2-core machine."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gbstats", help="folder with gbstats installed (pip install --no-deps --target DIR gbstats)")
    parser.add_argument("--quick", action="store_true", help="100,000 events and 200 simulated tests (a smoke run)")
    args = parser.parse_args()
    experiments, rows = (200, 100_000) if args.quick else (1000, 1_000_000)
    valid = validity(experiments)
    peer = agreement(args.gbstats, experiments)
    fast = speed(rows)
    payload = {"validity": valid, "gbstats_agreement": peer, "speed": fast}
    if args.quick:
        print(payload)
        return
    save("experiments", payload, markdown(valid, peer, fast))


if __name__ == "__main__":
    main()
