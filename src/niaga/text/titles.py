"""Near-duplicate listing titles: the same product listed again by another seller under a reworded title.

Sellers copy a listing's title and dress it up: promo words ("PROMO", "COD", "READY STOCK", "ORIGINAL",
"termurah"), emoji, bracketed tags, shouting case and punctuation, abbreviations ("yg", "utk"), words moved
or dropped, typos. Numbers and model codes are what tells two *different* products apart ("iPhone 11" vs
"iPhone 12", "500ml" vs "1L"), so they are kept and compared on their own.

1. ``normalize_titles``: lower case, seller noise and bracketed tags removed, number + unit joined
   ("500 ml" -> "500ml"), then niaga's informal-Indonesian ``TextNormalizer`` (emoji, punctuation, repeated
   letters, slang and abbreviations) with digits kept.
2. Character 3-5-grams within words (TF-IDF, ``char_wb``): robust to typos and, since no n-gram crosses a
   word boundary, to word order.
3. Candidate pairs: each title's nearest neighbours by cosine (scikit-learn ``NearestNeighbors``), never
   all n^2 pairs.
4. Pair score: the cosine, multiplied by ``code_penalty`` when both titles carry numbers or model codes and
   the two sets differ (a different variant, not a copy).

``describe_title_difference`` says what a seller changed ("promo words removed; word order").
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

# Seller noise: words and phrases that say how a listing is sold, not what the product is. Longer phrases
# first so "ready stock" goes before "ready". Product attributes ("import", "garansi resmi") are not noise.
SELLER_NOISE = (
    "100% original", "100% ori", "100 % original", "100 % ori", "ready stock", "ready stok", "readystock",
    "siap kirim", "gratis ongkir", "free ongkir", "bisa cod", "best seller", "bestseller", "hot sale",
    "flash sale", "big sale", "super sale", "mega sale", "murah meriah", "harga grosir", "kualitas terbaik",
    "limited stock", "stok terbatas", "new arrival", "promo", "diskon", "discount", "sale", "cod", "original",
    "ori", "asli", "termurah", "murah", "terlaris", "terbaik", "ready", "grosir", "hemat", "hot", "new", "baru",
    "jual", "limited", "bergaransi", "dijamin",
)
NOISE_RE = re.compile(r"(?<![\w%])(?:" + "|".join(re.escape(w) for w in SELLER_NOISE) + r")(?![\w%])")
BRACKET_RE = re.compile(r"[\[\(\{【〔「<]([^\]\)\}】〕」>]{0,60})[\]\)\}】〕」>]")
# a number followed by its unit: spacing varies between sellers ("500 ml", "500ml")
UNIT_RE = re.compile(r"(\d)\s+(ml|l|ltr|liter|gb|mb|tb|kg|gr|gram|g|mm|cm|m|meter|inch|inci|in|w|watt|v|volt|"
                     r"mah|pk|pcs|pc|hz|khz|db|ohm)\b")
CODE_RE = re.compile(r"[a-z]*\d+(?:[.,/:]\d+)*[a-z0-9-]*")
WORD_RE = re.compile(r"[^\W_]+")


def strip_seller_noise(title: str) -> tuple[str, list[str]]:
    """(the lower-cased title without seller noise, the noise words found). A bracketed tag holding only noise
    goes whole; other brackets keep their content (a "(500ml)" is the product's)."""
    text = str(title).lower()
    found: list[str] = []

    def bracket(match: re.Match) -> str:
        inner = match.group(1)
        if not NOISE_RE.sub(" ", inner).strip(" -_/|,.!*+"):  # only noise inside: the tag goes
            found.extend(m.strip() for m in NOISE_RE.findall(inner))
            return " "
        return f" {inner} "

    text = BRACKET_RE.sub(bracket, text)
    found.extend(m.strip() for m in NOISE_RE.findall(text))
    text = NOISE_RE.sub(" ", text)
    return UNIT_RE.sub(r"\1\2", text), found


def title_codes(text: str) -> frozenset[str]:
    """The numbers and model codes of a noise-free title ("iphone 11 128gb" -> {"11", "128gb"}), decimal
    commas read as points."""
    return frozenset(c.replace(",", ".").strip("-") for c in CODE_RE.findall(text))


def codes_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Both titles name numbers or codes and the sets differ: a different variant ("nothing ear 1 (1)" vs
    "nothing ear 2 (1)"). A title without any number may be the same listing, so it does not conflict."""
    return bool(a) and bool(b) and a != b


def normalize_titles(titles: Sequence[str], normalizer=None) -> tuple[list[str], list[frozenset[str]], list[list[str]]]:
    """(normalized titles, their codes, the noise words each had). ``normalizer``: a fitted ``TextNormalizer``
    (default: digits kept, everything else on)."""
    from niaga.text.normalize import TextNormalizer

    normalizer = normalizer or TextNormalizer(clean_digits=False).fit()
    stripped = [strip_seller_noise("" if t is None or (isinstance(t, float) and np.isnan(t)) else t)
                for t in titles]
    texts = [s for s, _ in stripped]
    normalized = [" ".join(t.split()) for t in normalizer.transform(texts)] if texts else []
    return normalized, [title_codes(t) for t in texts], [noise for _, noise in stripped]


class TitleMatcher(BaseEstimator):
    """Near-duplicate titles among a batch of listings.

    ``fit(titles)`` normalizes the titles and builds their character n-gram TF-IDF vectors; ``pairs()`` gives
    each title's ``neighbours`` nearest others with their score; ``score(left, right)`` scores any pairs.
    Learned state: ``normalized_``, ``codes_``, ``noise_``, ``matrix_`` (rows L2-normalized).
    """

    def __init__(self, ngram_range: tuple[int, int] = (3, 5), neighbours: int = 10, code_penalty: float = 0.5):
        self.ngram_range = ngram_range
        self.neighbours = neighbours
        self.code_penalty = code_penalty

    def fit(self, titles: Sequence[str], y=None) -> "TitleMatcher":
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.titles_ = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in titles]
        self.normalized_, self.codes_, self.noise_ = normalize_titles(self.titles_)
        if any(self.normalized_):
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.ngram_range), sublinear_tf=True,
                                         dtype=np.float32)
            self.matrix_ = vectorizer.fit_transform(self.normalized_).tocsr()
        else:  # no title has any text: every score is 0
            from scipy.sparse import csr_matrix

            self.matrix_ = csr_matrix((len(self.titles_), 1), dtype=np.float32)
        return self

    def cosine(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Plain cosine of the pairs' n-gram vectors."""
        left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
        if len(left) == 0:
            return np.zeros(0)
        return np.asarray(self.matrix_[left].multiply(self.matrix_[right]).sum(axis=1)).ravel().clip(0, 1)

    def conflicts(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return np.array([codes_conflict(self.codes_[a], self.codes_[b]) for a, b in zip(left, right)], dtype=bool)

    def score(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """The pair score: cosine, times ``code_penalty`` where the numbers or model codes conflict."""
        cosine = self.cosine(left, right)
        return np.where(self.conflicts(left, right), cosine * self.code_penalty, cosine)

    def neighbour_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(left, right) with left < right: every pair among either title's ``neighbours`` nearest (cosine)."""
        from sklearn.neighbors import NearestNeighbors

        n = self.matrix_.shape[0]
        k = min(self.neighbours, n - 1)
        has_text = np.flatnonzero(self.matrix_.getnnz(axis=1) > 0)  # an empty title has no neighbours
        if k < 1 or len(has_text) < 2:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        k = min(k, len(has_text) - 1)
        index = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(self.matrix_[has_text])
        _, rows = index.kneighbors(self.matrix_[has_text])
        left = np.repeat(has_text, k + 1)
        right = has_text[rows.ravel()]
        pairs = np.unique(np.sort(np.stack([left, right], axis=1), axis=1), axis=0)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        return pairs[:, 0], pairs[:, 1]

    def pairs(self) -> pd.DataFrame:
        """The candidate pairs (left < right) with ``title_cosine`` and ``title_similarity`` (the score)."""
        left, right = self.neighbour_pairs()
        frame = pd.DataFrame({"left": left, "right": right})
        frame["title_cosine"] = self.cosine(left, right)
        frame["title_similarity"] = self.score(left, right)
        return frame

    def differences(self, left: np.ndarray, right: np.ndarray) -> list[str]:
        return [describe_title_difference(self.titles_[a], self.titles_[b], self.normalized_[a], self.normalized_[b],
                                          self.noise_[a], self.noise_[b], self.codes_[a], self.codes_[b])
                for a, b in zip(left, right)]


def describe_title_difference(a: str, b: str, normal_a: str, normal_b: str, noise_a: Sequence[str] = (),
                              noise_b: Sequence[str] = (), codes_a: frozenset = frozenset(),
                              codes_b: frozenset = frozenset()) -> str:
    """What a seller changed between two titles, e.g. 'title: promo words removed; word order'."""
    if a == b:
        return "title: identical"
    notes = []
    if a.lower() == b.lower() or WORD_RE.findall(a.lower()) == WORD_RE.findall(b.lower()):
        return "title: case or punctuation"
    if sorted(noise_a) != sorted(noise_b):
        notes.append("promo words " + ("changed" if noise_a and noise_b else "removed" if noise_a else "added"))
    words_a, words_b = normal_a.split(), normal_b.split()
    if codes_conflict(codes_a, codes_b):
        notes.append("numbers differ (" + ", ".join(sorted(codes_a ^ codes_b)[:4]) + ")")
        # the numbers are said; the words compare without them
        words_a = [w for w in words_a if not any(ch.isdigit() for ch in w)]
        words_b = [w for w in words_b if not any(ch.isdigit() for ch in w)]
    raw_a = WORD_RE.findall(strip_seller_noise(a)[0])
    raw_b = WORD_RE.findall(strip_seller_noise(b)[0])
    if words_a == words_b:
        if raw_a != raw_b and not notes:
            notes.append("abbreviations or spelling normalized")
    elif sorted(words_a) == sorted(words_b):
        notes.append("word order")
    else:
        set_a, set_b = set(words_a), set(words_b)
        # decided on the normalized words, shown as the seller wrote them (slang maps "z" to "saja")
        gone, new = [w for w in raw_a if w not in set(raw_b)], [w for w in raw_b if w not in set(raw_a)]
        if not gone and not new:
            gone, new = [w for w in words_a if w not in set_b], [w for w in words_b if w not in set_a]
        if set_a < set_b or set_b < set_a:
            notes.append(("words dropped (" + " ".join(gone[:3]) if gone else "words added (" + " ".join(new[:3])) + ")")
        elif len(gone) == len(new) == 1 and len(words_a) == len(words_b):
            notes.append(f"spelling ({gone[0]} / {new[0]})" + ("; word order" if [w for w in words_a if w in set_b]
                                                                 != [w for w in words_b if w in set_a] else ""))
        else:
            notes.append("words changed (" + " ".join([f"-{w}" for w in gone[:3]] + [f"+{w}" for w in new[:3]]) + ")")
    if not notes:
        notes.append("case or punctuation")
    return "title: " + "; ".join(notes)
