"""Train, score, evaluate and replay on transaction tables: what the CLI and the API call."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from niaga.data.io import note, read_table, require_columns, with_outputs, write_table
from niaga.errors import DataError
from niaga.evaluation import write_classification_report
from niaga.fraud.features import FeatureConfig, IpCountries, batch_features
from niaga.fraud.log import LOG_FILE, DecisionLog
from niaga.fraud.metrics import fraud_metrics
from niaga.fraud.model import FraudModel
from niaga.fraud.rules import load_rules
from niaga.fraud.schema import problems_table, read_transactions
from niaga.fraud.scorer import OUTPUT_COLUMNS, FraudScorer
from niaga.modeling import fingerprint, load_model, overlap_note, row_hashes, save_model, training_overlap

RULES_FILE = "rules.yaml"
INVALID_ROWS_FILE = "invalid_rows.csv"


def _say(log: Callable | None, message: str) -> None:
    if log:
        log(message)


def find_ip_countries(paths, explicit: str | Path | None, log=None) -> IpCountries | None:
    """The IP → country table: ``explicit``, else one beside the data (``*ip*country*``), else the shared one."""
    from niaga.data.fraud import load_ip_countries

    if explicit:
        return IpCountries.from_frame(load_ip_countries(explicit))
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        beside = sorted(Path(path).parent.glob("*ip*country*"))
        if beside:
            _say(log, f"IP → country table: {beside[0]}")
            return IpCountries.from_frame(load_ip_countries(beside[0]))
    try:
        return IpCountries.from_frame(load_ip_countries())
    except DataError:
        _say(log, "no IP → country table found (give --ip-countries): the country feature is left out")
        return None


def report_problems(canonical: pd.DataFrame, log=None) -> pd.DataFrame:
    problems = problems_table(canonical)
    if len(problems):
        shown = "; ".join(f"row {p.row} {p.field}: {p.reason}" for p in problems.head(5).itertuples())
        _say(log, f"{int((canonical['error'] != '').sum())} invalid row(s) not used: {shown}"
             + (" ..." if len(problems) > 5 else ""))
    return problems


def apply_resolved_labels(canonical: pd.DataFrame, labels_path: str | Path, log=None) -> int:
    """Investigators' resolutions (transaction_id, label) override or fill the data's labels."""
    labels = read_table(labels_path)
    require_columns(labels, ["transaction_id", "label"], labels_path)
    resolved = dict(zip(labels["transaction_id"].astype(str), labels["label"].astype(float)))
    hit = canonical["transaction_id"].isin(list(resolved))
    canonical.loc[hit, "label"] = canonical.loc[hit, "transaction_id"].map(resolved)
    _say(log, f"{labels_path}: {int(hit.sum())} of {len(resolved)} resolved labels match a transaction")
    return int(hit.sum())


def train(paths, out: str | Path, rules_path: str | Path | None = None, labels_path: str | Path | None = None,
          ip_countries_path: str | Path | None = None, label_delay_days: float = 7.0, log: Callable | None = print,
          **params) -> tuple[FraudModel, dict]:
    """Train on labelled transactions (one or more files) and save the model directory ``out``."""
    rules = load_rules(rules_path)
    canonical, _ = read_transactions(paths, log)
    problems = report_problems(canonical, log)
    if labels_path:
        apply_resolved_labels(canonical, labels_path, log)
    ip = find_ip_countries(paths, ip_countries_path, log) if canonical["ip_address"].notna().any() else None
    config = FeatureConfig(label_delay_days=label_delay_days)
    rules.compile(config.names)  # a rule naming an unknown field fails before the long part
    start = time.perf_counter()
    features = batch_features(canonical, config, ip)
    _say(log, f"features: {features.shape[1]} columns for {len(features):,} transactions "
              f"in {time.perf_counter() - start:.1f}s")
    y = canonical.loc[features.index, "label"]
    labelled = y.notna().to_numpy()
    if not labelled.any():
        raise DataError(f"{', '.join(map(str, [paths] if isinstance(paths, (str, Path)) else paths))}: no labels "
                        "(a label column: label, TX_FRAUD, class, is_fraud) — nothing to train on")
    model = FraudModel(label_delay_days=label_delay_days, **{"verbose": log is not None, **params})
    start = time.perf_counter()
    model.fit(features[labelled], y[labelled].to_numpy(), ip_countries=ip)
    metrics = {"training_rows": int(labelled.sum()), "frauds": int(y[labelled].sum()),
               "unlabelled_rows": int((~labelled).sum()), "invalid_rows": int(len(problems["row"].unique())),
               "fit_seconds": round(time.perf_counter() - start, 2), "validation": model.validation_}
    ids = canonical.loc[features.index[labelled], "transaction_id"]
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / RULES_FILE).write_text(rules.text, encoding="utf-8")  # before save_model: an artifact with its sha256
    save_model(model, out, labels=["legit", "fraud"], metrics=metrics, data_sha256=fingerprint(ids, y[labelled]),
               data_rows=int(labelled.sum()), training_rows=row_hashes(ids),
               extra={"training_sources": [str(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)],
                      "features": model.columns_, "label_delay_days": label_delay_days,
                      "feature_importance": dict(zip(model.columns_, map(float, model.booster_.feature_importance(
                          "gain").round(2))))})
    if len(problems):  # the rows left out of training, with row, field and reason
        write_table(problems, Path(out) / INVALID_ROWS_FILE, create_parent=True)
        _say(log, f"the invalid rows are listed in {Path(out) / INVALID_ROWS_FILE}")
    return model, metrics


def load_scorer(model_dir: str | Path, rules_path: str | Path | None = None,
                label_delay_days: float | None = None) -> FraudScorer:
    model = load_model(model_dir, task="fraud")
    rules = load_rules(rules_path or Path(model_dir) / RULES_FILE)
    return FraudScorer(model, rules, label_delay_days)


def log_decisions(path: str | Path | None, canonical: pd.DataFrame, scored: pd.DataFrame,
                  log: Callable | None = print) -> None:
    """Append the decisions to the log at ``path`` (none when None) and say where it is and how big it grew."""
    if path:
        with DecisionLog(path) as decision_log:
            added = decision_log.append(canonical, scored)
            total, open_cases = sum(decision_log.counts().values()), decision_log.case_count("open")
        _say(log, f"logged {added:,} decisions to {path} (now {total:,}; {open_cases:,} open review cases: "
                  "'niaga fraud cases'; --no-log to skip)")


def default_log(model_dir: str | Path) -> Path:
    return Path(model_dir) / LOG_FILE


def score_file(model_dir: str | Path, input_path: str | Path, output_path: str | Path,
               rules_path: str | Path | None = None, log_path: str | Path | None = None,
               log: Callable | None = print) -> pd.DataFrame:
    """Score a table in timestamp order; writes its rows and columns plus fraud_score, decision, reasons."""
    scorer = load_scorer(model_dir, rules_path)
    canonical, raw = read_transactions([input_path], log)
    report_problems(canonical, log)
    scored = scorer.score_frame(canonical, progress=True)
    result = with_outputs(raw, {column: scored[column].to_numpy() for column in OUTPUT_COLUMNS})
    write_table(result, output_path)
    log_decisions(log_path, canonical, scored, log)
    return result


def summarize(scored: pd.DataFrame, labels: pd.Series) -> dict:
    """Decisions by type and, where labels exist, precision/recall of flagging (any decision but approve)."""
    summary = {"transactions": int(len(scored)), "decisions": dict(Counter(scored["decision"])),
               "invalid": int(scored["reasons"].str.startswith("invalid input").sum())}
    known = labels.notna().to_numpy() & scored["fraud_score"].notna().to_numpy()
    if known.any():
        y = labels.to_numpy(dtype=float)[known]
        for name, flagged in (("flagged", ("challenge", "review", "block")), ("review_or_block", ("review", "block"))):
            hit = scored["decision"].isin(flagged).to_numpy()[known]
            tp = float((hit & (y == 1)).sum())
            summary[f"precision_{name}"] = tp / hit.sum() if hit.sum() else float("nan")
            summary[f"recall_{name}"] = tp / (y == 1).sum() if (y == 1).sum() else float("nan")
        summary.update({k: v for k, v in fraud_metrics(y, scored["fraud_score"].to_numpy()[known]).items()
                        if k in ("roc_auc", "average_precision", "frauds")})
    return summary


def replay(model_dir: str | Path, paths, output_path: str | Path | None = None,
           label_delay_days: float | None = None, log_path: str | Path | None = None,
           batch_size: int = 2048, report_dir: str | Path | None = None) -> dict:
    """Stream files through the real-time scorer in timestamp order, labels fed back after their delay.

    ``report_dir``: also write the standard report (needs labelled rows)."""
    scorer = load_scorer(model_dir, label_delay_days=label_delay_days)
    canonical, _ = read_transactions(paths)
    start = time.perf_counter()
    scored = scorer.score_frame(canonical, batch_size=batch_size, progress=True, desc="replay")
    seconds = time.perf_counter() - start
    summary = summarize(scored, canonical["label"])
    summary["seconds"] = round(seconds, 2)
    summary["transactions_per_second"] = round(len(scored) / seconds) if seconds > 0 else None
    summary["label_delay_days"] = scorer.config.label_delay_days
    if output_path:
        write_table(scored[["transaction_id"] + OUTPUT_COLUMNS], output_path)
    log_decisions(log_path, canonical, scored)
    if report_dir:
        write_report(report_dir, canonical, scored, title="Fraud replay",
                     context={"model": str(model_dir), "data": ", ".join(map(str, paths)),
                              "label delay (days)": scorer.config.label_delay_days,
                              "transactions per second": summary["transactions_per_second"]}, model_dir=model_dir,
                     thresholds=scorer.rules.thresholds)
    return summary


def plot_precision_recall(y, score, path: Path, title: str, thresholds: dict[str, float] | None = None) -> Path:
    """The precision-recall curve of the score, with the decision thresholds (challenge, review, block) marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, score)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    ax.plot(recall, precision, label="fraud score")
    y = np.asarray(y) == 1
    for (decision, threshold), marker in zip(sorted((thresholds or {}).items(), key=lambda kv: kv[1]), "os^"):
        flagged = np.asarray(score) >= threshold
        if flagged.any() and y.any():
            ax.plot((flagged & y).sum() / y.sum(), (flagged & y).sum() / flagged.sum(), marker, markersize=8,
                    label=f"{decision}: score ≥ {threshold:g}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if thresholds:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def evaluate(model_dir: str | Path, paths, report_dir: str | Path, rules_path: str | Path | None = None) -> dict:
    """Replay labelled files through the scorer and write metrics.json, report.md, a confusion matrix of
    flagged vs fraud, and the precision-recall curve."""
    scorer = load_scorer(model_dir, rules_path)
    canonical, _ = read_transactions(paths)
    scored = scorer.score_frame(canonical, progress=True, desc="evaluating")
    return write_report(report_dir, canonical, scored, title="Fraud model evaluation",
                        context={"model": str(model_dir), "data": ", ".join(map(str, paths)),
                                 "label delay (days)": scorer.config.label_delay_days}, model_dir=model_dir,
                        thresholds=scorer.rules.thresholds)


def write_report(report_dir: str | Path, canonical: pd.DataFrame, scored: pd.DataFrame, title: str,
                 context: dict, model_dir: str | Path | None = None,
                 thresholds: dict[str, float] | None = None) -> dict:
    """The standard report of scored, labelled transactions: metrics.json (fraud metrics and decisions),
    report.md, a confusion matrix of flagged (any decision but approve) vs fraud, the precision-recall curve.
    With ``model_dir``, transactions the model was trained on are counted and warned about."""
    if model_dir is not None:
        warning = overlap_note(training_overlap(model_dir, canonical["transaction_id"]))
        if warning:
            note(warning)
            context = {**context, "WARNING": warning}
    known = canonical["label"].notna().to_numpy() & scored["fraud_score"].notna().to_numpy()
    if not known.any() or canonical.loc[known, "label"].nunique() < 2:
        raise DataError("a report needs labelled rows of both classes (a label column: label, TX_FRAUD, class)")
    y = canonical["label"].to_numpy(dtype=float)[known]
    score = scored["fraud_score"].to_numpy()[known]
    day = np.floor(canonical["ts"].to_numpy()[known] / 86400.0)
    metrics = fraud_metrics(y, score, day, canonical["customer_id"].to_numpy(dtype=object)[known])
    metrics.update({k: v for k, v in summarize(scored, canonical["label"]).items() if k not in metrics})
    truth = np.where(y == 1, "fraud", "legit")
    flagged = np.where(scored["decision"].to_numpy()[known] != "approve", "fraud", "legit")
    report_dir = Path(report_dir)
    write_classification_report(report_dir, metrics, truth, flagged, ["legit", "fraud"],
                                title=f"{title} (flagged = any decision but approve)",
                                context={**context, "rows scored": int(known.sum())})
    plot_precision_recall(y, score, report_dir / "precision_recall.png", "Fraud score: precision vs recall",
                          thresholds)
    with open(report_dir / "report.md", "a", encoding="utf-8") as fh:
        fh.write("\n## Precision-recall curve\n\n![precision-recall](precision_recall.png)\n")
    return metrics
