"""Fraud benchmark → docs/benchmarks.md (section "fraud") and benchmarks/results/fraud.json.

1. Fraud Detection Handbook simulation, the book's P3 protocol: 4 prequential folds (7 training days, 7 delay
   days, 7 test days; tests 2018-08-08 .. 09-04), cards already known to be compromised removed from each test
   day; AUC ROC, Average Precision, Card Precision@100 as mean ± std over the folds. On the same folds: the
   handbook-style baselines (its 15 features; logistic regression, LightGBM defaults, the book's chosen XGBoost
   configuration run in LightGBM), niaga's model with and without the autoencoder feature, the autoencoder
   alone (unsupervised), and the label-delay ceiling. Published rows come from published_baselines.csv.
2. E-commerce first purchases: time-ordered 80/20 split; ROC-AUC and PR-AUC (AP) of the model and of the
   rules alone.
3. Real time: per-transaction latency (p50/p99) of FraudScorer.score and replay throughput, same run.

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


def run_ecommerce() -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    raw = fraud_data.load_ecommerce()
    canonical = normalize(raw, "ecommerce")
    ip = IpCountries.from_frame(fraud_data.load_ip_countries())
    features = batch_features(canonical, FeatureConfig(), ip)  # stream (purchase time) order
    y = canonical.loc[features.index, "label"].to_numpy()
    cut = int(len(features) * 0.8)
    model = FraudModel().fit(features.iloc[:cut], y[:cut])
    score = model.predict_proba(features.iloc[cut:])[:, 1]
    rules = load_rules().compile(FeatureConfig().names)
    test = features.iloc[cut:]
    fields = canonical.loc[test.index, ["transaction_id", "customer_id", "terminal_id", "device_id", "ip_address"]]
    severity = {name: rank for rank, name in enumerate(["low", "medium", "high", "critical"], start=1)}
    rule_score = np.array([max([severity.get(rules.rules[i].severity, 0) for i in rules.fire(row, tuple(f))],
                               default=0)
                           for row, f in zip(test.itertuples(index=False), fields.itertuples(index=False))])
    y_test = y[cut:]
    result = {"train_rows": cut, "test_rows": len(test), "test_frauds": int(y_test.sum()),
              "test_from": str(canonical.loc[test.index, "timestamp"].min()),
              "model": {"roc_auc": float(roc_auc_score(y_test, score)),
                        "average_precision": float(average_precision_score(y_test, score))},
              "rules_only": {"roc_auc": float(roc_auc_score(y_test, rule_score)),
                             "average_precision": float(average_precision_score(y_test, rule_score))},
              "top_features": sorted(zip(model.columns_, model.booster_.feature_importance("gain").round(1).tolist()),
                                     key=lambda kv: -kv[1])[:8]}
    print(f"e-commerce: model {result['model']}, rules only {result['rules_only']}")
    return result


def run_realtime(model_dir: Path, quick: bool) -> dict:
    """Train a model on June–July, then: replay throughput on August, and single-call latency on September
    (the scorer keeps its state from the replay, so the features are warm)."""
    from niaga.fraud.pipeline import train
    from niaga.fraud.schema import read_transactions

    months = ["2018-06", "2018-07"]
    train([str(p) for p in fraud_data.handbook_files(months)], model_dir, log=None)
    from niaga.fraud.pipeline import load_scorer

    scorer = load_scorer(model_dir)
    august, _ = read_transactions([str(p) for p in fraud_data.handbook_files(["2018-08"])])
    began = time.perf_counter()
    scored = scorer.score_frame(august, progress=True, desc="replay 2018-08")
    seconds = time.perf_counter() - began
    september = fraud_data.load_handbook(["2018-09"]).head(5_000 if quick else 30_000)
    records = september.to_dict("records")
    latencies = np.empty(len(records))
    for i, record in enumerate(records):
        t0 = time.perf_counter()
        scorer.score(record)
        latencies[i] = time.perf_counter() - t0
    result = {"replay_transactions": len(scored), "replay_seconds": round(seconds, 2),
              "replay_tx_per_second": round(len(scored) / seconds),
              "replay_decisions": scored["decision"].value_counts().to_dict(),
              "latency_transactions": len(records), "latency_p50_ms": float(np.percentile(latencies, 50) * 1e3),
              "latency_p99_ms": float(np.percentile(latencies, 99) * 1e3),
              "latency_max_ms": float(latencies.max() * 1e3)}
    print(f"real time: {result}")
    return result


def fmt(summary: pd.DataFrame, model: str, metric: str) -> str:
    return f"{summary.loc[model, (metric, 'mean')]:.3f}±{summary.loc[model, (metric, 'std')]:.2f}"


def markdown(handbook_summary: pd.DataFrame, published: pd.DataFrame, ecommerce: dict, realtime: dict,
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
    e = ecommerce
    lines += ["", f"**E-commerce first purchases** (partial copy, {e['train_rows'] + e['test_rows']:,} rows): "
              f"time-ordered split, training on the first 80 % by purchase time, testing on the last "
              f"{e['test_rows']:,} ({e['test_frauds']:,} frauds, from {e['test_from']}).", "",
              "| model | ROC-AUC | PR-AUC (AP) |", "|---|---|---|",
              f"| niaga model | {e['model']['roc_auc']:.3f} | {e['model']['average_precision']:.3f} |",
              f"| rules only (packaged rules, score = most severe rule fired) | {e['rules_only']['roc_auc']:.3f} | "
              f"{e['rules_only']['average_precision']:.3f} |",
              "| FDB best published, full 151k rows, their 6 features (Amazon Fraud Detector TFI) | 0.636 | – |", "",
              "Most useful features (gain): " + ", ".join(f"{k}" for k, _ in e["top_features"]) + ".",
              "", "The test period (purchases from late August on) holds no purchase made in the signup minute and "
              "few shared devices, the two signals behind most frauds earlier in the year (in the training part, 100 % "
              "of signup-minute purchases and 74 % of shared-device ones are fraud); what is left is hard for any "
              "model and for the rules.",
              ""]
    r = realtime
    lines += [f"**Real time** (model trained on 2018-06..07): replay of 2018-08 ({r['replay_transactions']:,} "
              f"transactions, features one at a time, model in micro-batches of 2,048): "
              f"**{r['replay_tx_per_second']:,} tx/s** (target ≥ 20,000: "
              f"{'met' if r['replay_tx_per_second'] >= 20_000 else 'not met'}). Single-transaction `FraudScorer.score` on "
              f"{r['latency_transactions']:,} September transactions with warm state: p50 "
              f"**{r['latency_p50_ms']:.3f} ms**, p99 **{r['latency_p99_ms']:.3f} ms** (target ≤ 2 ms: "
              f"{'met' if r['latency_p99_ms'] <= 2 else 'not met'}), max "
              f"{r['latency_max_ms']:.1f} ms. Both depend on what else runs on the 2 shared cores: during development the "
              "same replay measured 15,000–23,000 tx/s."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one fold and fewer latency calls (a smoke run)")
    args = parser.parse_args()
    results, handbook_summary = run_handbook(args.quick)
    published = published_p3()
    ecommerce = run_ecommerce()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        realtime = run_realtime(Path(tmp) / "model", args.quick)
    n_folds = 1 if args.quick else 4
    save("fraud", {"handbook_p3": results, "published_p3": published.to_dict("index"), "ecommerce": ecommerce,
                   "realtime": realtime, "targets": TARGETS, "folds": n_folds},
         markdown(handbook_summary, published, ecommerce, realtime, n_folds))


if __name__ == "__main__":
    main()
