"""The command-line options every capability shares, one meaning each, and the one way to talk on stderr.

- ``--model DIR``: always a model directory to load.
- ``--kind NAME``: the algorithm a ``train`` fits (``--model NAME`` still works for one release, with a note).
- ``--data`` / ``--input``: the table read (each accepts the other's name where a command uses one of them).
- ``--output``: the table written (``--out`` accepted as the same).
- ``--out DIR``: the model (or index) directory a command writes.
- ``--report DIR``: the folder of metrics.json, plots and report.md (``--out`` kept as a deprecated spelling
  where a command used it for the report).

Capabilities' ``cli.py`` modules build their parsers with these helpers, so the help of every capability reads
the same. Only argparse: importing this module costs nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping

#: the dest of ``--model`` when a train command keeps it as the old spelling of ``--kind``; niaga.cli adds
#: ``--trust-pickle`` to every command whose ``--model`` is a directory, i.e. whose dest is "model"
LEGACY_KIND_DEST = "model_as_kind"


def say(message: str) -> None:
    """One line for the user on stderr (progress, notes, warnings): never mixed into a command's output."""
    print(message, file=sys.stderr, flush=True)


def quiet(message: str) -> None:
    """The log of a use case called where nobody reads progress (the API, tests)."""


def note(message: str) -> None:
    """A remark the user may act on, marked as niaga's."""
    say(f"niaga: note: {message}")


def deprecated(old: str, new: str) -> None:
    note(f"{old} is deprecated and will be removed in the next release: use {new}")


class _DeprecatedAlias(argparse.Action):
    """Stores into the canonical dest like the option it stands for, after a deprecation note."""

    def __init__(self, option_strings, dest, canonical: str = "", **kwargs):
        self.canonical = canonical
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        deprecated(f"{option_string} {values if isinstance(values, str) else ' '.join(values)}",
                   f"{self.canonical} {values if isinstance(values, str) else ' '.join(values)}")
        setattr(namespace, self.dest, values)


def add_model(parser: argparse.ArgumentParser, help: str = "model directory", required: bool = True) -> None:
    """``--model DIR``: a model directory to load."""
    parser.add_argument("--model", required=required, metavar="DIR", help=help)


def add_out(parser: argparse.ArgumentParser, help: str = "model directory to write", required: bool = True) -> None:
    """``--out DIR``: the directory a command writes its model (or index) into."""
    parser.add_argument("--out", required=required, metavar="DIR", help=help)


def add_kind(parser: argparse.ArgumentParser, kinds: Iterable[str], default: str | None, help: str,
             aliases: Mapping[str, str] | None = None) -> None:
    """``--kind NAME``: the algorithm to train. ``aliases`` map old names to the kind they now are; the old
    spelling ``--model NAME`` is accepted with a note when NAME is a kind and not an existing directory."""
    kinds = tuple(kinds)
    aliases = dict(aliases or {})

    def kind(value: str) -> str:
        if value in aliases:
            note(f"--kind {value} is now called {aliases[value]}")
            return aliases[value]
        if value not in kinds:
            raise argparse.ArgumentTypeError(f"invalid choice {value!r} (choose from {', '.join(kinds)})")
        return value

    class LegacyModelKind(argparse.Action):
        def __call__(self, parser, namespace, value, option_string=None):
            if (value in kinds or value in aliases) and not os.path.isdir(value):
                deprecated(f"--model {value} (the algorithm)", f"--kind {aliases.get(value, value)}")
                setattr(namespace, "kind", kind(value) if value in aliases else value)
                return
            parser.error(f"--model {value}: a train command takes the algorithm as --kind "
                         f"({', '.join(kinds)}) and writes the model directory named by --out")

    parser.add_argument("--kind", type=kind, default=default, metavar="{" + ",".join(kinds) + "}",
                        help=f"{help} (default {default})" if default else help)
    parser.add_argument("--model", dest=LEGACY_KIND_DEST, action=LegacyModelKind, help=argparse.SUPPRESS)


def add_data(parser: argparse.ArgumentParser, help: str, required: bool = True, nargs=None, **kwargs) -> None:
    """``--data``: the (labelled) table or files a command reads."""
    parser.add_argument("--data", required=required, nargs=nargs, help=help, **kwargs)


def add_input(parser: argparse.ArgumentParser, help: str, required: bool = True) -> None:
    """``--input`` (also ``--data``): the table a command labels or scores."""
    parser.add_argument("--input", "--data", dest="input", required=required, help=help)


def add_output(parser: argparse.ArgumentParser, help: str, required: bool = True) -> None:
    """``--output`` (also ``--out``): the table a command writes."""
    parser.add_argument("--output", "--out", dest="output", required=required, help=help)


def add_report(parser: argparse.ArgumentParser, help: str = "directory for metrics.json, report.md and the plots",
               required: bool = True, legacy_out: bool = False) -> None:
    """``--report DIR``. ``legacy_out``: the command once took the folder as ``--out``, still accepted with a
    note (hidden from the help)."""
    parser.add_argument("--report", required=required and not legacy_out, metavar="DIR", help=help)
    if legacy_out:
        parser.add_argument("--out", dest="report", action=_DeprecatedAlias, canonical="--report",
                            help=argparse.SUPPRESS)
        if required:
            parser.set_defaults(report_required_by=parser)


def check_required(args: argparse.Namespace) -> None:
    """The check argparse cannot make when a required option has a hidden alias (``--report`` or its old
    ``--out``): niaga.cli calls it after parsing."""
    command = getattr(args, "report_required_by", None)
    if command is not None and not getattr(args, "report", None):
        command.error("the following arguments are required: --report")
