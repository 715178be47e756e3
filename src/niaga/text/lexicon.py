"""The lexicons the normalizer uses: slang/abbreviation maps and the stopword list.

Sources (all under the data directory's ``text/``): colloquial-indonesian-lexicon, new_kamusalay,
kamus_singkatan and stopwords-id. A small e-commerce supplement ships with niaga
(``resources/slang_ecommerce.csv``) because the public lexicons come from general tweets and miss or
mis-map marketplace words ("brg" is "bareng" there, "barang" in a shop review).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from niaga.config import data_path
from niaga.data.io import read_table, require_columns

# Negations carry sentiment ("tidak bagus"), so stopword removal keeps them unless told otherwise.
NEGATIONS = frozenset({"tidak", "tak", "gak", "ga", "nggak", "enggak", "bukan", "belum", "jangan", "kurang"})


def _clean_map(pairs) -> dict[str, str]:
    out: dict[str, str] = {}
    for slang, formal in pairs:
        if not isinstance(slang, str) or not isinstance(formal, str):
            continue
        slang, formal = slang.strip().lower(), " ".join(formal.strip().lower().split())
        if slang and formal and slang != formal and slang not in out:
            out[slang] = formal
    return out


def builtin_slang() -> dict[str, str]:
    with resources.files("niaga").joinpath("resources/slang_ecommerce.csv").open(encoding="utf-8") as fh:
        return _clean_map((row["slang"], row["formal"]) for row in csv.DictReader(fh))


def colloquial_lexicon(path: Path | None = None) -> dict[str, str]:
    """nasalsabila/kamus-alay: a slang can map to several formal forms; the most frequent wins."""
    path = path or data_path("text", "colloquial_indonesian_lexicon", "colloquial-indonesian-lexicon.csv")
    frame = read_table(path)
    require_columns(frame, ["slang", "formal"], path)
    frame = frame.dropna(subset=["slang", "formal"])
    counts = frame.groupby(["slang", "formal"]).size().reset_index(name="n")
    counts = counts.sort_values(["slang", "n", "formal"], ascending=[True, False, True])
    return _clean_map(counts[["slang", "formal"]].itertuples(index=False))


def kamus_singkatan(path: Path | None = None) -> dict[str, str]:
    path = path or data_path("text", "kamus_singkatan", "kamus_singkatan.csv")
    frame = read_table(path, sep=";", header=None, names=["slang", "formal"], dtype=str)
    return _clean_map(frame.itertuples(index=False))


def new_kamusalay(path: Path | None = None) -> dict[str, str]:
    # The file is not valid UTF-8 (233 Latin-1 bytes), see its README.
    path = path or data_path("text", "new_kamusalay", "new_kamusalay.csv")
    frame = read_table(path, header=None, names=["slang", "formal"], encoding="latin-1", dtype=str)
    return _clean_map(frame.itertuples(index=False))


@lru_cache(maxsize=1)
def slang_map() -> dict[str, str]:
    """All slang maps merged; earlier sources win: niaga's supplement, colloquial, singkatan, kamusalay."""
    merged: dict[str, str] = {}
    for source in (builtin_slang(), colloquial_lexicon(), kamus_singkatan(), new_kamusalay()):
        for slang, formal in source.items():
            merged.setdefault(slang, formal)
    return merged


@lru_cache(maxsize=1)
def stopwords_id() -> frozenset[str]:
    path = data_path("text", "stopwords_id", "stopwords-id.txt")
    with open(path, encoding="utf-8") as fh:
        return frozenset(w.strip().lower() for w in fh if w.strip())


@lru_cache(maxsize=1)
def sastrawi_root_words() -> frozenset[str]:
    """Sastrawi's dictionary of root words: the vocabulary that decides how to squash letters."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return frozenset(w.strip() for w in StemmerFactory().get_words() if w.strip())


def load_stopword_file(path: str | Path) -> frozenset[str]:
    frame = pd.read_csv(path, header=None, names=["word"], dtype=str)
    return frozenset(frame["word"].dropna().str.strip().str.lower())
