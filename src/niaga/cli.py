"""The one entry point: ``niaga <capability> <command>``.

Each capability registers its own subcommands (``register(subparsers)`` in its ``cli`` module). Errors
the user can fix (bad file, unknown column, not a model) print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import os
import sys

# One BLAS thread unless the user says otherwise (read when numpy loads, so before any import of it). niaga's
# BLAS calls are small (logistic regressions on survey tables, batches of scores); on 2 busy cores OpenBLAS's
# spinning worker threads made them about 3x slower (promo cv: 26 s of CPU against 8 s). PyTorch, LightGBM and
# implicit keep their own thread pools.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from niaga import __version__  # noqa: E402
from niaga.cli_options import check_required  # noqa: E402
from niaga.errors import NiagaError  # noqa: E402

CAPABILITIES = {
    "data": ("niaga.data.cli", "the shared datasets: which are present, row counts"),
    "text": ("niaga.text.cli", "Indonesian text normalization (slang, emoji, URLs, stopwords, stemming)"),
    "reviews": ("niaga.reviews.cli", "review emotion and sentiment: train, predict, evaluate, classify"),
    "fraud": ("niaga.fraud.cli", "fraud detection: train, score, evaluate, replay in real time, review cases"),
    "abuse": ("niaga.abuse.cli", "marketplace abuse: takeover, promo rings, refunds, brushing, fake sellers"),
    "social": ("niaga.social.cli", "social posts: transaction and activity detection, price / payment extraction"),
    "customers": ("niaga.customers.cli", "customer segments (RFM), promotion and purchase-intent models, offers"),
    "vision": ("niaga.vision.cli", "product recognition (master > sub > article, gender) and visual search"),
    "privacy": ("niaga.privacy.cli", "personal data (NIK, phone, e-mail, card, bank account, address): scan, mask"),
    "ingest": ("niaga.store.cli", "load CSV / Excel / Parquet / JSON-lines files into the warehouse, with validation"),
    "recommend": ("niaga.recommend.cli", "recommendations: for-you, bought together, cross-sell, cold start"),
    "experiment": ("niaga.analytics.experiment.cli", "A/B tests: users per arm, sticky assignment, lift with SRM, CUPED, sequential p-values"),
    "forecast": ("niaga.analytics.forecast.cli", "demand forecasts, backtests, reorder points, price what-ifs, churn"),
    "serve": ("niaga.serve.cli", "run the API and the dashboard; manage API keys and the models that serve"),
    "stream": ("niaga.stream.cli", "fraud decisions on a Redis / Kafka stream: publish files, run the consumer"),
    "run": ("niaga.main_job", "the running system: fill the warehouse, train the default models (reviews, social, "
                              "fraud, segments, promotion, recommendations), serve the API and dashboard"),
}


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="niaga",
        description="niaga: intelligence for Indonesian e-commerce.",
        epilog="capabilities:\n" + "\n".join(f"  {name:<9} {help_}" for name, (_, help_) in CAPABILITIES.items())
        + "\n\nRun 'niaga <capability> --help' for its commands.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"niaga {__version__}")
    # `niaga --trust-pickle CAPABILITY ...` (as the README writes it) as well as after a command's --model;
    # its own dest, so that the command's default does not overwrite it
    parser.add_argument("--trust-pickle", dest="trust_pickle_everywhere", action="store_true",
                        help="load models an older niaga saved as pickles (a pickle can run code: only models you "
                             "made); also NIAGA_TRUST_PICKLE=1")
    sub = parser.add_subparsers(dest="capability", metavar="<capability>")
    for name, (module, help_) in CAPABILITIES.items():
        importlib.import_module(module).register(sub, name, help_)
    # `niaga data sample` reads every capability's example data, so it lives in a face, not in niaga.data
    samples = importlib.import_module("niaga.samples")
    samples.register(subcommands(sub.choices["data"]))
    examples = {f"niaga data {key}": text for key, text in samples.HELP_EXAMPLES.items()}
    for name, (module, _) in CAPABILITIES.items():
        for key, text in getattr(importlib.import_module(module), "HELP_EXAMPLES", {}).items():
            examples[" ".join(filter(None, ("niaga", name, key)))] = text
    describe_commands(parser)
    for command in leaf_parsers(parser):
        add_common_options(command)
        if command.prog in examples:
            command.epilog = f"example:\n  {examples[command.prog]}"
            command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def describe_commands(parser: argparse.ArgumentParser) -> None:
    """A command without a description of its own gets the one-line help its parent lists it with."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                child.description = child.description or helps.get(name)
                describe_commands(child)


def subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def leaf_parsers(parser: argparse.ArgumentParser):
    """Every parser that runs a command (it has a handler), however deep."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                yield from leaf_parsers(child)
    if parser.get_default("handler"):
        yield parser


def add_common_options(command: argparse.ArgumentParser) -> None:
    """Options every command that reads tables or loads models takes, spelled the same everywhere."""
    options = command._option_string_actions
    reads_tables = "--data" in options or "--input" in options or any(
        a.dest == "files" for a in command._actions)
    if reads_tables:
        group = command.add_argument_group("reading tables (CSV, TSV, Excel, Parquet, JSON lines)")
        group.add_argument("--encoding", help="text encoding of CSV input (default: UTF-8, with or without BOM; "
                                              "else cp1252 / latin-1 with a note)")
        group.add_argument("--sep", help="CSV delimiter (default: read from the header line: , ; tab |)")
    model = options.get("--model")
    if model is not None and model.dest == "model":  # a model directory to load (not train's old --model KIND)
        command.add_argument("--trust-pickle", action="store_true",
                             help="load a model an older niaga saved as a pickle (a pickle can run code: only "
                                  "models you made); also NIAGA_TRUST_PICKLE=1")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_required(args)
    if getattr(args, "trust_pickle", False) or args.trust_pickle_everywhere:
        from niaga.modeling import TRUST_PICKLE_ENV

        os.environ[TRUST_PICKLE_ENV] = "1"
    if not getattr(args, "handler", None):  # a capability or command is missing: show what there is
        getattr(args, "subparser", parser).print_help()
        return 2
    from niaga.data.io import read_options

    if any("store:" in word for word in (argv if argv is not None else sys.argv[1:])):
        import niaga.store  # noqa: F401 - registers the reader of `store:TABLE` (data.io never imports the store)
    try:
        with read_options(getattr(args, "encoding", None), getattr(args, "sep", None)):
            return int(args.handler(args) or 0)
    except NiagaError as exc:
        from niaga.privacy import safe_message

        print(f"niaga: error: {safe_message(exc)}", file=sys.stderr)  # a bad cell's phone number stays private
        return 2
    except KeyboardInterrupt:
        print("niaga: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (head, less) closed the pipe: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
