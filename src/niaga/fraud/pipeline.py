"""Train, score, evaluate and replay on transaction tables: what the CLI and the API call."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from niaga.cli_options import quiet, say
from niaga.data.io import note, read_table, require_columns, with_outputs, write_table
from niaga.errors import DataError
from niaga.evaluation import write_classification_report
from niaga.fraud.checkpoint import Checkpoint
from niaga.fraud.features import DAY, FeatureConfig, IpCountries, OnlineFeatureState, batch_features, stream_columns
from niaga.fraud.log import LOG_FILE, DecisionLog
from niaga.fraud.metrics import fraud_metrics
from niaga.fraud.model import FraudModel
from niaga.fraud.rules import load_rules
from niaga.fraud.schema import problems_table, read_transactions, sort_stream
from niaga.fraud.scorer import OUTPUT_COLUMNS, FraudScorer, when
from niaga.fraud.state import STATE_FILE, write_state
from niaga.modeling import (fingerprint, load_model, overlap_note, row_hashes, save_model, sha256_file,
                            training_overlap)
from niaga.store.database import describe

RULES_FILE = "rules.yaml"
INVALID_ROWS_FILE = "invalid_rows.csv"


def _log_to(log: Callable[[str], None] | None, message: str) -> None:
    """The caller's log, if it gave one (log=None: no messages, as tests and the stream consumers ask)."""
    if log is not None:
        log(message)


def find_ip_countries(paths, explicit: str | Path | None, log: Callable[[str], None] = quiet) -> IpCountries | None:
    """The IP → country table: ``explicit``, else one beside the data (``*ip*country*``), else the shared one."""
    from niaga.data.fraud import load_ip_countries

    if explicit:
        return IpCountries.from_frame(load_ip_countries(explicit))
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        beside = sorted(Path(path).parent.glob("*ip*country*"))
        if beside:
            _log_to(log, f"IP → country table: {beside[0]}")
            return IpCountries.from_frame(load_ip_countries(beside[0]))
    try:
        return IpCountries.from_frame(load_ip_countries())
    except DataError:
        _log_to(log, "no IP → country table found (give --ip-countries): the country feature is left out")
        return None


def report_problems(canonical: pd.DataFrame, log: Callable[[str], None] = quiet) -> pd.DataFrame:
    problems = problems_table(canonical)
    if len(problems):
        shown = "; ".join(f"row {p.row} {p.field}: {p.reason}" for p in problems.head(5).itertuples())
        _log_to(log, f"{int((canonical['error'] != '').sum())} invalid row(s) not used: {shown}"
             + (" ..." if len(problems) > 5 else ""))
    return problems


def apply_resolved_labels(canonical: pd.DataFrame, labels_path: str | Path, log: Callable[[str], None] = quiet) -> int:
    """Investigators' resolutions (transaction_id, label) override or fill the data's labels."""
    labels = read_table(labels_path)
    require_columns(labels, ["transaction_id", "label"], labels_path)
    resolved = dict(zip(labels["transaction_id"].astype(str), labels["label"].astype(float)))
    hit = canonical["transaction_id"].isin(list(resolved))
    canonical.loc[hit, "label"] = canonical.loc[hit, "transaction_id"].map(resolved)
    _log_to(log, f"{labels_path}: {int(hit.sum())} of {len(resolved)} resolved labels match a transaction")
    return int(hit.sum())


def carried_state(canonical: pd.DataFrame, config: FeatureConfig, ip_countries: IpCountries | None
                  ) -> OnlineFeatureState:
    """The online feature state at the end of a table: its latest rows (as far back as any feature reads)
    streamed through a new state, labels included (they mature after the delay, as in a replay)."""
    import gc

    valid = canonical[canonical["error"] == ""]
    state = OnlineFeatureState(config, ip_countries)
    if valid.empty:
        return state
    horizon = config.horizon
    reach = [horizon["customer"], horizon["source"]]
    if valid["terminal_id"].notna().any():
        reach.append(horizon["terminal"])
    if valid["device_id"].notna().any() or valid["ip_address"].notna().any():
        reach.append(horizon["device"])
    tail = valid[valid["ts"] > valid["ts"].max() - max(reach) - DAY]
    collecting = gc.isenabled()
    gc.disable()
    try:
        update = state.update
        for args in zip(*stream_columns(tail, sort_stream(tail))):
            update(*args)
    finally:
        if collecting:
            gc.enable()
    state.prune(state.clock)
    return state


def train(paths, out: str | Path, rules_path: str | Path | None = None, labels_path: str | Path | None = None,
          ip_countries_path: str | Path | None = None, label_delay_days: float = 7.0, log: Callable[[str], None] = say,
          **params) -> tuple[FraudModel, dict]:
    """Train on labelled transactions (one or more files) and save the model directory ``out``, with the
    online feature state as it stands at the end of the training data (``feature_state.npz``)."""
    rules = load_rules(rules_path)
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    canonical, _ = read_transactions(paths, log)
    problems = report_problems(canonical, log)
    if labels_path:
        apply_resolved_labels(canonical, labels_path, log)
    ip = find_ip_countries(paths, ip_countries_path, log) if canonical["ip_address"].notna().any() else None
    config = FeatureConfig(label_delay_days=label_delay_days)
    rules.compile(config.names)  # a rule naming an unknown field fails before the long part
    start = time.perf_counter()
    features = batch_features(canonical, config, ip)
    _log_to(log, f"features: {features.shape[1]} columns for {len(features):,} transactions "
              f"in {time.perf_counter() - start:.1f}s")
    y = canonical.loc[features.index, "label"]
    labelled = y.notna().to_numpy()
    if not labelled.any():
        raise DataError(f"{', '.join(map(str, paths))}: no labels "
                        "(a label column: label, TX_FRAUD, class, is_fraud) — nothing to train on")
    model = FraudModel(label_delay_days=label_delay_days, **{"verbose": log is not None, **params})
    start = time.perf_counter()
    model.fit(features[labelled], y[labelled].to_numpy(), ip_countries=ip)
    fit_seconds = time.perf_counter() - start
    report = model.fit_report()
    times = canonical.loc[features.index[labelled], "timestamp"].to_numpy()
    for part in report["slices"].values():  # row ranges → the times they cover
        a, b = part["rows"]
        part["from"], part["to"] = (str(pd.Timestamp(times[a])), str(pd.Timestamp(times[b - 1]))) if b > a else (None,
                                                                                                             None)
    start = time.perf_counter()
    state = carried_state(canonical, config, ip)
    Path(out).mkdir(parents=True, exist_ok=True)
    state_path = Path(out) / STATE_FILE
    # before save_model: the state and the rules are artifacts, listed in model.json with their sha256
    write_state(state_path, state, extra={"start": {"kind": "model", "description": "the state carried from the "
                                                    f"training data ({', '.join(map(str, paths))})"}})
    (Path(out) / RULES_FILE).write_text(rules.text, encoding="utf-8")
    _log_to(log, f"feature state at the end of the training data ({when(state.clock)}): "
              f"{state.size()['customers']:,} customers, {state.size()['terminals']:,} terminals, "
              f"{state_path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - start:.1f}s")
    metrics = {"training_rows": int(labelled.sum()), "frauds": int(y[labelled].sum()),
               "unlabelled_rows": int((~labelled).sum()), "invalid_rows": int(len(problems["row"].unique())),
               "fit_seconds": round(fit_seconds, 2), **report,
               "feature_state": {"until": when(state.clock), **state.size(), "bytes": state_path.stat().st_size}}
    ids = canonical.loc[features.index[labelled], "transaction_id"]
    save_model(model, out, labels=["legit", "fraud"], metrics=metrics, data_sha256=fingerprint(ids, y[labelled]),
               data_rows=int(labelled.sum()), training_rows=row_hashes(ids),
               extra={"training_sources": [str(p) for p in paths], "features": model.columns_,
                      "label_delay_days": label_delay_days, "feature_state": STATE_FILE,
                      "feature_importance": dict(zip(model.columns_, map(float, model.booster_.feature_importance(
                          "gain").round(2))))})
    if len(problems):  # the rows left out of training, with row, field and reason
        write_table(problems, Path(out) / INVALID_ROWS_FILE, create_parent=True)
        _log_to(log, f"the invalid rows are listed in {Path(out) / INVALID_ROWS_FILE}")
    return model, metrics


def load_scorer(model_dir: str | Path, rules_path: str | Path | None = None, label_delay_days: float | None = None,
                fresh: bool = False, history=None, log: Callable[[str], None] = quiet) -> FraudScorer:
    """The model's scorer, starting from the feature state the model carries from its training data (the
    default), or empty (``fresh``); ``history``: files streamed through the state first (nothing decided).

    ``scorer.start`` says which start was used; ``scorer.until`` how far the state reaches."""
    model = load_model(model_dir, task="fraud")
    rules = load_rules(rules_path or Path(model_dir) / RULES_FILE)
    scorer = FraudScorer(model, rules, label_delay_days)
    carried = Path(model_dir) / STATE_FILE
    if fresh:
        scorer.start = {"kind": "fresh", "description": "an empty state (--fresh)"}
    elif not carried.exists():
        scorer.start = {"kind": "fresh", "description": "an empty state: the model carries none (trained by an "
                                                        "older niaga; retrain to carry it)"}
    else:
        if scorer.config.label_delay_days != model.feature_config.label_delay_days:
            raise DataError(f"a {scorer.config.label_delay_days:g}-day label delay differs from the "
                            f"{model.feature_config.label_delay_days:g} days the model's carried state was built with: "
                            "add --fresh (and --history FILE... to warm the state up)")
        expected = model.metadata_.get("artifacts", {}).get(STATE_FILE)
        if expected and sha256_file(carried) != expected:
            raise DataError(f"{carried}: changed after the model was saved (its sha256 differs from model.json)")
        scorer.restore(carried)
        scorer.start = {"kind": "model", "description": "the state carried from the training data"}
    if history:
        history = [history] if isinstance(history, (str, Path)) else list(history)
        canonical, _ = read_transactions(history)
        counts = scorer.warm(canonical, progress=log is not None)
        files = ", ".join(map(str, history))
        scorer.start = {"kind": scorer.start["kind"] + "+history",
                        "description": scorer.start["description"] + f", then the history {files}"
                        f" ({counts['entered']:,} transactions" + (
                            f"; {counts['older']:,} older than the state skipped" if counts["older"] else "") + ")"}
    scorer.start["until"] = when(scorer.until)
    return scorer


def start_line(scorer: FraudScorer) -> str:
    size = scorer.state.size()
    return (f"start: {scorer.start['description']}; the state reaches {when(scorer.until)} "
            f"({size['customers']:,} customers, {size['terminals']:,} terminals, "
            f"{size['pending_labels']:,} labels waiting for their delay)")


def log_decisions(path: str | Path | None, canonical: pd.DataFrame, scored: pd.DataFrame,
                  log: Callable[[str], None] = say) -> None:
    """Append the decisions to the log at ``path`` (none when None) and say where it is and how big it grew."""
    if path:
        with DecisionLog(path) as decision_log:
            added = decision_log.append(canonical, scored)
        say_logged(path, added, log)


def say_logged(path, added: int, log: Callable[[str], None]) -> None:
    with DecisionLog(path) as decision_log:
        total, open_cases = sum(decision_log.counts().values()), decision_log.case_count("open")
    _log_to(log, f"logged {added:,} decisions to {describe(path)} (now {total:,}; {open_cases:,} open review cases: "
              "'niaga fraud cases'; --no-log to skip)")


def default_log(model_dir: str | Path) -> Path:
    return Path(model_dir) / LOG_FILE


def stream(scorer: FraudScorer, canonical: pd.DataFrame, log_path: str | Path | None = None,
           snapshot: str | Path | None = None, snapshot_seconds: float = 60.0, pace: float | None = None,
           batch_size: int = 2048, desc: str = "scoring", log: Callable[[str], None] = say,
           say_logged_to: Callable | None = None) -> tuple[pd.DataFrame, dict]:
    """Score a canonical table through ``scorer`` and log the decisions (when ``log_path``).

    With ``snapshot`` the run is resumable: decisions are logged and the state snapshotted every
    ``snapshot_seconds``, at the end and on SIGTERM / Ctrl-C; when the snapshot exists the stream resumes
    from it plus the decisions logged after it, and rows it already answered (same file and row) keep their
    logged decision instead of being scored again. ``log``: progress bar and messages (None: silent);
    ``say_logged_to``: where the line about the decision log goes (default ``log``)."""
    say_logged_to = say_logged_to or log
    info = {"resumed": False, "already_decided": 0, "start": start_line(scorer)}
    if snapshot is None:
        scored = scorer.score_frame(canonical, batch_size=batch_size, progress=log is not None, desc=desc, pace=pace)
        log_decisions(log_path, canonical, scored, say_logged_to)
        return scored, info
    if not log_path:
        raise DataError("--snapshot needs the decision log to resume from (leave out --no-log)")
    with DecisionLog(log_path) as decision_log:
        checkpoint = Checkpoint(scorer, snapshot, decision_log, snapshot_seconds)
        done = checkpoint.open()
        info["resumed"] = checkpoint.resumed
        if checkpoint.resumed:
            info["start"] = (f"resumed the stream in {snapshot} ({len(done):,} decisions already logged); "
                             + start_line(scorer))
        keys = pd.MultiIndex.from_arrays([canonical["file"].astype(str), canonical["row"].astype(np.int64)])
        logged = done.dropna(subset=["input_row"]).drop_duplicates(["file", "input_row"], keep="last")
        logged = logged.set_index(pd.MultiIndex.from_arrays([logged["file"].astype(str),
                                                             logged["input_row"].astype(np.int64)]))
        decided = keys.isin(logged.index)
        info["already_decided"] = int(decided.sum())
        todo = canonical[~decided]
        with checkpoint.stop_on_signals():
            scored_new = scorer.score_frame(todo, batch_size=batch_size, progress=log is not None, desc=desc,
                                            checkpoint=checkpoint, pace=pace)
        info["snapshots"] = checkpoint.commits
    scored = pd.DataFrame({"transaction_id": canonical["transaction_id"].to_numpy(dtype=object),
                           "fraud_score": np.nan, "decision": None, "reasons": ""}, index=canonical.index)
    scored.loc[scored_new.index, OUTPUT_COLUMNS] = scored_new[OUTPUT_COLUMNS]
    if decided.any():
        previous = logged.loc[keys[decided]]
        scored.loc[decided, "fraud_score"] = previous["fraud_score"].to_numpy(dtype=float)
        scored.loc[decided, "decision"] = previous["decision"].to_numpy(dtype=object)
        scored.loc[decided, "reasons"] = previous["reasons"].to_numpy(dtype=object)
    scored["fraud_score"] = scored["fraud_score"].astype(float)
    say_logged(log_path, len(todo), say_logged_to)
    return scored, info


def score_file(model_dir: str | Path, input_path: str | Path, output_path: str | Path,
               rules_path: str | Path | None = None, log_path: str | Path | None = None,
               log: Callable[[str], None] = say, fresh: bool = False, history=None,
               snapshot: str | Path | None = None, snapshot_seconds: float = 60.0) -> pd.DataFrame:
    """Score a table in timestamp order; writes its rows and columns plus fraud_score, decision, reasons."""
    scorer = load_scorer(model_dir, rules_path, fresh=fresh, history=history, log=log)
    canonical, raw = read_transactions([input_path], log)
    report_problems(canonical, log)
    scored, info = stream(scorer, canonical, log_path, snapshot, snapshot_seconds, log=log)
    _log_to(log, info["start"])
    result = with_outputs(raw, {column: scored[column].to_numpy() for column in OUTPUT_COLUMNS})
    write_table(result, output_path)
    late = int(scored["reasons"].astype(str).str.startswith("out of order").sum())
    if late:
        _log_to(log, f"{late:,} transactions older than the state's start ({scorer.start['until']}) were scored from "
                  "the history up to their time and flagged 'out of order' in their reasons")
    return result


def summarize(scored: pd.DataFrame, labels: pd.Series) -> dict:
    """Decisions by type and, where labels exist, precision/recall of flagging (any decision but approve)."""
    summary = {"transactions": int(len(scored)), "decisions": dict(Counter(scored["decision"])),
               "invalid": int(scored["reasons"].str.startswith("invalid input").sum()),
               "out_of_order": int(scored["reasons"].str.startswith("out of order").sum())}
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
           batch_size: int = 2048, report_dir: str | Path | None = None, fresh: bool = False, history=None,
           snapshot: str | Path | None = None, snapshot_seconds: float = 60.0, pace: float | None = None,
           log: Callable[[str], None] = quiet) -> dict:
    """Stream files through the real-time scorer in timestamp order, labels fed back after their delay,
    starting from the model's carried state (or ``fresh``, and/or after ``history``).

    ``snapshot``: keep the stream resumable (see ``stream``). ``report_dir``: also write the standard report
    (needs labelled rows)."""
    scorer = load_scorer(model_dir, label_delay_days=label_delay_days, fresh=fresh, history=history, log=log)
    canonical, _ = read_transactions(paths)
    start = time.perf_counter()
    scored, info = stream(scorer, canonical, log_path, snapshot, snapshot_seconds, pace, batch_size, "replay",
                          log=log, say_logged_to=print)
    seconds = time.perf_counter() - start
    summary = summarize(scored, canonical["label"])
    summary["seconds"] = round(seconds, 2)
    scored_now = len(scored) - info["already_decided"]
    summary["transactions_per_second"] = round(scored_now / seconds) if seconds > 0 and scored_now else None
    summary["label_delay_days"] = scorer.config.label_delay_days
    start_text = info.pop("start")
    summary["start"] = dict(scorer.start, line=start_text)
    summary["state_until"] = when(scorer.until)
    summary.update(info)
    if output_path:
        write_table(scored[["transaction_id"] + OUTPUT_COLUMNS], output_path)
    if report_dir:
        write_report(report_dir, canonical, scored, title="Fraud replay",
                     context={"model": str(model_dir), "data": ", ".join(map(str, paths)),
                              "start": start_text, "label delay (days)": scorer.config.label_delay_days,
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


def evaluate(model_dir: str | Path, paths, report_dir: str | Path, rules_path: str | Path | None = None,
             fresh: bool = False, history=None, log: Callable[[str], None] = quiet) -> dict:
    """Replay labelled files through the scorer (from the model's carried state, or ``fresh`` / after
    ``history``) and write metrics.json, report.md, a confusion matrix of flagged vs fraud, and the
    precision-recall curve."""
    scorer = load_scorer(model_dir, rules_path, fresh=fresh, history=history, log=log)
    start_text = start_line(scorer)
    canonical, _ = read_transactions(paths)
    scored = scorer.score_frame(canonical, progress=log is not None, desc="evaluating")
    metrics = write_report(report_dir, canonical, scored, title="Fraud model evaluation",
                           context={"model": str(model_dir), "data": ", ".join(map(str, paths)), "start": start_text,
                                    "label delay (days)": scorer.config.label_delay_days}, model_dir=model_dir,
                           thresholds=scorer.rules.thresholds)
    metrics["start"] = dict(scorer.start, line=start_text)
    return metrics


def training_context(model_dir: str | Path) -> dict:
    """What the model's own held-out figure is and which slice of its training data each step used."""
    from niaga.modeling import read_metadata

    metrics = read_metadata(model_dir).get("metrics", {})
    held, slices = metrics.get("held_out"), metrics.get("slices")
    if not held or "roc_auc" not in held or not slices:
        return {}
    span = lambda name: f"{slices[name]['from']} … {slices[name]['to']}"  # noqa: E731
    return {"model's held-out figure": f"ROC-AUC {held['roc_auc']:.4f}, AP {held['average_precision']:.4f} on "
                                       f"{held['n']:,} rows ({span('held_out')}) nothing was fitted on",
            "model's training slices": f"booster {span('training')}; trees chosen on {span('early_stopping')}; "
                                       f"calibration fitted on {span('calibration')}"}


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
        context = {**context, **training_context(model_dir)}
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
