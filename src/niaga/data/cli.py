"""``niaga data``: what the data directory holds."""

from __future__ import annotations

import argparse

from niaga.config import DATA_ENV, data_dir


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    commands = parser.add_subparsers(dest="command", metavar="<command>")
    parser.set_defaults(subparser=parser)
    listing = commands.add_parser("list", help="list the known datasets, whether each is present, and its rows")
    listing.set_defaults(handler=list_datasets)


def list_datasets(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from niaga.data.registry import dataset_status

    root = data_dir()
    console = Console()
    console.print(f"data directory: {root if root else f'none (set {DATA_ENV})'}")
    table = Table("dataset", "capability", "present", "rows", "path")
    for row in dataset_status(root):
        rows = f"{row['rows']:,}" if row["rows"] is not None else (f"error: {row['error']}" if row["error"] else "-")
        table.add_row(row["dataset"], row["capability"], "yes" if row["present"] else "no", rows, row["path"])
    console.print(table)
    return 0
