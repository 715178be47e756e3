"""``niaga ingest TABLE FILE...``: load files into the warehouse, with validation and quarantine."""

from __future__ import annotations

import argparse

HELP_EXAMPLES = {
    "": "niaga ingest reviews examples/reviews.csv",
}


def register(sub, name: str, help_: str) -> None:
    from niaga.store.schema import TABLES

    parser = sub.add_parser(name, help=help_, description=__doc__.split(":", 1)[1].strip() + " Tables: "
                            + "; ".join(f"{t.name} ({t.description})" for t in TABLES.values()) + ".")
    parser.add_argument("table", choices=list(TABLES), help="the table to load into")
    parser.add_argument("files", nargs="+", metavar="FILE", help="CSV, TSV, Excel, Parquet or JSON-lines files")
    parser.add_argument("--store", help="the warehouse file, or a postgresql:// URL for the operational tables "
                                        "(default: the store setting, runs/niaga.duckdb)")
    parser.add_argument("--pii", choices=("mask", "partial", "pseudonymize", "drop", "off"),
                        help="personal data (names, phones, emails, NIK, cards, accounts, addresses) in personal "
                             "columns and texts: replaced before storing (default: the pii_policy setting, mask)")
    parser.set_defaults(handler=ingest_command, subparser=parser)


def ingest_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from niaga.config import settings
    from niaga.store import Store
    from niaga.store.ingest import ingest
    from niaga.store.database import describe
    from niaga.store.owner import owner

    config = settings()
    path = args.store or config.store
    server = owner(path, config.warehouse)
    if server is not None:  # a server holds the store: it ingests (it reads the files: absolute paths)
        print(f"a server holds {describe(path)}: ingesting through it", flush=True)
        answer = server.call("POST", f"/admin/ingest/{args.table}", {
            "files": [str(Path(f).absolute()) for f in args.files], "pii": args.pii}, timeout=None)
        for line in answer["files"]:
            print(line["summary"])
        stored = sum(f["stored"] for f in answer["files"])
        quarantined = sum(f["quarantined"] for f in answer["files"])
        total, where = answer["rows_in_table"], describe(path)
    else:
        with Store(path) as store:
            results = ingest(store, args.table, args.files, pii_policy=args.pii or config.pii_policy, log=print)
            total, where = store.count(args.table), store.database(args.table).where
        stored = sum(r.stored for r in results)
        quarantined = sum(r.quarantined for r in results)
    print(f"{stored:,} rows stored, {quarantined:,} quarantined (see the quarantine table); {args.table} now holds "
          f"{total:,} rows in {where}")
    return 0
