"""``niaga social``: transaction posts, their activity, and price / payment / product extraction."""

from __future__ import annotations

import argparse
import json

from niaga.cli_options import add_data, add_input, add_kind, add_model, add_out, add_output, add_report, say
from niaga.social.models import DEFAULT_KIND, KIND_ALIASES, MODEL_KINDS


HELP_EXAMPLES = {
    "train": "niaga social train --data examples/tweets_train.csv --text-col text --label-col label --out runs/social",
    "predict": "niaga social predict --model runs/social --input examples/posts.csv --text-col text "
               "--output runs/posts-labelled.csv",
    "extract": "niaga social extract --input examples/posts.csv --text-col text --output runs/posts-extracted.csv",
    "evaluate": "niaga social evaluate --model runs/social --data examples/tweets_test.csv --text-col text "
                "--label-col label --report runs/social-test",
    "grid": "niaga social grid --data ../shared/data/text/ecommerce_tweets_labelled/tweets_train.csv --text-col text "
            "--label-col label --report runs/social-grid",
}


def register(sub, name: str, help_: str) -> None:

    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    train = commands.add_parser("train", help="train the transaction classifier (and the activity classifier when "
                                              "the table has an activity column)")
    add_data(train, "labelled table (CSV, TSV, parquet)")
    train.add_argument("--text-col", required=True, help="column holding the post text")
    train.add_argument("--label-col", required=True, help="column holding TRANSACTION / NON_TRANSACTION")
    add_out(train)
    add_kind(train, MODEL_KINDS, DEFAULT_KIND, "the classifier: svm-rbf (the paper's recipe), tfidf (TF-IDF word + "
             "char, the text layer's model, once called linear: best on CV), neural (BiLSTM, pretrained embeddings)",
             aliases=KIND_ALIASES)
    train.add_argument("--activity-col", default="activity", help="activity column, used when present (default activity)")
    train.add_argument("--cv", type=int, default=0, help="folds of cross-validation before the final fit (default none)")
    add_report(train, "with --cv: write the cross-validation reports here", required=False)
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a model parameter (repeatable)")
    train.set_defaults(handler=train_command)

    predict = commands.add_parser("predict", help="classify posts; adds label, confidence, activity, extraction columns")
    add_model(predict)
    add_input(predict, "table of posts to classify")
    predict.add_argument("--text-col", required=True, help="column holding the post text")
    add_output(predict, "table to write: the input plus label, confidence, activity, extraction columns, error, "
                        "warning")
    predict.set_defaults(handler=predict_command)

    extract = commands.add_parser("extract", help="read price, payment method, quantity, product from any text (no model)")
    add_input(extract, "table of texts (posts, chats, reviews)")
    extract.add_argument("--text-col", required=True, help="column holding the text")
    add_output(extract, "table to write: the input plus price, payment, quantity, product (with spans), error, "
                        "warning")
    extract.set_defaults(handler=extract_command)

    evaluate = commands.add_parser("evaluate", help="score a model on a labelled table; writes metrics.json and plots")
    add_model(evaluate)
    add_data(evaluate, "labelled table the model did not train on")
    evaluate.add_argument("--text-col", required=True, help="column holding the post text")
    evaluate.add_argument("--label-col", required=True, help="column holding the true label")
    evaluate.add_argument("--activity-col", default="activity",
                          help="column holding the true activity, scored when present (default activity)")
    add_report(evaluate, "directory for metrics.json, confusion matrices, report.md")
    evaluate.set_defaults(handler=evaluate_command)

    grid = commands.add_parser("grid", help="the paper's protocol: DF-threshold curve, C × γ grid with k-fold CV, "
                                            "test accuracy of the best pair")
    add_data(grid, "labelled training table")
    grid.add_argument("--text-col", required=True, help="column holding the post text")
    grid.add_argument("--label-col", required=True, help="column holding the label")
    add_report(grid, "directory for grid.csv, grid.png, df_curve.png, metrics.json, report.md")
    grid.add_argument("--test", help="labelled test table; default: hold out --test-size of --data "
                                     "(stratified, near-duplicates kept together)")
    grid.add_argument("--test-size", type=float, default=0.2, help="held-out share when no --test (paper: 200 of 1,000)")
    grid.add_argument("--min-df", type=int, default=16, help="document-frequency threshold (paper: 16)")
    grid.add_argument("--folds", type=int, default=10, help="cross-validation folds (paper: 10)")
    grid.add_argument("--C", type=float_list, default=None, help="comma-separated C values (default 0.1,...,1.0)")
    grid.add_argument("--gamma", type=float_list, default=None, help="comma-separated γ values (default 0.1,...,1.0)")
    grid.set_defaults(handler=grid_command)


def float_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


def train_command(args: argparse.Namespace) -> int:
    from niaga.errors import NiagaError
    from niaga.params import parse_params
    from niaga.social.models import make_model
    from niaga.social.pipeline import train

    if args.report and not args.cv:
        raise NiagaError("--report needs --cv (the report is the cross-validation's)")
    try:
        summary = train(args.data, args.text_col, args.label_col, args.out, kind=args.kind,
                        activity_col=args.activity_col, cv=args.cv, report_dir=args.report, log=say,
                        **parse_params(args.param, valid=list(make_model(args.kind).get_params(deep=False))))
    except (TypeError, ValueError) as exc:  # a bad --param or unusable labels
        raise NiagaError(str(exc)) from exc
    activity = summary.get("activity")
    print(f"trained {args.kind} transaction classifier on {summary['transaction']['training_rows']} posts "
          f"(labels {summary['classes']})"
          + (f" and activity classifier on {activity['training_rows']} posts" if activity else
             f"; no {args.activity_col!r} column, so no activity classifier") + f"; saved to {args.out}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    from niaga.social.pipeline import predict_file

    result = predict_file(args.model, args.input, args.text_col, args.output)
    errors = int((result["label"] == "").sum())
    counts = result.loc[result["label"] != "", "label"].value_counts().to_dict()
    print(f"classified {len(result) - errors} posts {counts}; {errors} not classified (see the error column); "
          f"written to {args.output}")
    return 0


def extract_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from niaga.data.io import read_table, require_columns, with_outputs, write_table
    from niaga.social.extract import extract_frame
    from niaga.text.classify.pipeline import bounded_texts

    frame = read_table(args.input)
    require_columns(frame, [args.text_col], args.input)
    texts, notes = bounded_texts(frame[args.text_col])
    extracted = extract_frame(pd.DataFrame({"text": texts.to_numpy()}), "text").drop(columns="text")
    extracted["warning"] = notes.where(extracted["error"].to_numpy() == "", "").to_numpy()
    result = with_outputs(frame, extracted)
    write_table(result, args.output)
    found = {col: int((result[col].astype("string").fillna("") != "").sum())
             for col in ("price", "payment_method", "quantity", "product")}
    print(f"read {len(result)} texts; found " + ", ".join(f"{col} in {n}" for col, n in found.items())
          + f"; written to {args.output}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from niaga.social.pipeline import evaluate

    metrics = evaluate(args.model, args.data, args.text_col, args.label_col, args.report, activity_col=args.activity_col)
    line = f"transaction: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['f1_macro']:.4f}"
    if "activity" in metrics:
        line += (f"; activity: accuracy {metrics['activity']['accuracy']:.4f}, "
                 f"macro-F1 {metrics['activity']['f1_macro']:.4f}")
    print(line + f"; report in {args.report}")
    return 0


def grid_command(args: argparse.Namespace) -> int:
    from niaga.errors import NiagaError
    from niaga.social.grid import PAPER_GRID, run_grid, split_holdout
    from niaga.text.classify.pipeline import read_labelled

    train = read_labelled(args.data, args.text_col, args.label_col)
    if args.test:
        test = read_labelled(args.test, args.text_col, args.label_col)
        source = {"training data": args.data, "test data": args.test}
    else:
        if not 0 < args.test_size < 1:
            raise NiagaError(f"--test-size must be between 0 and 1, got {args.test_size}")
        train, test = split_holdout(train, args.test_size)
        source = {"data": args.data, "test": f"held out {len(test.texts)} of {len(train.texts) + len(test.texts)} rows "
                                             "(stratified; near-duplicates kept together)"}
    try:
        metrics = run_grid(train.texts, train.labels, test.texts, test.labels, args.report, min_df=args.min_df,
                           C_values=args.C or PAPER_GRID, gamma_values=args.gamma or PAPER_GRID, folds=args.folds,
                           context={**source, "training rows": len(train.texts)})
    except ValueError as exc:  # too few rows for the folds, or no word reaches the threshold
        raise NiagaError(str(exc)) from exc
    print(json.dumps({k: metrics[k] for k in ("best_C", "best_gamma", "cv_accuracy", "test_featureful",
                                              "test_featureless")})
          + f"\ntest accuracy {metrics['test_all']['accuracy']:.4f} (all), "
          + (f"{metrics['test_featureful_only']['accuracy']:.4f} (texts with a feature); "
             if metrics["test_featureful_only"] else "")
          + f"report in {args.report}")
    return 0
