"""Shipping addresses reduced to one key, so that the forms people type join: "Jl. Mawar No. 5, Bandung",
"jalan mawar no5 bandung", "JL MAWAR NO.5 RT 02/RW 03, BANDUNG" and "Jln. Mawar 5" all give "jalan mawar 5 ..."."""

from __future__ import annotations

import re

import pandas as pd

#: abbreviations of Indonesian address words → the full word
WORDS = {"jl": "jalan", "jln": "jalan", "jalan": "jalan", "gg": "gang", "kel": "kelurahan", "kec": "kecamatan",
         "kab": "kabupaten", "kota": "", "kt": "", "komp": "komplek", "kompleks": "komplek", "perum": "perumahan",
         "blk": "blok", "no": "", "nomor": "", "nmr": "", "number": ""}
RT_RW = re.compile(r"\b(rt|rw)\s*\.?\s*0*\d+(\s*/\s*(rw)?\s*\.?\s*0*\d+)?")
NON_WORD = re.compile(r"[^a-z0-9]+")
LETTER_DIGIT = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


def normalize_address(text) -> str | None:
    """The address as a comparison key: lower case, no punctuation, RT/RW and "No." dropped, abbreviations
    written out, numbers without leading zeros. ``None`` for an empty address."""
    if text is None or (isinstance(text, float) and text != text):
        return None
    value = RT_RW.sub(" ", str(text).lower())
    value = LETTER_DIGIT.sub(" ", NON_WORD.sub(" ", value))
    words = []
    for word in value.split():
        word = WORDS.get(word, word)
        if word.isdigit():
            word = str(int(word))
        if word:
            words.append(word)
    return " ".join(words) or None


def normalize_addresses(values: pd.Series) -> pd.Series:
    """``normalize_address`` over a column, each distinct text normalized once."""
    unique = pd.unique(values.dropna())
    mapping = {value: normalize_address(value) for value in unique}
    return values.map(mapping)
