"""Reading user tables and writing result tables, with errors that name the file and the column.

One reader for every table a user hands niaga: CSV / TSV (encoding and delimiter found by themselves, or
given), Excel (.xlsx), Parquet and JSON lines, gzip-compressed or not, and ``store:TABLE`` for a table of the
warehouse. One writer whose format follows the
output's extension. A command-line run may set the encoding and delimiter for every table it reads
(``--encoding``, ``--sep``) through ``read_options``.
"""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Mapping

import pandas as pd

from niaga.cli_options import note  # the one way to talk to the user on stderr (re-exported)
from niaga.errors import DataError

#: ``store:TABLE`` reads a table of the warehouse (``niaga ingest``) wherever a file is read
STORE_PREFIX = "store:"
#: prefix → reader of a named table, registered by the layer that owns the tables (niaga.store registers
#: ``store:`` when it is imported): the store reads files through this module, so this module never imports
#: the store, and the arrow runs one way
TABLE_SOURCES: dict[str, Callable[[str], pd.DataFrame]] = {}


def register_table_source(prefix: str, reader: Callable[[str], pd.DataFrame]) -> None:
    TABLE_SOURCES[prefix] = reader
#: delimiters a CSV may use: Indonesian spreadsheets export ";" (the decimal comma takes ",")
DELIMITERS = (",", ";", "\t", "|")
#: encodings tried after UTF-8 (with or without BOM): Windows' Western code page, then latin-1, which
#: decodes any byte, so no character is ever dropped
FALLBACK_ENCODINGS = ("cp1252", "latin-1")
WRITERS = {".csv": "CSV", ".tsv": "TSV", ".parquet": "Parquet", ".xlsx": "Excel", ".jsonl": "JSON lines",
           ".csv.gz": "gzip CSV", ".tsv.gz": "gzip TSV", ".jsonl.gz": "gzip JSON lines"}

_options: dict = {"encoding": None, "sep": None}


@contextmanager
def read_options(encoding: str | None = None, sep: str | None = None):
    """Within the block, every CSV is read with this encoding and delimiter (None: found from the file)."""
    previous = dict(_options)
    _options.update(encoding=encoding, sep={"\\t": "\t", "tab": "\t"}.get(sep, sep))  # "--sep '\t'" as typed
    try:
        yield
    finally:
        _options.update(previous)


def decode(data: bytes, source: str | Path, encoding: str | None = None, log: Callable[[str], None] = note) -> str:
    """Bytes as text: ``encoding`` when given, else UTF-8 (a BOM is dropped), else cp1252 / latin-1 with a note."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise DataError(f"{source}: cannot be read as {encoding} ({exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        for fallback in FALLBACK_ENCODINGS:
            try:
                text = data.decode(fallback)
            except UnicodeDecodeError:
                continue
            log(f"{source}: not UTF-8 (byte {data[exc.start]:#x} at {exc.start}); read as {fallback} "
                "(give --encoding to choose)")
            return text
    raise DataError(f"{source}: cannot be decoded")  # unreachable: latin-1 decodes every byte


def sniff_delimiter(text: str) -> str:
    """The delimiter the header line uses most (",", ";", tab or "|"); "," when it has none of them."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(WRITERS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def read_table(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV / TSV, Excel, Parquet or JSON-lines file (gzip allowed) into a frame.

    CSV: UTF-8 with or without BOM, else cp1252 / latin-1 (with a note), or the encoding given; the delimiter
    is read from the header line (",", ";", tab, "|") unless given. Any failure becomes a DataError that
    names the file, so the CLI can print one line.
    """
    for prefix, reader in TABLE_SOURCES.items():
        if str(path).startswith(prefix):
            return reader(str(path)[len(prefix):])
    if str(path).startswith(STORE_PREFIX):
        raise DataError(f"{path}: warehouse tables are read through niaga.store (import it first; the niaga "
                        "command does so for every store: argument)")
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a file")
    name = path.name.lower().removesuffix(".gz")
    try:
        if name.endswith(".parquet"):
            return pd.read_parquet(path, **kwargs)
        if name.endswith((".jsonl", ".ndjson")):
            return pd.read_json(path, lines=True, **kwargs)
        if name.endswith((".xlsx", ".xlsm")):
            return pd.read_excel(path, **kwargs)
        if name.endswith(".xls"):
            raise DataError(f"{path}: the old Excel format (.xls) is not read; save it as .xlsx or CSV")
        encoding = kwargs.pop("encoding", None) or _options["encoding"]
        text = decode(path.read_bytes() if not path.name.lower().endswith(".gz") else _gunzip(path), path, encoding)
        if "sep" not in kwargs:
            kwargs["sep"] = _options["sep"] or ("\t" if name.endswith(".tsv") else sniff_delimiter(text))
        return pd.read_csv(io.StringIO(text), **kwargs)
    except DataError:
        raise
    except ImportError as exc:  # a format whose reader is not installed
        raise DataError(f"{path}: cannot be read here ({exc})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError, KeyError,
            TypeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: cannot be read as a table ({reason})") from exc


def _gunzip(path: Path) -> bytes:
    import gzip

    with gzip.open(path, "rb") as fh:
        return fh.read()


def require_columns(frame: pd.DataFrame, columns: Iterable[str], source: str | Path) -> None:
    """Raise DataError naming the source and each missing column, and listing what is there."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:20]))
        raise DataError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; columns present: {have}")


def with_outputs(frame: pd.DataFrame, outputs: pd.DataFrame | Mapping, log: Callable[[str], None] = note
                 ) -> pd.DataFrame:
    """Every input column with its values, then the output columns.

    An input column that has an output column's name is kept as ``<name>_input`` (``<name>_input_2`` ...
    when that name is taken too), and ``log`` says so, so no input value is lost or overwritten.
    """
    outputs = pd.DataFrame(outputs, index=frame.index) if isinstance(outputs, Mapping) else outputs
    if len(outputs) != len(frame):
        raise ValueError(f"{len(outputs)} output rows for {len(frame)} input rows")
    taken = {str(c) for c in frame.columns} | {str(c) for c in outputs.columns}
    renames = {}
    for column in frame.columns:
        if column in outputs.columns:
            new, n = f"{column}_input", 2
            while new in taken:
                new, n = f"{column}_input_{n}", n + 1
            taken.add(new)
            renames[column] = new
    if renames:
        log("input column(s) kept under a new name, as niaga writes columns of the same name: "
            + ", ".join(f"{old!r} → {new!r}" for old, new in renames.items()))
    result = frame.rename(columns=renames)
    return pd.concat([result.reset_index(drop=True), outputs.reset_index(drop=True)], axis=1).set_axis(frame.index)


def check_output_path(path: str | Path, create_parent: bool = False) -> Path:
    """The output path, refused with one line when its format is unknown, it is a directory or its folder is
    missing (``create_parent``: make the folder, for files niaga writes into its own directories)."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory; give a file name such as {path / 'output.csv'}")
    if _suffix(path) not in WRITERS:
        raise DataError(f"{path}: unknown output format {path.suffix or '(no extension)'!r}; "
                        f"end the name with one of {', '.join(WRITERS)}")
    if create_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.parent.is_dir():
        raise DataError(f"{path}: the folder {path.parent} does not exist")
    return path


def write_table(frame: pd.DataFrame, path: str | Path, create_parent: bool = False) -> Path:
    """Write a frame in the format its extension names (.csv, .tsv, .parquet, .xlsx, .jsonl; .gz for CSV,
    TSV and JSON lines). Text is UTF-8."""
    path = check_output_path(path, create_parent)
    suffix = _suffix(path)
    try:
        if suffix == ".parquet":
            frame.to_parquet(path, index=False)
        elif suffix == ".xlsx":
            frame.to_excel(path, index=False)
        elif suffix.startswith(".jsonl"):
            frame.to_json(path, orient="records", lines=True, force_ascii=False, date_format="iso")
        else:
            frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, encoding="utf-8",
                         sep="\t" if suffix.startswith(".tsv") else ",")
    except (OSError, ValueError, ImportError) as exc:
        raise DataError(f"{path}: cannot be written ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                        ) from exc
    return path
