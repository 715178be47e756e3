"""``niaga text normalize``: normalize lines of text or a column of a table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

STEPS = ("casefold", "urls", "mentions", "hashtags", "html", "digits", "punctuation", "squash", "reduplication", "slang")
STEP_PARAMS = {"casefold": "casefold", "urls": "clean_urls", "mentions": "clean_mentions", "hashtags": "clean_hashtags",
               "html": "clean_html", "digits": "clean_digits", "punctuation": "clean_punctuation",
               "squash": "squash_repeats", "reduplication": "reduplication", "slang": "normalize_slang"}
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl", ".xlsx", ".csv.gz", ".tsv.gz", ".jsonl.gz")


HELP_EXAMPLES = {
    "normalize": "echo \"Barang2nya bagusss bgt 😍\" | niaga text normalize --emoji word --stem",
}


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")
    norm = commands.add_parser(
        "normalize", help="normalize text lines (stdin or a .txt file) or a table column (CSV/TSV/parquet)",
        description="Normalize informal Indonesian text. Steps, in order: casefold, cleaning (urls, mentions, "
                    "hashtags, html, emoji, digits, punctuation), tokenization, squash, reduplication, slang, "
                    "stopwords, stemming. Stopwords and stemming are off unless asked for.")
    norm.add_argument("--input", help="a text file (one text per line) or a table; default: stdin lines")
    norm.add_argument("--text-col", help="the text column when the input is a table")
    norm.add_argument("--output", help="where to write: a table gets a 'normalized' column; default: stdout lines")
    norm.add_argument("--skip", action="append", default=[], choices=STEPS, metavar="STEP",
                      help=f"switch a step off (repeatable): {', '.join(STEPS)}")
    norm.add_argument("--emoji", choices=("drop", "word", "keep"), default="drop",
                      help="drop emoji, map sentiment-bearing ones to a word, or keep them")
    norm.add_argument("--stopwords", action="store_true", help="remove stopwords-id words (negations are kept)")
    norm.add_argument("--drop-negations", action="store_true", help="with --stopwords, remove negations too")
    norm.add_argument("--stem", action="store_true", help="stem with Sastrawi's ECS stemmer")
    norm.set_defaults(handler=normalize)


def normalize(args: argparse.Namespace) -> int:
    from niaga.data.io import decode, read_table, require_columns, with_outputs, write_table
    from niaga.errors import DataError
    from niaga.text import TextNormalizer
    from tqdm.auto import tqdm

    from niaga.text.classify.pipeline import bounded_texts, text_errors

    params = {STEP_PARAMS[s]: False for s in args.skip}
    normalizer = TextNormalizer(emoji=args.emoji, remove_stopwords=args.stopwords,
                                keep_negations=not args.drop_negations, stem=args.stem, **params).fit()
    is_table = args.input is not None and args.input.lower().endswith(TABLE_SUFFIXES)
    if is_table:
        if not args.text_col:
            raise DataError(f"{args.input}: a table needs --text-col to name the text column")
        frame = read_table(args.input)
        require_columns(frame, [args.text_col], args.input)
        errors = text_errors(frame[args.text_col])
        texts, notes = bounded_texts(frame[args.text_col])
        normalized = normalizer.transform(tqdm(texts.where(errors == "", None).tolist(), desc="normalizing",
                                               unit="text", disable=len(texts) < 50_000))
        frame = with_outputs(frame, {"normalized": normalized, "error": errors.to_numpy(),
                                     "warning": notes.where(errors == "", "").to_numpy()})
        if args.output:
            write_table(frame, args.output)
            print(f"wrote {len(frame)} rows to {args.output} ({int((errors != '').sum())} with an error)",
                  file=sys.stderr)
        else:
            frame.to_csv(sys.stdout, index=False)
        return 0
    if args.input:
        path = Path(args.input)
        if not path.is_file():
            raise DataError(f"{path}: file not found")
        lines = decode(path.read_bytes(), path, args.encoding).splitlines()
    else:  # bytes, so a latin-1 pipe keeps its "é" instead of losing it to a UTF-8 decode
        lines = decode(sys.stdin.buffer.read(), "standard input", args.encoding).splitlines()
    result = "\n".join(normalizer.transform(lines))
    if args.output:
        Path(args.output).write_text(result + "\n", encoding="utf-8")
    else:
        print(result)
    return 0
