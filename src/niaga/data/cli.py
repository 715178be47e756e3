"""``niaga data``: what the data directory holds."""

from __future__ import annotations

import argparse

from niaga.config import DATA_ENV, data_dir


HELP_EXAMPLES = {
    "list": "niaga data list",
}


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
    console = Console(width=80)
    console.print(f"data directory: {root if root else f'none (set {DATA_ENV})'}")
    table = Table("dataset (folder under the data directory)", "capability", "present", "rows")
    status = dataset_status(root)
    for row in status:
        rows = f"{row['rows']:,}" if row["rows"] is not None else ("unreadable" if row["error"] else "-")
        table.add_row(row["path"], row["capability"], "yes" if row["present"] else "no", rows)
    console.print(table)
    broken = [row for row in status if row["error"]]
    for row in broken:  # one line each, in full: a table cell would cut the reason short
        console.print(f"{row['dataset']}: cannot be read: {row['error']}", markup=False, highlight=False)
    return 1 if broken else 0
