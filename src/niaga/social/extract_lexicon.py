"""The word lists of the extractor (``resources/commerce_extraction.yaml``) and the word tokens it reads.

Every module of the extractor (amounts, roles, payments, items) looks words up here, so that the
language knowledge lives in one YAML file and the rules in code.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from importlib import resources

import yaml

Span = tuple[int, int]
WORD_RE = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# A line or sentence end; "..." is left alone (informal writing uses it as a comma).
CLAUSE_BREAK = re.compile(r"[\n!?;]|(?<!\.)\.(?!\.)\s")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The word lists, loaded once; regexes compiled, lists turned into sets."""
    with resources.files("niaga").joinpath("resources/commerce_extraction.yaml").open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    lex = {key: frozenset(value) if isinstance(value, list) else value for key, value in raw.items()}
    lex["payment_methods"] = {name: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
                              for name, patterns in raw["payment_methods"].items()}
    for key in ("payment_not_followed_by", "payment_not_preceded_by"):
        lex[key] = {name: frozenset(words) for name, words in raw[key].items()}
    lex["cue_kind"] = {cue: kind for kind, cues in raw["amount_kinds"].items() for cue in cues}
    lex["role_marker"] = {marker: role for role, markers in raw["role_markers_before"].items() for marker in markers}
    lex["role_marker_after"] = {marker: role for role, markers in raw["role_markers_after"].items()
                                for marker in markers}
    words = "|".join(sorted(raw["number_words"], key=len, reverse=True))
    # Each number word or digit run is an atomic unit: with "\d+" and "\s*" free to split and regroup, a long
    # run of digits or of space-separated numbers ("101 221 471 56 102 ...") took exponential time.
    lex["number_word_re"] = re.compile(
        rf"(?<![\w.,])(?:(?>(?:{words}|\d+)\s*(?:belas|puluh|ratus)?\s*))+(?:ribu|juta)(?:an)?(?:\s+(?:{words})"
        rf"(?:\s*(?:belas|puluh|ratus))?\s*(?:ribu)?(?:an)?)*(?![\w])"
        rf"|(?<![\w])(?:seribu|sejuta|setengah juta)(?:an)?(?![\w])",
        re.IGNORECASE)
    lex["slang_re"] = re.compile(rf"(?<![\w])(?P<word>{'|'.join(raw['money_slang'])})(?:an)?(?![\w])", re.IGNORECASE)
    return lex


class Tokens:
    """Lower-cased word tokens with their offsets, for looking at the words around a span."""

    def __init__(self, text: str):
        self.text = text
        matches = list(WORD_RE.finditer(text))
        self.words = [m.group(0).lower() for m in matches]
        self.starts = [m.start() for m in matches]
        self.ends = [m.end() for m in matches]

    def before(self, pos: int, n: int) -> list[str]:
        """Up to n words ending before pos, nearest first; stops at a line or sentence break."""
        return [self.words[i] for i in self.indices_before(pos, n)]

    def indices_before(self, pos: int, n: int) -> list[int]:
        """Indices of the words ``before`` returns."""
        out: list[int] = []
        i = self.index_before(pos)
        abbreviations = lexicon()["abbreviations"]
        while i >= 0 and len(out) < n:
            gap_end = pos if not out else self.starts[i + 1]
            if self.words[i] not in abbreviations and CLAUSE_BREAK.search(self.text[self.ends[i]:gap_end]):
                break
            out.append(i)
            i -= 1
        return out

    def after(self, pos: int, n: int) -> list[str]:
        """Up to n words starting at or after pos, nearest first; stops at a line or sentence break."""
        out, i, last = [], bisect.bisect_left(self.starts, pos), pos
        while i < len(self.words) and len(out) < n:
            if CLAUSE_BREAK.search(self.text[last:self.starts[i]]):
                break
            out.append(self.words[i])
            last = self.ends[i]
            i += 1
        return out

    def index_before(self, pos: int) -> int:
        """Index of the last word ending at or before pos (-1 when none)."""
        return bisect.bisect_right(self.ends, pos) - 1


def forms(word: str) -> tuple[str, ...]:
    """The word, and the word without a possessive suffix ("ongkirnya" → "ongkir")."""
    stripped = tuple(word[: -len(s)] for s in lexicon()["possessive_suffixes"]
                     if word.endswith(s) and len(word) - len(s) >= 3)
    return (word, *stripped)


def in_words(word: str, words: frozenset) -> bool:
    """Whether the word, or the word without its possessive suffix, is in the list."""
    return any(form in words for form in forms(word))
