"""Fraud benchmark → docs/benchmarks.md (section "fraud") and benchmarks/results/fraud.json.

1. Fraud Detection Handbook simulation, the book's P3 protocol: 4 prequential folds (7 training days, 7 delay
   days, 7 test days; tests 2018-08-08 .. 09-04), cards already known to be compromised removed from each test
   day; AUC ROC, Average Precision, Card Precision@100 as mean ± std over the folds. On the same folds: the
   handbook-style baselines (its 15 features; logistic regression, LightGBM defaults, the book's chosen XGBoost
   configuration run in LightGBM), niaga's model with and without the autoencoder feature, the autoencoder
   alone (unsupervised), and the label-delay ceiling. Published rows come from published_baselines.csv.
2. E-commerce first purchases: time-ordered and random stratified 80/20 splits; ROC-AUC and PR-AUC (AP) of the
   model and of the rules alone; where the signal lies in the time-ordered test period (an oracle ceiling, and a
   random cross-validation over the purchases without a signal).
3. Carried state: a model trained on 2018-06..07 replays 2018-08 from an empty state, from the state it
   carries from training, and from an empty state warmed up on 2018-07; AP from day 8 on. Then, with the state
   loaded: replay throughput, single-transaction latency (p50/p99), the state's size per 1,000 customers and
   terminals, and the time from a restart (model load + snapshot restore) to the first decision.

Run: .venv/bin/python benchmarks/fraud.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from niaga.data import fraud as fraud_data  # noqa: E402
from niaga.fraud.features import HANDBOOK_FEATURES, FeatureConfig, IpCountries, batch_features  # noqa: E402
from niaga.fraud.metrics import fraud_metrics  # noqa: E402
from niaga.fraud.model import FraudModel  # noqa: E402
from niaga.fraud.rules import load_rules  # noqa: E402
from niaga.fraud.schema import normalize  # noqa: E402

DAY = 86400
P3_TRAINING_STARTS = ["2018-08-15", "2018-08-08", "2018-08-01", "2018-07-25"]  # fold 0 .. 3 (the book's order)
METRICS = ["roc_auc", "average_precision", "card_precision_at_100"]
TARGETS = {"roc_auc": 0.90, "average_precision": 0.75, "card_precision_at_100": 0.31}
ORIGIN = pd.Timestamp("2018-04-01")


def prequential_fold(canonical: pd.DataFrame, start: str, train_days=7, delay_days=7, test_days=7):
    """Training and test row positions of one fold, as the book's get_train_test_set: each test day drops
    the cards with a fraud in training or on a delay-period day at least 8 days before it."""
    days = canonical["day"].to_numpy()
    label = canonical["label"].to_numpy()
    customer = canonical["customer_id"].to_numpy()
    first = (pd.Timestamp(start) - ORIGIN).days
    train = np.flatnonzero((days >= first) & (days < first + train_days))
    known = set(customer[train][label[train] == 1])
    test = []
    for d in range(test_days):
        delay_day = np.flatnonzero(days == first + train_days + d - 1)
        known |= set(customer[delay_day][label[delay_day] == 1])
        today = np.flatnonzero(days == first + train_days + delay_days + d)
        test.append(today[~np.isin(customer[today], list(known))])
    return train, np.concatenate(test)


def label_delay_ceiling(canonical: pd.DataFrame, test: np.ndarray, delay_days=7, window_days=30) -> np.ndarray:
    """An oracle score that knows which test frauds the features could reveal: every fraud except the
    scenario-2 ones (compromised terminal) whose terminal has no fraud known yet, i.e. none in the delayed
    window (t − delay − 30 days, t − delay]; nothing else tells those apart from genuine transactions.
    Uses the scenario labels: an analysis of the protocol, not a model."""
    frame = canonical[["ts", "terminal_id", "label", "scenario"]]
    frauds = frame[frame["label"] == 1]
    rows = canonical.iloc[test]
    visible = (rows["label"] == 1) & (rows["scenario"] != 2)
    known = frauds.groupby("terminal_id")["ts"].apply(np.sort).to_dict()
    for i in np.flatnonzero(((rows["label"] == 1) & (rows["scenario"] == 2)).to_numpy()):
        ts, times = rows["ts"].iat[i], known[rows["terminal_id"].iat[i]]
        lo, hi = np.searchsorted(times, [ts - (delay_days + window_days) * DAY, ts - delay_days * DAY], side="right")
        visible.iat[i] = hi > lo
    return visible.to_numpy(dtype=float)


def run_handbook(quick: bool) -> tuple[dict, pd.DataFrame]:
    from lightgbm import LGBMClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from niaga.fraud.autoencoder import Autoencoder

    start = time.perf_counter()
    canonical = normalize(fraud_data.load_handbook(), "handbook")
    canonical["day"] = ((canonical["timestamp"] - ORIGIN).dt.days).to_numpy()
    features = batch_features(canonical, FeatureConfig()).loc[canonical.index]  # back to input order
    print(f"handbook: {len(canonical):,} transactions, features in {time.perf_counter() - start:.0f}s")
    models = {
        "Logistic regression C=100, 15 handbook features (book's choice)":
            lambda: make_pipeline(StandardScaler(), LogisticRegression(C=100, max_iter=1000)),
        "LightGBM defaults, 15 handbook features": lambda: LGBMClassifier(random_state=0, verbose=-1, n_jobs=1),
        "Book's XGBoost choice (50 trees, depth 3, lr 0.3) in LightGBM, 15 handbook features":
            # XGBoost's defaults where LightGBM's differ: min_child_weight 1, lambda 1, no minimum row count
            lambda: LGBMClassifier(n_estimators=50, max_depth=3, num_leaves=8, learning_rate=0.3, min_child_weight=1,
                                   reg_lambda=1, min_child_samples=1, random_state=0, verbose=-1, n_jobs=1),
    }
    rows = []
    folds = P3_TRAINING_STARTS[:1] if quick else P3_TRAINING_STARTS
    for k, fold_start in enumerate(folds):
        train, test = prequential_fold(canonical, fold_start)
        y_train = canonical["label"].to_numpy()[train]
        t = canonical.iloc[test]
        context = dict(day=t["day"].to_numpy(), customer=t["customer_id"].to_numpy(dtype=object))
        y_test = t["label"].to_numpy()

        def record(name, score, seconds=None):
            rows.append({"model": name, "fold": k, **fraud_metrics(y_test, score, **context),
                         "fit_seconds": seconds})

        for name, make in models.items():
            began = time.perf_counter()
            model = make().fit(features.iloc[train][HANDBOOK_FEATURES], y_train)
            record(name, model.predict_proba(features.iloc[test][HANDBOOK_FEATURES])[:, 1],
                   time.perf_counter() - began)
        for name, autoencoder in (("niaga: LightGBM + autoencoder error, all features", True),
                                  ("niaga: LightGBM, all features, no autoencoder", False)):
            began = time.perf_counter()
            model = FraudModel(autoencoder=autoencoder).fit(features.iloc[train], y_train)
            record(name, model.predict_proba(features.iloc[test])[:, 1], time.perf_counter() - began)
            if autoencoder:
                record("niaga autoencoder alone (unsupervised reconstruction error)",
                       model.ae_.score_samples(model._encode(features.iloc[test])[:, model.numeric_idx_]))
        began = time.perf_counter()
        ae = Autoencoder(epochs=10).fit(features.iloc[train][HANDBOOK_FEATURES].to_numpy(float), y_train)
        record("autoencoder alone on the 15 handbook features (unsupervised)",
               ae.score_samples(features.iloc[test][HANDBOOK_FEATURES].to_numpy(float)), time.perf_counter() - began)
        record("label-delay ceiling (oracle: every fraud a feature could reveal)", label_delay_ceiling(canonical, test))
        print(f"fold {k} (train from {fold_start}): " + "; ".join(
            f"{r['model'][:28]} AP {r['average_precision']:.3f}" for r in rows if r["fold"] == k))
    table = pd.DataFrame(rows)
    summary = table.groupby("model", sort=False)[METRICS].agg(["mean", "std"])
    return {"folds": rows, "summary": {m: {f"{k}_{s}": float(summary.loc[m, (k, s)]) for k in METRICS
                                           for s in ("mean", "std")} for m in summary.index}}, summary


def published_p3() -> pd.DataFrame:
    """The book's 'Test performance' rows (hyperparameters chosen on P4), one row per model."""
    table = fraud_data.handbook_published_baselines()
    chosen = table[(table["protocol"] == "P3") & (table["selection"] == "best on validation")]
    columns = {"AUC ROC": "auc_roc", "Average precision": "average_precision",
               "Card Precision@100": "card_precision_at_100"}
    out = {}
    for row in chosen.itertuples():
        value = getattr(row, columns[row.selected_for_metric])
        std = getattr(row, columns[row.selected_for_metric] + "_std")
        out.setdefault(row.model, {})[row.selected_for_metric] = f"{value:.3f}±{std:.2f}"
    return pd.DataFrame(out).T.reindex(columns=list(columns)).fillna("–")


def rule_scores(rules, features: pd.DataFrame, fields: pd.DataFrame) -> np.ndarray:
    """Rules only: the score of a transaction is the most severe rule it fires (0 none, 1 low ... 4 critical)."""
    severity = {name: rank for rank, name in enumerate(["low", "medium", "high", "critical"], start=1)}
    return np.array([max([severity.get(rules.rules[i].severity, 0) for i in rules.fire(row, tuple(f))], default=0)
                     for row, f in zip(features.itertuples(index=False), fields.itertuples(index=False))])


def run_ecommerce() -> dict:
    """Time-ordered and random stratified 80/20 splits; what the time-ordered test period still holds."""
    from lightgbm import LGBMClassifier
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

    raw = fraud_data.load_ecommerce()
    canonical = normalize(raw, "ecommerce")
    ip = IpCountries.from_frame(fraud_data.load_ip_countries())
    features = batch_features(canonical, FeatureConfig(), ip)  # stream (purchase time) order
    y = canonical.loc[features.index, "label"].to_numpy()
    rules = load_rules().compile(FeatureConfig().names)
    fields = canonical.loc[features.index, ["transaction_id", "customer_id", "terminal_id", "device_id", "ip_address"]]
    n = len(features)
    cut = int(n * 0.8)
    train_random, test_random = train_test_split(np.arange(n), test_size=0.2, stratify=y, random_state=0)
    splits = {"time-ordered": (np.arange(cut), np.arange(cut, n)),
              "random stratified": (np.sort(train_random), np.sort(test_random))}
    result = {"rows": n, "splits": {}}
    for name, (train, test) in splits.items():
        began = time.perf_counter()
        model = FraudModel().fit(features.iloc[train], y[train], ip_countries=ip)
        score = model.predict_proba(features.iloc[test])[:, 1]
        rule_score = rule_scores(rules, features.iloc[test], fields.iloc[test])
        result["splits"][name] = {
            "train_rows": len(train), "test_rows": len(test), "test_frauds": int(y[test].sum()),
            "test_from": str(canonical.loc[features.index[test], "timestamp"].min()),
            "model": {"roc_auc": float(roc_auc_score(y[test], score)),
                      "average_precision": float(average_precision_score(y[test], score))},
            "rules_only": {"roc_auc": float(roc_auc_score(y[test], rule_score)),
                           "average_precision": float(average_precision_score(y[test], rule_score))},
            "held_out_in_training": model.fit_report()["held_out"], "fit_seconds": round(time.perf_counter() - began),
            "top_features": sorted(zip(model.columns_, model.booster_.feature_importance("gain").round(1).tolist()),
                                   key=lambda kv: -kv[1])[:10]}
        print(f"e-commerce {name}: {result['splits'][name]['model']}, rules {result['splits'][name]['rules_only']}")

    # why the time-ordered test period cannot be separated: where the signal is, and what is left without it
    signal = ((features["seconds_since_signup"] < 60) | (features["device_accounts"] > 1)
              | (features["ip_accounts"] > 1)).to_numpy()
    train, test = splits["time-ordered"]
    parts = {}
    for name, rows in (("train", train), ("test", test)):
        s, t = signal[rows], y[rows]
        parts[name] = {"rows": len(rows), "frauds": int(t.sum()), "signal_rows": int(s.sum()),
                       "signal_frauds": int(t[s].sum()), "signal_fraud_rate": float(t[s].mean()) if s.any() else None,
                       "rest_fraud_rate": float(t[~s].mean()),
                       "instant_purchases": int((features["seconds_since_signup"].to_numpy()[rows] < 60).sum())}
    oracle = np.where(signal[test], y[test], 0.5)  # perfect where a signal exists, no better than chance elsewhere
    rest = np.flatnonzero(~signal)
    numeric = features.iloc[rest].select_dtypes("number").astype(float)
    cv = cross_val_predict(LGBMClassifier(n_estimators=200, learning_rate=0.03, num_leaves=15, verbose=-1, n_jobs=1),
                           numeric, y[rest], cv=StratifiedKFold(5, shuffle=True, random_state=0),
                           method="predict_proba")[:, 1]
    result["signal"] = {"definition": "purchase within a minute of signup, or a device / IP address already used by "
                                      "another account", "parts": parts,
                        "oracle_ceiling_roc_auc": float(roc_auc_score(y[test], oracle)),
                        "rest_random_cv_roc_auc": float(roc_auc_score(y[rest], cv)), "rest_rows": len(rest)}
    print(f"e-commerce signal: {result['signal']}")
    return result


def replay_metrics(canonical: pd.DataFrame, scored: pd.DataFrame, first_day: str) -> dict:
    """AUC / AP / CP@100 of a replayed month, over all its days and from ``first_day`` on."""
    out = {}
    for name, keep in (("month", np.ones(len(canonical), bool)),
                       ("from_day_8", (canonical["timestamp"] >= pd.Timestamp(first_day)).to_numpy())):
        keep = keep & scored["fraud_score"].notna().to_numpy()
        t = canonical[keep]
        out[name] = fraud_metrics(t["label"].to_numpy(float), scored["fraud_score"].to_numpy()[keep],
                                  np.floor(t["ts"].to_numpy() / DAY), t["customer_id"].to_numpy(dtype=object))
    return out


def run_stream(model_dir: Path, quick: bool) -> dict:
    """Train on June–July (the model keeps the feature state at the end of July), then replay August from an
    empty state, from the carried state, and from an empty state warmed up on July (--history); the replay
    throughput; single-transaction latency on September with the state loaded; the state's size; the
    time from a restart (model load + snapshot restore) to the first decision."""
    import json
    import subprocess
    import tracemalloc

    from niaga.fraud.pipeline import load_scorer, train
    from niaga.fraud.schema import read_transactions
    from niaga.fraud.state import read_state

    month = lambda m: [str(p) for p in fraud_data.handbook_files([m])]  # noqa: E731
    began = time.perf_counter()
    _, metrics = train(month("2018-06") + month("2018-07"), model_dir, log=None)
    result = {"train_seconds": round(time.perf_counter() - began), "training": {
        k: metrics[k] for k in ("slices", "early_stopping", "held_out", "autoencoder_error", "feature_state")}}
    august, _ = read_transactions(month("2018-08"))
    if quick:
        august = august[august["timestamp"] < "2018-08-15"].reset_index(drop=True)
    runs = {}
    carried = None
    for name, options in (("empty", {"fresh": True}), ("carried", {}),
                          ("warmed", {"fresh": True, "history": month("2018-07")})):
        began = time.perf_counter()
        scorer = load_scorer(model_dir, **options)
        start_seconds = time.perf_counter() - began
        began, cpu = time.perf_counter(), time.process_time()
        scored = scorer.score_frame(august, progress=True, desc=f"replay 2018-08 ({name})")
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        runs[name] = {"start": scorer.start["description"], "start_seconds": round(start_seconds, 1),
                      "replay_seconds": round(seconds, 2), "tx_per_second": round(len(august) / seconds),
                      "cpu_seconds": round(cpu, 2), "tx_per_cpu_second": round(len(august) / cpu),
                      "decisions": scored["decision"].value_counts().to_dict(),
                      **replay_metrics(august, scored, "2018-08-08")}
        print(f"replay {name}: {runs[name]}")
        if name == "carried":
            carried = scorer
    result["replays"] = runs
    result["transactions"] = len(august)
    # throughput: the best of three carried replays (the shared machine's other jobs only ever slow one down)
    rates = [(runs["carried"]["tx_per_second"], runs["carried"]["tx_per_cpu_second"])]
    for _ in range(2):
        scorer = load_scorer(model_dir)
        began, cpu = time.perf_counter(), time.process_time()
        scorer.score_frame(august, progress=True, desc="replay 2018-08 (carried, again)")
        rates.append((round(len(august) / (time.perf_counter() - began)),
                      round(len(august) / (time.process_time() - cpu))))
    result["throughput"] = {"runs": rates, "best_tx_per_second": max(r[0] for r in rates),
                            "best_tx_per_cpu_second": max(r[1] for r in rates)}

    # the scorer that replayed August from the carried state: its snapshot is "a state of one month"
    snapshot = model_dir.parent / "stream.npz"
    began = time.perf_counter()
    carried.snapshot(snapshot)
    snapshot_seconds = time.perf_counter() - began
    size = carried.state.size()
    entities = size["customers"] + size["terminals"]
    tracemalloc.start()
    restored, _, _ = read_state(snapshot, carried.config, None)
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del restored
    result["state"] = {**size, "seen_ids": len(carried.seen), "file_bytes": snapshot.stat().st_size,
                       "memory_bytes": memory, "snapshot_seconds": round(snapshot_seconds, 2),
                       "file_bytes_per_1000": round(snapshot.stat().st_size / entities * 1000),
                       "memory_bytes_per_1000": round(memory / entities * 1000)}

    september = fraud_data.load_handbook(["2018-09"]).head(5_000 if quick else 30_000)
    records = september.to_dict("records")
    latencies, cpu = np.empty(len(records)), np.empty(len(records))
    flagged = 0
    for i, record in enumerate(records):
        t0, c0 = time.perf_counter(), time.thread_time()
        answer = carried.score(record)
        latencies[i], cpu[i] = time.perf_counter() - t0, time.thread_time() - c0
        flagged += answer["decision"] != "approve"
    result["latency"] = {"transactions": len(records), "p50_ms": float(np.percentile(latencies, 50) * 1e3),
                         "p99_ms": float(np.percentile(latencies, 99) * 1e3), "max_ms": float(latencies.max() * 1e3),
                         "cpu_p50_ms": float(np.percentile(cpu, 50) * 1e3),
                         "cpu_p99_ms": float(np.percentile(cpu, 99) * 1e3), "flagged_share": flagged / len(records)}

    # restart: a new process loads the model, restores the snapshot and answers its first transaction
    # the first September transaction: the stream goes on right after the snapshot's end
    first = {k: (str(v) if isinstance(v, pd.Timestamp) else v) for k, v in records[0].items()}
    first["TRANSACTION_ID"] = "restart-probe"
    probe = f"""
import json, time
t0 = time.perf_counter()
from niaga.fraud.pipeline import load_scorer
t1 = time.perf_counter()
scorer = load_scorer({str(model_dir)!r}, fresh=True)
t2 = time.perf_counter()
scorer.restore({str(snapshot)!r})
t3 = time.perf_counter()
answer = scorer.score({json.dumps(first)})
t4 = time.perf_counter()
print(json.dumps({{"imports": t1 - t0, "model_load": t2 - t1, "restore": t3 - t2, "first_decision": t4 - t3,
                   "decision": answer["decision"]}}))
"""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - began
    result["restart"] = {**json.loads(done.stdout.strip().splitlines()[-1]), "process_wall": wall}
    print(f"state: {result['state']}\nlatency: {result['latency']}\nrestart: {result['restart']}")
    return result


def fmt(summary: pd.DataFrame, model: str, metric: str) -> str:
    return f"{summary.loc[model, (metric, 'mean')]:.3f}±{summary.loc[model, (metric, 'std')]:.2f}"


def markdown(handbook_summary: pd.DataFrame, published: pd.DataFrame, ecommerce: dict, stream: dict,
             n_folds: int) -> str:
    lines = ["## Fraud detection (`benchmarks/fraud.py`)", "",
             f"**Fraud Detection Handbook simulation, P3 protocol** ({n_folds} prequential fold(s): 7 training days, "
             "7 delay days, 7 test days, tests 2018-08-08 … 09-04; cards already known to be compromised removed "
             "from each test day; features use labels only 7 days after the transaction). Mean ± std over folds.",
             "", "| model (run here, same folds) | AUC ROC | Average precision | Card Precision@100 |",
             "|---|---|---|---|"]
    for model in handbook_summary.index:
        lines.append(f"| {model} | " + " | ".join(fmt(handbook_summary, model, m) for m in METRICS) + " |")
    lines += ["", "Published (the book's P3 'test performance', hyperparameters chosen on P4, from "
              "`published_baselines.csv`):", "", "| model | AUC ROC | Average precision | Card Precision@100 |",
              "|---|---|---|---|"]
    for model, row in published.iterrows():
        lines.append(f"| {model} | {row['AUC ROC']} | {row['Average precision']} | {row['Card Precision@100']} |")
    ours = "niaga: LightGBM + autoencoder error, all features"
    plain = "niaga: LightGBM, all features, no autoencoder"
    alone = "niaga autoencoder alone (unsupervised reconstruction error)"
    ceiling = "label-delay ceiling (oracle: every fraud a feature could reveal)"
    mean = lambda model, metric: handbook_summary.loc[model, (metric, "mean")]  # noqa: E731
    lines += ["", "Targets for niaga's model: " + ", ".join(
        f"{m} ≥ {v} ({'met' if mean(ours, m) >= v else 'not met'}: {mean(ours, m):.3f}; ceiling {mean(ceiling, m):.3f})"
        for m, v in TARGETS.items()) + ".",
        "", "Why the ceiling: a scenario-2 fraud (every transaction of a compromised terminal) looks exactly like a "
        "genuine transaction until the first label of that terminal arrives, 7 days later; about a fifth of the "
        "test frauds are in that window. The ceiling scores every other fraud 1 and everything else 0, so its AUC "
        "is where any model lands when it is perfect on the rest. An AUC of 0.90 is above it on average; AP and "
        "CP@100 have little room left.",
        "", f"The autoencoder: alone (unsupervised) AUC {mean(alone, 'roc_auc'):.3f}, AP {mean(alone, 'average_precision'):.3f}; "
        f"as a LightGBM input it changes AP by {mean(ours, 'average_precision') - mean(plain, 'average_precision'):+.3f} "
        f"and AUC by {mean(ours, 'roc_auc') - mean(plain, 'roc_auc'):+.3f} (fold std ≈ 0.01–0.02), the book's "
        "finding too: a decent AUC alone, little added as a feature."]
    lines += ecommerce_markdown(ecommerce) + stream_markdown(stream)
    return "\n".join(lines)


def ecommerce_markdown(e: dict) -> list[str]:
    t, r = e["splits"]["time-ordered"], e["splits"]["random stratified"]
    sig = e["signal"]
    train, test = sig["parts"]["train"], sig["parts"]["test"]
    return [
        "", f"**E-commerce first purchases** (partial copy, {e['rows']:,} rows): training on 80 %, testing on the "
        f"other 20 %, either the latest by purchase time (time-ordered: {t['test_rows']:,} purchases from "
        f"{t['test_from'][:10]}, {t['test_frauds']:,} frauds) or a random stratified draw ({r['test_frauds']:,} "
        "frauds).", "",
        "| model | time-ordered ROC-AUC | time-ordered AP | random stratified ROC-AUC | random stratified AP |",
        "|---|---|---|---|---|",
        f"| niaga model | {t['model']['roc_auc']:.3f} | {t['model']['average_precision']:.3f} | "
        f"{r['model']['roc_auc']:.3f} | {r['model']['average_precision']:.3f} |",
        f"| rules only (packaged rules, score = most severe rule fired) | {t['rules_only']['roc_auc']:.3f} | "
        f"{t['rules_only']['average_precision']:.3f} | {r['rules_only']['roc_auc']:.3f} | "
        f"{r['rules_only']['average_precision']:.3f} |",
        "| FDB best published, full 151k rows, time-ordered, their 6 features (Amazon Fraud Detector TFI) | 0.636 "
        "| – | – | – |", "",
        "Features added for this data: purchases per device and per IP address in rolling windows (1 h, 1 d, "
        "7 d, 30 d) and seconds since the device's / IP's previous purchase; signup-to-purchase delay in buckets "
        "(< 1 min, < 1 h, < 1 d, < 7 d, < 30 d, < 90 d, later); distinct signup times on a device and their "
        "spread; the amount ÷ the device's and the source's earlier purchases; countries a device's IPs map to "
        "and IPs missing from the country table. Most useful (gain, time-ordered model): "
        + ", ".join(k for k, _ in t["top_features"][:8]) + ".",
        "", f"Target ROC-AUC ≥ 0.65 time-ordered: {'met' if t['model']['roc_auc'] >= 0.65 else 'not met'} "
        f"({t['model']['roc_auc']:.3f}), and it cannot be, on this copy. Nearly all the signal is in two "
        f"patterns: a purchase within a minute of signup, or a device / IP address already used by another "
        f"account. In the training part they cover {train['signal_rows']:,} purchases, "
        f"{train['signal_fraud_rate']:.0%} of them fraud ({train['signal_frauds'] / train['frauds']:.0%} of its "
        f"frauds); all other purchases are fraud at {train['rest_fraud_rate']:.2%}. The test period holds "
        f"{test['instant_purchases']:,} signup-minute purchases and {test['signal_rows']:,} signal purchases in "
        f"all ({test['signal_frauds']:,} of its {test['frauds']:,} frauds); the other "
        f"{test['frauds'] - test['signal_frauds']:,} frauds sit among purchases that are fraud at "
        f"{test['rest_fraud_rate']:.2%}, the training rate. Those purchases cannot be told apart even within "
        f"the same period: LightGBM on every feature, 5-fold random cross-validation over all "
        f"{sig['rest_rows']:,} purchases without a signal, ROC-AUC {sig['rest_random_cv_roc_auc']:.3f}. An "
        f"oracle that knows the label of every test purchase with a signal and scores the rest at chance "
        f"reaches ROC-AUC {sig['oracle_ceiling_roc_auc']:.3f}: the ceiling of any model on this test period. The "
        "random split puts signup-minute purchases and shared devices in both halves, hence its high figures.",
        ""]


def stream_markdown(s: dict) -> list[str]:
    runs, training = s["replays"], s["training"]
    ap = {name: run["from_day_8"]["average_precision"] for name, run in runs.items()}
    state, latency, restart, best = s["state"], s["latency"], s["restart"], s["throughput"]
    held = training["held_out"]
    slices = training["slices"]
    lines = ["**Carried state** (Fraud Detection Handbook simulation): a model trained on 2018-06..07 "
             f"(`niaga fraud train`, {s['train_seconds']} s here) replays 2018-08 ({s['transactions']:,} "
             "transactions, features one at a time, model in micro-batches of 2,048, labels fed back 7 days "
             "after each transaction), starting from three states:", "",
             "| start | from day 8: AUC ROC | from day 8: AP | from day 8: CP@100 | whole month: AP | replay tx/s "
             "(per CPU second) |", "|---|---|---|---|---|---|"]
    names = {"empty": "empty (`--fresh`)", "carried": "carried from training (default)",
             "warmed": "empty, warmed up on 2018-07 (`--fresh --history transactions_2018-07.parquet`)"}
    for name, run in runs.items():
        d8 = run["from_day_8"]
        lines.append(f"| {names[name]} | {d8['roc_auc']:.3f} | {d8['average_precision']:.3f} | "
                     f"{d8['card_precision_at_100']:.3f} | {run['month']['average_precision']:.3f} | "
                     f"{run['tx_per_second']:,} ({run['tx_per_cpu_second']:,}) |")
    close = abs(ap["carried"] - ap["warmed"]) <= 0.02
    above = ap["carried"] - ap["empty"] >= 0.05
    lines += ["", f"Targets: AP from day 8 within 0.02 of the warmed start ({'met' if close else 'not met'}: "
              f"{ap['carried'] - ap['warmed']:+.3f}) and at least 0.05 above the empty start "
              f"({'met' if above else 'not met'}: {ap['carried'] - ap['empty']:+.3f}). The carried and warmed starts "
              "differ only in June's last days, which the terminals' delayed 30-day windows still read on "
              "August 1.",
              "", f"Honest held-out figure of that model (printed by `train`, in model.json): the booster trained on "
              f"the earliest 70 % of June–July, its number of trees ({training['early_stopping'].get('trees')}) "
              f"chosen on the next 10 % ({slices['early_stopping']['from'][:10]} … "
              f"{slices['early_stopping']['to'][:10]}), its calibration fitted on the next 10 % "
              f"({slices['calibration']['from'][:10]} … {slices['calibration']['to'][:10]}), and scored on the "
              "latest "
              f"10 % ({slices['held_out']['from'][:10]} … {slices['held_out']['to'][:10]}), which nothing was "
              f"fitted on: ROC-AUC {held['roc_auc']:.3f}, AP {held['average_precision']:.3f}, mean score "
              f"{held['mean_score']:.4f} for a fraud rate of {held['fraud_rate']:.4f}; August replayed from the "
              f"carried state: AUC {runs['carried']['month']['roc_auc']:.3f}, AP "
              f"{runs['carried']['month']['average_precision']:.3f}. The autoencoder error of a training row "
              "comes from an autoencoder that did not see it (2 time folds of the training slice); later rows get "
              "the error of the autoencoder of the latest fold.",
              "", f"**Real time**, with the state loaded. Replay from the carried state, best of three: "
              f"**{best['best_tx_per_second']:,} tx/s** of wall-clock time, **{best['best_tx_per_cpu_second']:,} per "
              "second of the process's CPU time** (target ≥ 20,000: "
              f"{'met' if best['best_tx_per_second'] >= 20_000 else 'not met'} in wall-clock time, "
              f"{'met' if best['best_tx_per_cpu_second'] >= 20_000 else 'not met'} in CPU time; the three runs: "
              + ", ".join(f"{w:,} ({c:,})" for w, c in best["runs"]) + "). "
              f"Single-transaction `FraudScorer.score` on {latency['transactions']:,} September transactions after "
              f"the August replay: p50 **{latency['p50_ms']:.3f} ms**, p99 **{latency['p99_ms']:.3f} ms** wall-clock, "
              f"p99 **{latency['cpu_p99_ms']:.3f} ms** of CPU time (target ≤ 2 ms: "
              f"{'met' if latency['p99_ms'] <= 2 else 'not met'} wall-clock, "
              f"{'met' if latency['cpu_p99_ms'] <= 2 else 'not met'} CPU), max {latency['max_ms']:.1f} ms; "
              f"{latency['flagged_share']:.2%} of them flagged (only those get reasons: LightGBM's SHAP values, about "
              "a millisecond each). The CPU-time figures are what the scorer itself costs; the wall-clock ones also "
              "hold the time the 2 shared cores spent on other jobs. "
              f"Restart to first decision, state of one month (the snapshot after the August replay): a new "
              f"process imports niaga in {restart['imports']:.2f} s, loads the model in {restart['model_load']:.2f} s "
              f"(mostly importing skops, which walks scikit-learn's estimators), restores the state in "
              f"**{restart['restore']:.2f} s** and answers its first transaction in "
              f"{restart['first_decision'] * 1e3:.1f} ms ({restart['process_wall']:.1f} s from launch). Writing "
              f"that snapshot took {state['snapshot_seconds']:.2f} s.",
              "", f"**State size** after August: {state['customers']:,} customers, {state['terminals']:,} terminals, "
              f"{state['window_entries']:,} window entries, {state['pending_labels']:,} labels waiting for their "
              f"delay, {state['seen_ids']:,} transaction ids kept to refuse duplicates (30 days): "
              f"**{state['file_bytes_per_1000'] / 1e6:.2f} MB per 1,000 customers and terminals** on disk "
              f"({state['file_bytes'] / 1e6:.1f} MB), {state['memory_bytes_per_1000'] / 1e6:.2f} MB per 1,000 in "
              f"memory ({state['memory_bytes'] / 1e6:.0f} MB of Python objects). Nothing older than the longest "
              "window (30 days; 37 for terminals, whose windows end 7 days back; 180 days for devices and IPs) is "
              "kept.",
              "", f"Load average on the 2 shared cores while this section ran: {s['load_average']} (other "
              "engineers' jobs)."]
    return lines


def main() -> None:
    import os
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one fold, half of August, fewer latency calls (a smoke run)")
    args = parser.parse_args()
    began = time.perf_counter()
    results, handbook_summary = run_handbook(args.quick)
    published = published_p3()
    ecommerce = run_ecommerce()
    with tempfile.TemporaryDirectory() as tmp:
        load = os.getloadavg()[0]
        stream = run_stream(Path(tmp) / "model", args.quick)
        stream["load_average"] = round((load + os.getloadavg()[0]) / 2, 1)
    n_folds = 1 if args.quick else 4
    minutes = (time.perf_counter() - began) / 60
    save("fraud", {"handbook_p3": results, "published_p3": published.to_dict("index"), "ecommerce": ecommerce,
                   "stream": stream, "targets": TARGETS, "folds": n_folds, "minutes": round(minutes, 1)},
         markdown(handbook_summary, published, ecommerce, stream, n_folds)
         + f"\n\nThe whole benchmark ran {minutes:.0f} minutes on the shared machine.")


if __name__ == "__main__":
    main()
