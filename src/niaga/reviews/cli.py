"""``niaga reviews``: train, predict, evaluate and classify review emotion / sentiment."""

from __future__ import annotations

import argparse
import sys

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
    train.add_argument("--data", required=True, help="labelled table (CSV, TSV, parquet)")
    train.add_argument("--text-col", required=True, help="column holding the review text")
    train.add_argument("--label-col", required=True, help="column holding the label (emotion, sentiment ...)")
    train.add_argument("--out", required=True, help="model directory to write")
    train.add_argument("--model", choices=MODEL_KINDS, default="tfidf",
                       help="tfidf (fast default), neural (PyTorch, pretrained embeddings), transformer (Hugging Face)")
    train.add_argument("--cv", type=int, default=None,
                       help="folds of cross-validation before the final fit (default: 5 for tfidf, 0 otherwise)")
    train.add_argument("--report", help="with --cv: write the cross-validation report to this directory")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a model parameter, e.g. --param C=0.5 or --param model_name=/path/to/bert (repeatable)")
    train.set_defaults(handler=train_command)

    predict = commands.add_parser("predict", help="classify a table's text column; adds label, confidence, error")
    predict.add_argument("--model", required=True, help="model directory")
    predict.add_argument("--input", "--data", dest="input", required=True, help="table of reviews to classify")
    predict.add_argument("--text-col", required=True, help="column holding the review text")
    predict.add_argument("--output", "--out", dest="output", required=True,
                         help="table to write (.csv, .tsv, .parquet, .xlsx, .jsonl): the input plus label, confidence, error")
    predict.set_defaults(handler=predict_command)

    evaluate = commands.add_parser("evaluate", help="score a model on a labelled table and write a report")
    evaluate.add_argument("--model", required=True, help="model directory")
    evaluate.add_argument("--data", required=True, help="labelled table the model did not train on")
    evaluate.add_argument("--text-col", required=True, help="column holding the review text")
    evaluate.add_argument("--label-col", required=True, help="column holding the true label")
    evaluate.add_argument("--report", required=True, help="directory for metrics.json, confusion_matrix.png, report.md")
    evaluate.set_defaults(handler=evaluate_command)

    classify = commands.add_parser("classify", help="classify texts given as arguments (or stdin lines)")
    classify.add_argument("--model", required=True, help="model directory")
    classify.add_argument("texts", nargs="*", help="texts; none: one per line from stdin")
    classify.set_defaults(handler=classify_command)


def train_command(args: argparse.Namespace) -> int:
    from niaga.params import parse_params
    from niaga.errors import NiagaError
    from niaga.reviews.pipeline import make_model, train

    params = parse_params(args.param, valid=list(make_model(args.model).get_params(deep=False)))
    try:
        model, metrics = train(args.data, args.text_col, args.label_col, args.out, kind=args.model, cv=args.cv, report_dir=args.report,
                               log=lambda m: print(m, file=sys.stderr), **params)
    except (TypeError, ValueError) as exc:  # a bad --param or unusable labels
        raise NiagaError(str(exc)) from exc
    print(f"trained {args.model} model on {metrics['training_rows']} rows, labels {list(model.classes_)}; "
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
