"""The one entry point: ``niaga <capability> <command>``.

Each capability registers its own subcommands (``register(subparsers)`` in its ``cli`` module). Errors
the user can fix (bad file, unknown column, not a model) print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from niaga import __version__
from niaga.errors import NiagaError

CAPABILITIES = {
    "data": ("niaga.data.cli", "the shared datasets: which are present, row counts"),
    "text": ("niaga.text.cli", "Indonesian text normalization (slang, emoji, URLs, stopwords, stemming)"),
    "reviews": ("niaga.reviews.cli", "review emotion and sentiment: train, predict, evaluate, classify"),
    "fraud": ("niaga.fraud.cli", "fraud detection: train, score, evaluate, replay in real time, review cases"),
    "social": ("niaga.social.cli", "social posts: transaction and activity detection, price / payment extraction"),
    "customers": ("niaga.customers.cli", "customer segments (RFM), promotion and purchase-intent models, offers"),
    "run": ("niaga.main_job", "the main job: train the default review and social-post models, evaluate, classify examples"),
}


def parse_params(pairs: list[str]) -> dict:
    """NAME=VALUE pairs; values are read as JSON when they parse (numbers, lists, true), else as text."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise NiagaError(f"--param {pair!r}: expected NAME=VALUE")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params


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
    sub = parser.add_subparsers(dest="capability", metavar="<capability>")
    for name, (module, help_) in CAPABILITIES.items():
        importlib.import_module(module).register(sub, name, help_)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):  # a capability or command is missing: show what there is
        getattr(args, "subparser", parser).print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except NiagaError as exc:
        print(f"niaga: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("niaga: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
