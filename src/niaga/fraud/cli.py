"""``niaga fraud``: train, score, evaluate, replay, and work the review queue (cases)."""

from __future__ import annotations

import argparse
import json

from niaga.cli_options import add_data, add_input, add_model, add_out, add_output, add_report, say
from niaga.params import parse_params


HELP_EXAMPLES = {
    "train": "niaga fraud train --data ../shared/data/fraud/fraud_detection_handbook_simulated/"
             "transactions_2018-0{4,5,6,7,8}.parquet --out runs/fraud",
    "score": "niaga fraud score --model runs/fraud --input ../shared/data/fraud/fraud_detection_handbook_simulated/"
             "transactions_2018-09.parquet --output runs/fraud-scored.parquet",
    "evaluate": "niaga fraud evaluate --model runs/fraud --data ../shared/data/fraud/fraud_detection_handbook_simulated/"
                "transactions_2018-09.parquet --report runs/fraud-eval",
    "replay": "niaga fraud replay --model runs/fraud --data ../shared/data/fraud/fraud_detection_handbook_simulated/"
              "transactions_2018-09.parquet --report runs/fraud-replay --snapshot runs/fraud-stream.npz",
    "cases": "niaga fraud cases --model runs/fraud --limit 10",
}


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    train = commands.add_parser("train", help="train the fraud model (LightGBM + autoencoder) on labelled transactions")
    add_data(train, nargs="+", metavar="PATH",
                       help="transaction tables (parquet, CSV): the handbook's monthly files, the e-commerce file ...")
    add_out(train)
    train.add_argument("--rules", help="rules YAML (default: the packaged rules); copied into the model directory")
    train.add_argument("--labels", help="resolved cases (transaction_id,label) from 'niaga fraud cases --export-labels'")
    train.add_argument("--ip-countries", help="IP-range → country table (default: one beside the data, else the "
                                              "shared e-commerce one)")
    train.add_argument("--label-delay-days", type=float, default=7.0,
                       help="days before a transaction's label is known to the features (default 7)")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a model parameter, e.g. --param n_estimators=300 or --param autoencoder=false")
    train.set_defaults(handler=train_command)

    score = commands.add_parser("score", help="score a table; adds fraud_score, decision and reasons")
    add_model(score)
    add_input(score, "transaction table to score")
    add_output(score, "table to write: the input plus fraud_score, decision, reasons")
    score.add_argument("--rules", help="rules YAML (default: the model's rules.yaml)")
    add_start_options(score)
    add_log_options(score)
    add_snapshot_options(score)
    score.set_defaults(handler=score_command)

    evaluate = commands.add_parser("evaluate", help="replay labelled tables through the scorer and write a report")
    add_model(evaluate)
    add_data(evaluate, nargs="+", metavar="PATH",
                          help="labelled transaction tables the model did not train on, replayed in time order")
    add_report(evaluate)
    evaluate.add_argument("--rules", help="rules YAML (default: the model's rules.yaml)")
    add_start_options(evaluate)
    evaluate.set_defaults(handler=evaluate_command)

    replay = commands.add_parser("replay", help="stream files through the real-time scorer in timestamp order")
    add_model(replay)
    add_data(replay, "transaction tables, streamed in timestamp order (also accepted without --data)",
             required=False, nargs="+", metavar="FILE")
    replay.add_argument("files", nargs="*", metavar="FILE", help=argparse.SUPPRESS)
    add_output(replay, "write transaction_id, fraud_score, decision, reasons of every transaction", required=False)
    add_report(replay, "directory for metrics.json, report.md and the plots (needs labelled files)", required=False)
    replay.add_argument("--label-delay-days", type=float, default=None,
                        help="days before a label is fed back to the feature state (default: the model's, 7; "
                             "another delay needs --fresh)")
    add_start_options(replay)
    add_log_options(replay)
    add_snapshot_options(replay)
    replay.add_argument("--max-rate", type=float, metavar="TX_PER_SECOND",
                        help="stream at most this many transactions per second (a live feed)")
    replay.set_defaults(handler=replay_command)

    cases = commands.add_parser("cases", help="list the review queue, resolve a case, export resolutions as labels")
    add_model(cases, "model directory whose decision log to use", required=False)
    cases.add_argument("--log", help="decision log file or PostgreSQL URL (default: MODEL/decisions.duckdb)")
    cases.add_argument("--status", choices=("open", "resolved", "all"), default="open",
                       help="which cases to list (default open)")
    cases.add_argument("--limit", type=int, default=50, help="list at most this many, highest score first (default 50)")
    cases.add_argument("--resolve", metavar="TRANSACTION_ID", help="resolve this case")
    cases.add_argument("--label", choices=("fraud", "legit"), help="with --resolve: the verdict")
    cases.add_argument("--note", default="", help="with --resolve: a note")
    cases.add_argument("--export-labels", metavar="FILE", help="write the resolutions as transaction_id,label")
    cases.set_defaults(handler=cases_command)


def add_start_options(parser: argparse.ArgumentParser) -> None:
    start = parser.add_argument_group("start state (default: the feature state the model carries from the end "
                                      "of its training data)")
    start.add_argument("--fresh", action="store_true",
                       help="start from an empty state (every customer and terminal without history)")
    start.add_argument("--history", nargs="+", metavar="FILE",
                       help="first stream these transaction files through the state (no decisions written); "
                            "rows older than the state are skipped")


def add_snapshot_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--snapshot", metavar="FILE",
                        help="keep the stream resumable: state snapshots in FILE (periodically, at the end, on "
                             "SIGTERM / Ctrl-C), decisions in the log; when FILE exists, resume from it")
    parser.add_argument("--snapshot-seconds", type=float, default=60.0, metavar="S",
                        help="seconds between snapshots with --snapshot (default 60)")


def add_log_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log", help="decision log file or PostgreSQL URL to append to "
                                      "(default: MODEL/decisions.duckdb)")
    parser.add_argument("--no-log", action="store_true", help="do not log the decisions")


def log_path(args: argparse.Namespace):
    from niaga.fraud.pipeline import default_log

    return None if args.no_log else (args.log or default_log(args.model))


def train_command(args: argparse.Namespace) -> int:
    from niaga.errors import NiagaError
    from niaga.fraud.pipeline import train

    try:
        model, metrics = train(args.data, args.out, rules_path=args.rules, labels_path=args.labels,
                               ip_countries_path=args.ip_countries, label_delay_days=args.label_delay_days, log=say,
                               **parse_params(args.param, valid=fraud_model_params()))
    except (TypeError, ValueError) as exc:  # a bad --param or unusable labels
        raise NiagaError(str(exc)) from exc
    held_out, slices = metrics["held_out"], metrics["slices"]
    print(f"trained on {metrics['training_rows']:,} transactions ({metrics['frauds']:,} frauds), "
          f"{len(model.columns_)} features; saved to {args.out} with the feature state as of "
          f"{metrics['feature_state']['until']}")
    if "roc_auc" in held_out:
        print(f"held out (latest {held_out['n']:,} rows, {slices['held_out']['from']} … {slices['held_out']['to']}; "
              f"nothing was fitted on them): ROC-AUC {held_out['roc_auc']:.4f}, AP {held_out['average_precision']:.4f}"
              f", mean score {held_out['mean_score']:.4f} vs fraud rate {held_out['fraud_rate']:.4f}; trees chosen on "
              f"{slices['early_stopping']['from']} … {slices['early_stopping']['to']}, calibration fitted on "
              f"{slices['calibration']['from']} … {slices['calibration']['to']}")
    return 0


def interrupted(args: argparse.Namespace, exc) -> int:
    say(f"{exc}: decisions so far are in the log, the state in {args.snapshot}; run the same command again to "
        "resume")
    return 130


def score_command(args: argparse.Namespace) -> int:
    from niaga.fraud.pipeline import score_file
    from niaga.fraud.scorer import StreamInterrupted

    try:
        result = score_file(args.model, args.input, args.output, rules_path=args.rules, log_path=log_path(args),
                            log=say, fresh=args.fresh, history=args.history, snapshot=args.snapshot,
                            snapshot_seconds=args.snapshot_seconds)
    except StreamInterrupted as exc:
        return interrupted(args, exc)
    counts = result["decision"].value_counts().to_dict()
    invalid = int(result["reasons"].astype(str).str.startswith("invalid input").sum())
    print(f"wrote {len(result):,} rows to {args.output}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
          + (f" ({invalid:,} invalid input: see the reasons column)" if invalid else ""))
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from niaga.fraud.pipeline import evaluate

    m = evaluate(args.model, args.data, args.report, rules_path=args.rules, fresh=args.fresh, history=args.history,
                 log=say)
    print(m["start"]["line"])
    print(f"ROC-AUC {m.get('roc_auc', float('nan')):.4f}  AP {m.get('average_precision', float('nan')):.4f}  "
          f"CP@100 {m.get('card_precision_at_100', float('nan')):.4f}  flagged precision "
          f"{m.get('precision_flagged', float('nan')):.4f} recall {m.get('recall_flagged', float('nan')):.4f}  "
          f"(n={m['n']:,}, frauds {m['frauds']:,}); report in {args.report}")
    return 0


def replay_command(args: argparse.Namespace) -> int:
    from niaga.errors import NiagaError
    from niaga.fraud.pipeline import replay
    from niaga.fraud.scorer import StreamInterrupted

    files = [*(args.data or []), *args.files]
    if not files:
        raise NiagaError("give the transaction files to replay: --data FILE ...")
    try:
        summary = replay(args.model, files, args.output, args.label_delay_days, log_path(args),
                         report_dir=args.report, fresh=args.fresh, history=args.history, snapshot=args.snapshot,
                         snapshot_seconds=args.snapshot_seconds, pace=args.max_rate, log=say)
    except StreamInterrupted as exc:
        return interrupted(args, exc)
    print(summary["start"]["line"])
    if summary["already_decided"]:
        print(f"{summary['already_decided']:,} transactions were already decided in this stream: their logged "
              "decisions are reported, not scored again")
    rate = summary["transactions_per_second"]
    print(f"replayed {summary['transactions']:,} transactions in {summary['seconds']}s"
          + (f" ({rate:,} tx/s)" if rate else "") + f", labels fed back after {summary['label_delay_days']:g} days; "
          f"the state now reaches {summary['state_until']}")
    print("decisions: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary["decisions"].items()))
          + (f" (invalid input: {summary['invalid']:,})" if summary["invalid"] else "")
          + (f" ({summary['out_of_order']:,} older than the state's start: scored, flagged 'out of order')"
             if summary["out_of_order"] else ""))
    if "precision_flagged" in summary:
        print(f"flagged (challenge/review/block): precision {summary['precision_flagged']:.4f}, recall "
              f"{summary['recall_flagged']:.4f}; review/block: precision {summary['precision_review_or_block']:.4f}, "
              f"recall {summary['recall_review_or_block']:.4f}; ROC-AUC {summary.get('roc_auc', float('nan')):.4f}, "
              f"AP {summary.get('average_precision', float('nan')):.4f} ({summary['frauds']:,} frauds)")
    if args.output:
        print(f"wrote {args.output}")
    if args.report:
        print(f"report in {args.report}")
    return 0


def cases_command(args: argparse.Namespace) -> int:
    from niaga.data.io import write_table
    from niaga.errors import NiagaError
    from niaga.fraud.log import DecisionLog
    from niaga.fraud.pipeline import default_log
    from niaga.store.database import postgres_url

    if not args.log and not args.model:
        raise NiagaError("give --model DIR (its decision log) or --log FILE")
    path = args.log or default_log(args.model)
    from pathlib import Path

    if not postgres_url(path) and not Path(path).exists():
        raise NiagaError(f"{path}: no decision log yet (score or replay with this model first)")
    with DecisionLog(path) as decision_log:
        if args.resolve:
            if not args.label:
                raise NiagaError("--resolve needs --label fraud or --label legit")
            decision_log.resolve(args.resolve, args.label, args.note)
            print(f"resolved {args.resolve} as {args.label}")
        if args.export_labels:
            labels = decision_log.resolved_labels()
            write_table(labels, args.export_labels)
            print(f"wrote {len(labels)} resolved label(s) to {args.export_labels}")
        if not args.resolve and not args.export_labels:
            cases = decision_log.cases(args.status, args.limit)
            total = decision_log.case_count(args.status)
            print(f"{total:,} {args.status} case(s)" + (f"; the first {len(cases):,} by score (--limit to see more)"
                                                        if total > len(cases) else ""))
            for case in cases.itertuples():
                print(json.dumps({"transaction_id": case.transaction_id, "time": str(case.ts),
                                  "customer_id": case.customer_id, "amount": case.amount,
                                  "fraud_score": None if case.fraud_score != case.fraud_score else case.fraud_score,
                                  "reasons": case.reasons, "resolution": case.resolution}, ensure_ascii=False))
    return 0


def fraud_model_params() -> list[str]:
    """What --param may set: the model's parameters but the label delay, which has its own option."""
    from niaga.fraud.model import FraudModel

    return [p for p in FraudModel().get_params(deep=False) if p != "label_delay_days"]
