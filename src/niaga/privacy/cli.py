"""``niaga privacy``: which columns of a table hold personal data (scan), a copy with it replaced (mask), and
the same for lines of text (text)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP_EXAMPLES = {
    "scan": "niaga privacy scan examples/posts.csv --columns text --output runs/posts-pii.csv",
    "mask": "niaga privacy mask --input examples/posts.csv --columns text --output runs/posts-masked.csv "
            "--policy mask",
    "text": "niaga privacy text \"wa 0812-3456-7890 atau email budi.santoso@gmail.com\" --policy partial",
}
POLICY_HELP = ("mask: [PHONE], [NIK], ... (default); partial: 0812-****-*890; pseudonymize: [PHONE:5f0c6d8a2b9e41c7], "
               "HMAC-SHA256 keyed by $NIAGA_PRIVACY_SECRET, the same on every run so tables still join; drop: removed")
KINDS_HELP = "comma-separated kinds to look for (default all): nik, phone, email, card, bank_account, address"
TABLE_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz", ".xlsx", ".xlsm")


def register(sub, name: str, help_: str) -> None:
    from niaga.privacy.mask import POLICIES

    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    scan = commands.add_parser(
        "scan", help="report, per column, the personal data a table holds (kinds, counts, masked examples)",
        description="Look for personal data (NIK, phone numbers, e-mail, card and bank account numbers, street "
                    "addresses) in every column of a table, or in the columns named, and print per column how many "
                    "values of each kind were found, in how many rows, with examples partially masked. Nothing raw "
                    "is printed or written.")
    scan.add_argument("files", nargs="+", metavar="FILE",
                      help="table(s) to scan: CSV, TSV, Excel, Parquet, JSON lines (gzip allowed)")
    scan.add_argument("--columns", nargs="+", metavar="COL", help="columns to scan (default: every column)")
    scan.add_argument("--kinds", help=KINDS_HELP)
    scan.add_argument("--examples", type=int, default=2, help="masked examples shown per column and kind (default 2)")
    scan.add_argument("--output", "--out", dest="output",
                      help="also write the findings: .json (summary and findings) or a table (.csv, .parquet, ...) "
                           "with file, row (1 = first data row), column, kind, start, end, masked")
    scan.set_defaults(handler=scan_command)

    mask = commands.add_parser(
        "mask", help="write a copy of a table with the personal data in the named columns replaced (every row kept)",
        description="Replace the personal data in the named columns: masked, partially masked, pseudonymized with "
                    "a keyed hash, or dropped (each column its own policy with COL=POLICY). Every row and every "
                    "column is kept; columns not named are copied unchanged, character for character.")
    mask.add_argument("--input", "--data", dest="input", required=True, help="table to read (CSV, TSV, Excel, Parquet, "
                                                                              "JSON lines)")
    mask.add_argument("--columns", nargs="+", required=True, metavar="COL[=POLICY]",
                      help="columns to mask, each optionally with its own policy, e.g. review phone=pseudonymize email=drop")
    mask.add_argument("--output", "--out", dest="output", required=True,
                      help="table to write (.csv, .tsv, .parquet, .xlsx, .jsonl); not the input file")
    mask.add_argument("--policy", choices=POLICIES, default="mask", help=POLICY_HELP)
    mask.add_argument("--kinds", help=KINDS_HELP)
    mask.set_defaults(handler=mask_command)

    text = commands.add_parser("text", help="mask personal data in lines of text (arguments or stdin)")
    text.add_argument("texts", nargs="*", metavar="TEXT", help="texts to mask (default: read lines from stdin)")
    text.add_argument("--policy", choices=POLICIES, default="mask", help=POLICY_HELP)
    text.add_argument("--kinds", help=KINDS_HELP)
    text.add_argument("--show", action="store_true", help="after each line, list what was found (kind, span, masked)")
    text.set_defaults(handler=text_command)


def _kinds(value: str | None) -> list[str] | None:
    from niaga.privacy.detect import KINDS
    from niaga.privacy.mask import PrivacyError

    if not value:
        return None
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise PrivacyError(f"--kinds {','.join(unknown)}: unknown; known kinds: {', '.join(KINDS)}")
    return kinds


def read_text_table(path: str):
    """A table with text cells read as written (no "0812..." turned into the number 812...; no "NA" into a gap)."""
    from niaga.data.io import read_table

    name = Path(path).name.lower()
    return read_table(path, dtype=str, keep_default_na=False) if name.endswith(TABLE_SUFFIXES) else read_table(path)


def _table_text(summary) -> str:
    headers = ["column", "kind", "found", "rows", "share", "examples (masked)"]
    rows = [[r.column, r.kind or "-", str(r.found), str(r.rows), f"{r.share_of_rows:.1%}", r.examples]
            for r in summary.itertuples()]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    widths[-1] = len(headers[-1])
    line = lambda cells: "  ".join(c.ljust(w) if i in (0, 1, 5) else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def scan_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from niaga.data.io import check_output_path, write_table
    from niaga.errors import DataError
    from niaga.privacy.frame import find_in_frame, scan_frame

    kinds = _kinds(args.kinds)
    if args.examples < 0:
        raise DataError(f"--examples {args.examples}: give 0 or more")
    as_json = bool(args.output) and args.output.lower().endswith(".json")
    if args.output and not as_json:
        check_output_path(args.output)
    elif as_json and not Path(args.output).resolve().parent.is_dir():
        raise DataError(f"{args.output}: the folder {Path(args.output).parent} does not exist")
    reports, tables = [], []
    total_found, total_columns = 0, 0
    for path in args.files:
        frame = read_text_table(path)
        columns = args.columns if args.columns is not None else list(frame.columns)
        findings = find_in_frame(frame, columns, kinds, source=path)
        summary = scan_frame(frame, columns, kinds, examples=args.examples, source=path)
        with_pii = summary.loc[summary["found"] > 0, "column"].nunique()
        total_found += int(summary["found"].sum())
        total_columns += with_pii
        print(f"{path}: {len(frame):,} rows, {len(columns)} column(s) scanned, personal data in {with_pii}")
        print(_table_text(summary))
        print()
        findings.insert(0, "file", str(path))
        findings["row"] = findings["row"] + 1
        tables.append(findings)
        reports.append({"file": str(path), "rows": len(frame), "columns_scanned": [str(c) for c in columns],
                        "summary": summary.to_dict(orient="records"),
                        "findings": findings.drop(columns="file").to_dict(orient="records")})
    print(f"{total_found:,} value(s) of personal data in {total_columns} column(s) of {len(args.files)} file(s)"
          + (f"; findings written to {args.output}" if args.output else ""))
    if as_json:
        try:
            Path(args.output).write_text(json.dumps({"files": reports}, indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
        except OSError as exc:
            raise DataError(f"{args.output}: cannot be written ({exc.strerror})") from exc
    elif args.output:
        write_table(pd.concat(tables, ignore_index=True), args.output)
    return 0


def _column_policies(specs: list[str], default: str) -> dict[str, str]:
    from niaga.privacy.mask import check_policy

    chosen = {}
    for spec in specs:
        column, sep, policy = spec.rpartition("=") if "=" in spec else (spec, "", "")
        chosen[column] = check_policy(policy) if sep else default
    return chosen


def mask_command(args: argparse.Namespace) -> int:
    from niaga.data.io import check_output_path, write_table
    from niaga.errors import DataError
    from niaga.privacy.frame import mask_frame
    from niaga.privacy.mask import load_secret

    kinds = _kinds(args.kinds)
    policies = _column_policies(args.columns, args.policy)
    out = check_output_path(args.output)
    if Path(args.input).exists() and out.resolve() == Path(args.input).resolve():
        raise DataError(f"{args.output}: is the input file; write the masked copy to a new file")
    key = load_secret() if "pseudonymize" in policies.values() else None  # refused before any reading
    frame = read_text_table(args.input)
    masked = mask_frame(frame, policies, secret=key, kinds=kinds, source=args.input)
    write_table(masked, out)
    replaced = masked.attrs.get("pii_replaced", {})
    parts = [f"{column} ({policies[column]}): " + (", ".join(f"{n} {kind}" for kind, n in counts.items()) or "none")
             for column, counts in replaced.items()]
    print(f"wrote {len(masked):,} rows to {args.output}; replaced " + "; ".join(parts))
    return 0


def text_command(args: argparse.Namespace) -> int:
    from niaga.data.io import decode
    from niaga.privacy.detect import find_pii
    from niaga.privacy.mask import apply, check_policy, load_secret, partial

    kinds = _kinds(args.kinds)
    check_policy(args.policy)
    key = load_secret() if args.policy == "pseudonymize" else None
    lines = args.texts or decode(sys.stdin.buffer.read(), "standard input", args.__dict__.get("encoding")).splitlines()
    for line in lines:
        findings = find_pii(line, kinds)
        print(apply(line, findings, args.policy, key))
        if args.show:
            for f in findings:
                print(f"  {f.kind:<12} {f.start:>4}-{f.end:<4} {partial(f)}")
    return 0
