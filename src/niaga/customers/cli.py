"""``niaga customers``: segment a transaction log, promotion and purchase-intent models, customer profiles."""

from __future__ import annotations

import argparse
import json

from niaga.cli_options import add_data, add_input, add_kind, add_model, add_out, add_output, add_report, say
from niaga.params import parse_params

PROMO_DATA_HELP = ("survey table with the attribute columns and a label column (default: the 284 rows rebuilt "
                   "from seed 003's Table 1 counts)")


HELP_EXAMPLES = {
    "segment": "niaga customers segment --data ../shared/data/commerce/online_retail/online_retail.parquet "
               "--report runs/segments --currency GBP",
    "promo train": "niaga customers promo train --data examples/promo_train.csv --out runs/promo-nb --alpha 1",
    "promo evaluate": "niaga customers promo evaluate --model runs/promo-nb --data examples/promo_test.csv "
                      "--report runs/promo-eval",
    "promo cv": "niaga customers promo cv --models naive-bayes,logistic --report runs/promo-cv",
    "intent train": "niaga customers intent train --data examples/sessions_train.csv --out runs/intent",
    "intent evaluate": "niaga customers intent evaluate --data examples/sessions_train.csv --report runs/intent-cv",
    "intent predict": "niaga customers intent predict --model runs/intent --input examples/sessions_new.csv "
                      "--output runs/sessions-scored.csv",
    "profile": "niaga customers profile --id 12347 --segments runs/segments --attr age=19",
    "offers": "niaga customers offers --segments runs/segments --output runs/offers.csv",
}


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    segment = commands.add_parser(
        "segment", help="RFM scores, rule segments and k-means clusters from a transaction log",
        description="Clean a transaction log (cancellations, returns, missing customer ids and bad prices are "
                    "counted and left out), compute recency / frequency / monetary per customer at a cut-off, "
                    "segment by rules and by k-means, and compare with an earlier cut-off. Writes segments.csv "
                    "(customer_id, recency, frequency, monetary, segment, cluster), rfm_scores.csv, profiles, "
                    "movement.csv, excluded_lines.parquet, metrics.json, plots and report.md.")
    add_data(segment,
                         help="transaction log: CSV, TSV, parquet, JSON lines (columns as in Online Retail: "
                              "InvoiceNo/Invoice, InvoiceDate, CustomerID/Customer ID, Quantity, UnitPrice/Price, Country)")
    add_report(segment, "directory for segments.csv, the other tables and the report", legacy_out=True)
    segment.add_argument("--as-of", help="cut-off date YYYY-MM-DD: only lines on or before it count "
                         "(default: the log's last day)")
    segment.add_argument("--previous", help="earlier cut-off to show segment movement from (default: 90 days before)")
    segment.add_argument("--currency", help="the money's currency, named on the plots' axes (e.g. GBP for Online "
                                            "Retail, IDR); default: 'the log's currency'")
    segment.add_argument("--k-min", type=int, default=2, help="fewest k-means clusters to try (default 2)")
    segment.add_argument("--k-max", type=int, default=8, help="most k-means clusters to try (default 8)")
    segment.set_defaults(handler=segment_command)

    promo = commands.add_parser("promo", help="seed 003: predict the promotion a user uses (Naive Bayes and others)")
    promo.set_defaults(subparser=promo)
    promo_commands = promo.add_subparsers(dest="promo_command", metavar="<command>")
    train = promo_commands.add_parser("train", help="train a promotion model and save it (with its probability table)")
    _promo_data_args(train)
    add_out(train)
    _promo_model_args(train)
    train.set_defaults(handler=promo_train_command)
    evaluate = promo_commands.add_parser("evaluate", help="score a saved promotion model on a labelled table")
    add_model(evaluate, "model directory from 'promo train'")
    _promo_data_args(evaluate)
    add_report(evaluate, "directory for metrics.json, confusion_matrix.png, report.md", legacy_out=True)
    evaluate.set_defaults(handler=promo_evaluate_command)
    cv = promo_commands.add_parser("cv", help="k-fold CV for k = 2..10 in the layout of seed 003's Table 4")
    _promo_data_args(cv)
    cv.add_argument("--kinds", "--models", dest="models", default="naive-bayes,logistic",
                    help="comma-separated: naive-bayes, logistic, lightgbm (same folds for all; "
                         "default naive-bayes,logistic)")
    cv.add_argument("--k-min", type=int, default=2, help="fewest folds (default 2)")
    cv.add_argument("--k-max", type=int, default=10, help="most folds (default 10, as the paper)")
    cv.add_argument("--alpha", type=float, default=0.0, help="Naive Bayes Laplace smoothing (default 0, as the paper)")
    cv.add_argument("--smote", action="store_true", help="oversample minority classes in each training fold (SMOTE-N)")
    cv.add_argument("--class-weight", choices=["balanced"], help="weigh classes inversely to their frequency")
    add_report(cv, "directory for cv.csv, metrics.json, cv.png and report.md (the table is printed either way)",
               required=False, legacy_out=True)
    cv.set_defaults(handler=promo_cv_command)

    intent = commands.add_parser("intent", help="purchase intent of shopping sessions (UCI Online Shoppers Intention)")
    intent.set_defaults(subparser=intent)
    intent_commands = intent.add_subparsers(dest="intent_command", metavar="<command>")
    i_train = intent_commands.add_parser("train", help="train on a labelled session table (Revenue column) and save")
    add_data(i_train, "session table with the 17 UCI feature columns and Revenue")
    add_out(i_train)
    _intent_model_args(i_train)
    i_train.set_defaults(handler=intent_train_command)
    i_eval = intent_commands.add_parser("evaluate", help="stratified k-fold CV; writes metrics.json (average_precision, "
                                        "roc_auc, buyer-class f1), plots and report.md")
    add_data(i_eval, "labelled session table")
    add_report(i_eval, "report directory", legacy_out=True)
    i_eval.add_argument("--folds", type=int, default=5, help="stratified cross-validation folds (default 5)")
    i_eval.add_argument("--seed", type=int, default=0, help="seed of the folds and the model (default 0)")
    _intent_model_args(i_eval)
    i_eval.set_defaults(handler=intent_evaluate_command)
    i_pred = intent_commands.add_parser("predict", help="add purchase_probability, purchase and error columns to a table")
    add_model(i_pred, "model directory from 'intent train'")
    add_input(i_pred, "session table (Revenue not needed)")
    add_output(i_pred, "CSV or parquet to write")
    i_pred.set_defaults(handler=intent_predict_command)

    profile = commands.add_parser(
        "profile", help="one customer's segment, RFM, predicted promotion preference and offers (JSON)",
        description="Look a customer up in the output of 'niaga customers segment' and print, as JSON, the segment, "
                    "cluster, RFM values and scores, the predicted promotion preference (from the promotion model: "
                    "purchase frequency comes from the log, other survey attributes from --attr) and every offer "
                    "rule that applies, with its reason.")
    profile.add_argument("--id", required=True, help="customer id")
    profile.add_argument("--segments", required=True, help="output directory of 'niaga customers segment'")
    add_model(profile, "promotion model directory from 'promo train' (default: Naive Bayes trained on seed 003's "
                       "Table 1)", required=False)
    profile.add_argument("--offers", help="offer rules YAML (default: the built-in customer_offers.yaml)")
    profile.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE",
                         help="a survey attribute for the promotion model, e.g. --attr age=19 --attr gender=female")
    profile.set_defaults(handler=profile_command)

    offers = commands.add_parser("offers", help="evaluate the offer rules for every segmented customer")
    offers.add_argument("--segments", required=True, help="output directory of 'niaga customers segment'")
    offers.add_argument("--offers", help="offer rules YAML (default: the built-in customer_offers.yaml)")
    add_model(offers, "promotion model directory (default: Naive Bayes on seed 003's Table 1)", required=False)
    add_output(offers, "table to write (.csv, .parquet, .xlsx, .jsonl): customer_id, offer, rule, reason")
    offers.set_defaults(handler=offers_command)


def _promo_data_args(parser: argparse.ArgumentParser) -> None:
    add_data(parser, PROMO_DATA_HELP, required=False)
    parser.add_argument("--label-col", default="promotion", help="label column (default: promotion)")


def _promo_model_args(parser: argparse.ArgumentParser) -> None:
    add_kind(parser, ["naive-bayes", "logistic", "lightgbm"], "naive-bayes",
             "the model: naive-bayes (the paper's), logistic or lightgbm on one-hot answers")
    parser.add_argument("--alpha", type=float, default=0.0,
                        help="Naive Bayes Laplace smoothing (default 0, as the paper)")
    parser.add_argument("--smote", action="store_true", help="oversample minority classes (SMOTE-N) before fitting")
    parser.add_argument("--class-weight", choices=["balanced"], help="weigh classes inversely to their frequency")


def _intent_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--imbalance", choices=["none", "balanced", "smote"], default="none",
                        help="imbalance handling besides the tuned threshold (default none)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="an IntentClassifier parameter, e.g. --param n_estimators=200 (repeatable)")


def segment_command(args: argparse.Namespace) -> int:
    from niaga.customers.rfm import read_log
    from niaga.customers.segment_report import write_segmentation
    from niaga.errors import NiagaError

    if not 2 <= args.k_min <= args.k_max:
        raise NiagaError(f"--k-min {args.k_min} / --k-max {args.k_max}: need 2 <= k-min <= k-max")
    raw = read_log(args.data)
    _, summary = write_segmentation(raw, args.data, args.report, as_of=args.as_of, previous=args.previous,
                                    k_range=range(args.k_min, args.k_max + 1), currency=args.currency)
    excluded = sum(summary["excluded_lines"].values())
    print(f"{summary['customers']:,} customers as of {summary['as_of']} from {summary['purchase_lines']:,} "
          f"purchase lines ({excluded:,} of {summary['lines']:,} lines left out, counted in the report); "
          f"{len(summary['segments'])} segments, {summary['clusters']['k']} clusters; wrote {args.report}/segments.csv "
          f"and report.md in {summary['seconds']} s")
    return 0


def promo_train_command(args: argparse.Namespace) -> int:
    from niaga.customers.pipeline import train_promotion
    from niaga.errors import NiagaError

    try:
        model, summary = train_promotion(args.data, args.out, kind=args.kind, label_col=args.label_col,
                                         alpha=args.alpha, class_weight=args.class_weight, smote=args.smote, log=say)
    except ValueError as exc:
        raise NiagaError(str(exc)) from exc
    print(f"trained {args.kind} on {summary['training_rows']} rows ({summary['source']}), classes "
          f"{list(model.classes_)}; saved to {args.out}")
    return 0


def promo_evaluate_command(args: argparse.Namespace) -> int:
    from niaga.customers.pipeline import evaluate_promotion

    metrics = evaluate_promotion(args.model, args.data, args.report, label_col=args.label_col)
    print(f"accuracy {metrics['accuracy']:.4f}  macro precision {metrics['precision_macro']:.4f}  macro recall "
          f"{metrics['recall_macro']:.4f}  kappa {metrics['cohen_kappa']:.4f}  (n={metrics['n']}); "
          f"report in {args.report}")
    return 0


def promo_cv_command(args: argparse.Namespace) -> int:
    from niaga.customers.promo import make_promo_model, promo_cv, read_promo_table, table4_markdown, write_cv_report
    from niaga.errors import NiagaError

    if not 2 <= args.k_min <= args.k_max:
        raise NiagaError(f"--k-min {args.k_min} / --k-max {args.k_max}: need 2 <= k-min <= k-max")
    X, y, _ = read_promo_table(args.data, args.label_col)
    try:
        models = {kind: make_promo_model(kind, alpha=args.alpha, class_weight=args.class_weight)
                  for kind in [k.strip() for k in args.models.split(",") if k.strip()]}
        table = promo_cv(X, y, ks=range(args.k_min, args.k_max + 1), models=models, smote=args.smote)
    except ValueError as exc:
        raise NiagaError(str(exc)) from exc
    print(table4_markdown(table))
    if args.report:
        write_cv_report(table, args.report, {"data": args.data or "seed 003 rows rebuilt from Table 1 counts",
                                             "rows": len(y), "smote": args.smote, "alpha": args.alpha,
                                             "folds": "stratified, the same for every model"})
        print(f"report in {args.report}")
    return 0


def _intent_params(args: argparse.Namespace) -> dict:
    from niaga.customers.intent import IntentClassifier

    valid = [p for p in IntentClassifier().get_params(deep=False) if p != "imbalance"]  # --imbalance sets it
    return {"imbalance": args.imbalance, **parse_params(args.param, valid=valid)}


def intent_train_command(args: argparse.Namespace) -> int:
    from niaga.customers.pipeline import train_intent
    from niaga.errors import NiagaError

    try:
        _, metrics = train_intent(args.data, args.out, log=say, **_intent_params(args))
    except (TypeError, ValueError) as exc:
        raise NiagaError(str(exc)) from exc
    print(f"trained purchase-intent model on {metrics['training_rows']:,} sessions "
          f"({metrics['buyer_share']:.1%} buyers); threshold {metrics['threshold']:.3f} tuned on training folds; saved to {args.out}")
    return 0


def intent_evaluate_command(args: argparse.Namespace) -> int:
    from niaga.customers.pipeline import evaluate_intent
    from niaga.errors import NiagaError

    if args.folds < 2:
        raise NiagaError(f"--folds {args.folds}: need at least 2")
    try:
        metrics = evaluate_intent(args.data, args.report, folds=args.folds, seed=args.seed, log=say, **_intent_params(args))
    except (TypeError, ValueError) as exc:
        raise NiagaError(str(exc)) from exc
    print(f"{args.folds}-fold CV: PR-AUC {metrics['average_precision']:.4f}  ROC-AUC {metrics['roc_auc']:.4f}  "
          f"buyer F1 {metrics['f1']:.4f}  (n={metrics['n']:,}); report in {args.report}")
    return 0


def intent_predict_command(args: argparse.Namespace) -> int:
    from niaga.customers.pipeline import predict_intent

    result = predict_intent(args.model, args.input, args.output)
    bad = int((result["error"] != "").sum())
    print(f"wrote {len(result):,} rows to {args.output}" + (f" ({bad} not scored: see the error column)" if bad else ""))
    return 0


def profile_command(args: argparse.Namespace) -> int:
    from niaga.customers.profile import customer_profile

    profile = customer_profile(args.segments, args.id, model_dir=args.model, offers_path=args.offers,
                               attributes={k: str(v) for k, v in parse_params(args.attr).items()})
    print(json.dumps(profile, indent=2, ensure_ascii=False, default=str))
    return 0


def offers_command(args: argparse.Namespace) -> int:
    from niaga.customers.profile import offers_for_all
    from niaga.data.io import write_table

    table = offers_for_all(args.segments, model_dir=args.model, offers_path=args.offers)
    write_table(table, args.output)
    print(f"{len(table):,} offers for {table['customer_id'].nunique():,} customers; wrote {args.output}")
    return 0
