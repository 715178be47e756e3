"""``niaga reviews``: train, predict, evaluate and classify review emotion / sentiment."""

from __future__ import annotations

import argparse
import sys

from niaga.cli_options import add_data, add_input, add_kind, add_model, add_out, add_output, add_report, say
from niaga.text.classify import MODEL_KINDS


HELP_EXAMPLES = {
    "train": "niaga reviews train --data examples/reviews_train.csv --text-col 'Customer Review' "
             "--label-col Emotion --out runs/emotion",
    "predict": "niaga reviews predict --model runs/emotion --input examples/reviews.csv --text-col review "
               "--output runs/reviews-labelled.csv",
    "evaluate": "niaga reviews evaluate --model runs/emotion --data examples/reviews_test.csv "
                "--text-col 'Customer Review' --label-col Emotion --report runs/emotion-test",
    "classify": "niaga reviews classify --model runs/emotion \"barangnya bagus bgt, makasih seller\"",
}


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    train = commands.add_parser("train", help="train a classifier on a labelled CSV and save it to a directory")
    add_data(train, "labelled table (CSV, TSV, parquet)")
    train.add_argument("--text-col", required=True, help="column holding the review text")
    train.add_argument("--label-col", required=True, help="column holding the label (emotion, sentiment ...)")
    add_out(train)
    add_kind(train, MODEL_KINDS, "tfidf", "the classifier: tfidf (fast), neural (PyTorch, pretrained embeddings), "
                                          "transformer (Hugging Face)", aliases={"linear": "tfidf"})
    train.add_argument("--cv", type=int, default=None,
                       help="folds of cross-validation before the final fit (default: 5 for tfidf, 0 otherwise)")
    add_report(train, "with --cv: write the cross-validation report to this directory", required=False)
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a model parameter, e.g. --param C=0.5 or --param model_name=/path/to/bert (repeatable)")
    train.set_defaults(handler=train_command)

    predict = commands.add_parser("predict", help="classify a table's text column; adds label, confidence, error")
    add_model(predict)
    add_input(predict, "table of reviews to classify")
    predict.add_argument("--text-col", required=True, help="column holding the review text")
    add_output(predict, "table to write (.csv, .tsv, .parquet, .xlsx, .jsonl): the input plus label, confidence, "
                        "error, warning")
    predict.set_defaults(handler=predict_command)

    evaluate = commands.add_parser("evaluate", help="score a model on a labelled table and write a report")
    add_model(evaluate)
    add_data(evaluate, "labelled table the model did not train on")
    evaluate.add_argument("--text-col", required=True, help="column holding the review text")
    evaluate.add_argument("--label-col", required=True, help="column holding the true label")
    add_report(evaluate, "directory for metrics.json, confusion_matrix.png, report.md")
    evaluate.set_defaults(handler=evaluate_command)

    classify = commands.add_parser("classify", help="classify texts given as arguments (or stdin lines)")
    add_model(classify)
    classify.add_argument("texts", nargs="*", help="texts; none: one per line from stdin")
    classify.set_defaults(handler=classify_command)


def train_command(args: argparse.Namespace) -> int:
    from niaga.params import parse_params
    from niaga.errors import NiagaError
    from niaga.reviews.pipeline import make_model, train

    params = parse_params(args.param, valid=list(make_model(args.kind).get_params(deep=False)))
    try:
        model, metrics = train(args.data, args.text_col, args.label_col, args.out, kind=args.kind, cv=args.cv, report_dir=args.report,
                               log=say, **params)
    except (TypeError, ValueError) as exc:  # a bad --param or unusable labels
        raise NiagaError(str(exc)) from exc
    print(f"trained {args.kind} model on {metrics['training_rows']} rows, labels {list(model.classes_)}; "
          f"saved to {args.out}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    from niaga.reviews.pipeline import predict_file

    result = predict_file(args.model, args.input, args.text_col, args.output)
    bad = int((result["label"] == "").sum())
    print(f"wrote {len(result)} rows to {args.output}" + (f" ({bad} not classified: see the error column)" if bad else ""))
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from niaga.reviews.pipeline import evaluate

    metrics = evaluate(args.model, args.data, args.text_col, args.label_col, args.report)
    print(f"accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['f1_macro']:.4f}  weighted-F1 "
          f"{metrics['f1_weighted']:.4f}  kappa {metrics['cohen_kappa']:.4f}  (n={metrics['n']}); report in {args.report}")
    return 0


def read_texts(texts: list[str]) -> list[str]:
    if texts:
        return texts
    if sys.stdin is None or sys.stdin.isatty():
        return []
    return [line for line in sys.stdin.read().splitlines() if line.strip()]


def classify_command(args: argparse.Namespace) -> int:
    from niaga.errors import NiagaError
    from niaga.modeling import load_model

    texts = read_texts(args.texts)
    if not texts:
        raise NiagaError("no text to classify: give texts as arguments or lines on stdin")
    model = load_model(args.model, task="reviews")
    proba = model.predict_proba(texts)
    for text, row in zip(texts, proba):
        best = row.argmax()
        print(f"{model.classes_[best]:<10} {row[best]:.2f}  {text}")
    return 0
