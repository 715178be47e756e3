"""Normalization of informal Indonesian text, in the order the seed papers use.

1. case folding          5. squashing repeated letters ("bagusss" -> "bagus")
2. cleaning              6. reduplication ("barang2" -> "barang-barang")
   (URLs, @mentions,     7. slang / abbreviation normalization (lexicons)
   #hashtags, HTML,      8. stopword removal (negations kept by default)
   emoji, digits,        9. stemming (Sastrawi's ECS stemmer)
   punctuation)
3-4. tokenization on whitespace

Why it is fast: every step after tokenization is a pure function of one token, so the whole
token-level chain (squash, reduplication, slang, stopwords, stemming) is computed once per distinct
token and memoized; the character-level cleaning runs each regex once over a whole batch joined by
newlines instead of once per text. Output is identical to running the steps text by text.
"""

from __future__ import annotations

import html
import re
from typing import Iterable, Sequence

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from niaga.modeling import CompactState
from niaga.text import lexicon

URL_RE = re.compile(r"\b(?:https?|ftp|file)://\S+|\bwww\.\S+", re.IGNORECASE)
MENTION_RE = re.compile(r"@\w+")
HASHTAG_RE = re.compile(r"#\w+")
HTML_TAG_RE = re.compile(r"<[^<>\n]{1,200}>")
HTML_ENTITY_RE = re.compile(r"&(?:#\d{1,6}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,30});", re.IGNORECASE)
# Emoji code points (pictographs, dingbats, symbols, flags) with their joiners and modifiers.
EMOJI_RE = re.compile(
    "(?:[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\u3297\u3299\u00A9\u00AE\u203C\u2049"
    "\u2122\u2139\u2194-\u21AA\u24C2\u25AA-\u25FE\u2934\u2935\u3030\u303D]"
    "[\uFE0E\uFE0F\u200D\U0001F3FB-\U0001F3FF\u20E3]*)+"
)
# Digits go, except a "2" right after a letter, which marks reduplication ("barang2").
DIGITS_KEEP_REDUP_RE = re.compile(r"(?<![^\W\d_])\d+|\d{2,}|[013-9]|(?<=\d)2")
DIGITS_RE = re.compile(r"\d+")
PUNCT_RE = re.compile(r"[^\w\s-]|_")
LOOSE_HYPHEN_RE = re.compile(r"(?<!\w)-+|-+(?!\w)")
REPEAT_RE = re.compile(r"([^\W\d_])\1{2,}")
REDUP_RE = re.compile(r"^([^\W\d_]{2,})2$")

# Emoji mapped to one Indonesian word when emoji="word": the ones that carry sentiment in reviews.
EMOJI_WORDS = {
    "😍": "suka", "🥰": "suka", "😘": "suka", "❤": "suka", "💕": "suka", "💖": "suka", "💗": "suka", "💓": "suka",
    "💞": "suka", "💯": "sempurna", "👍": "bagus", "👌": "bagus", "🔥": "keren", "😎": "keren", "🤩": "keren",
    "😊": "senang", "😁": "senang", "😀": "senang", "😃": "senang", "😄": "senang", "🙂": "senang", "☺": "senang",
    "😆": "senang", "🥳": "senang", "😂": "tertawa", "🤣": "tertawa", "😅": "tertawa", "🙏": "terima kasih",
    "🤗": "senang", "😉": "senang", "👏": "hebat", "✨": "bagus", "⭐": "bintang", "🌟": "bintang",
    "😢": "sedih", "😭": "sedih", "😞": "sedih", "😔": "sedih", "🥺": "sedih", "😟": "sedih", "☹": "sedih",
    "🙁": "sedih", "💔": "sedih", "😡": "marah", "😠": "marah", "🤬": "marah", "😤": "marah", "👎": "jelek",
    "😒": "kesal", "🙄": "kesal", "😑": "kesal", "😐": "biasa", "😕": "bingung", "🤔": "bingung",
    "😱": "takut", "😨": "takut", "😰": "takut", "😖": "kecewa", "😩": "kecewa", "😫": "kecewa", "🤮": "jijik",
    "🤢": "jijik", "😴": "bosan",
}


class TextNormalizer(CompactState, TransformerMixin, BaseEstimator):
    """Normalize informal Indonesian text; each step can be switched off.

    ``emoji``: "drop" (replace by a space), "word" (one Indonesian word per sentiment-bearing emoji, the
    rest dropped) or "keep". ``stopwords``: None for the stopwords-id list, or an explicit list of words
    (seed 001 removes only conjunctions). Negations are kept when ``keep_negations`` is true.
    ``fit`` loads the lexicons and stores them on the estimator, so a saved model keeps its normalizer
    even on a machine without the data directory.
    """

    compact_state = ("slang_", "stopwords_", "vocabulary_")
    transient_state = ("_token_cache", "_stemmer")  # rebuilt on demand

    def __init__(self, casefold: bool = True, clean_urls: bool = True, clean_mentions: bool = True,
                 clean_hashtags: bool = True, clean_html: bool = True, emoji: str = "drop",
                 clean_digits: bool = True, clean_punctuation: bool = True, squash_repeats: bool = True,
                 reduplication: bool = True, normalize_slang: bool = True, remove_stopwords: bool = False,
                 keep_negations: bool = True, stopwords: Sequence[str] | None = None, stem: bool = False):
        self.casefold = casefold
        self.clean_urls = clean_urls
        self.clean_mentions = clean_mentions
        self.clean_hashtags = clean_hashtags
        self.clean_html = clean_html
        self.emoji = emoji
        self.clean_digits = clean_digits
        self.clean_punctuation = clean_punctuation
        self.squash_repeats = squash_repeats
        self.reduplication = reduplication
        self.normalize_slang = normalize_slang
        self.remove_stopwords = remove_stopwords
        self.keep_negations = keep_negations
        self.stopwords = stopwords
        self.stem = stem

    # -- fitting: load lexicons -------------------------------------------------------------------
    def fit(self, X=None, y=None):
        if self.emoji not in ("drop", "word", "keep"):
            raise ValueError(f"emoji must be 'drop', 'word' or 'keep', got {self.emoji!r}")
        self.slang_ = dict(lexicon.slang_map()) if self.normalize_slang else {}
        if self.remove_stopwords:
            words = frozenset(w.lower() for w in self.stopwords) if self.stopwords is not None else lexicon.stopwords_id()
            self.stopwords_ = words - lexicon.NEGATIONS if self.keep_negations else words
        else:
            self.stopwords_ = frozenset()
        self.vocabulary_ = (lexicon.sastrawi_root_words() | frozenset(self.slang_.values())
                            | frozenset(self.slang_)) if self.squash_repeats else frozenset()
        self._token_cache = {}
        return self

    # -- character-level steps -------------------------------------------------------------------
    def clean(self, text: str) -> str:
        """Steps 1-2 on one string (a batch joined by newlines works the same: no step crosses a line)."""
        if self.casefold:
            text = text.lower()
        if self.clean_html:
            text = HTML_TAG_RE.sub(" ", text)
            text = HTML_ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)
        if self.clean_urls:
            text = URL_RE.sub(" ", text)
        if self.clean_mentions:
            text = MENTION_RE.sub(" ", text)
        if self.clean_hashtags:
            text = HASHTAG_RE.sub(" ", text)
        if self.emoji == "drop":
            text = EMOJI_RE.sub(" ", text)
        elif self.emoji == "word":
            text = EMOJI_RE.sub(_emoji_to_words, text)
        if self.clean_digits:
            text = (DIGITS_KEEP_REDUP_RE if self.reduplication else DIGITS_RE).sub(" ", text)
        if self.clean_punctuation:
            text = PUNCT_RE.sub(" ", text)
            text = LOOSE_HYPHEN_RE.sub(" ", text)
        return text

    # -- token-level steps -----------------------------------------------------------------------
    def _squash(self, token: str) -> str:
        if not REPEAT_RE.search(token):
            return token
        single = REPEAT_RE.sub(r"\1", token)
        if single in self.vocabulary_:
            return single
        double = REPEAT_RE.sub(r"\1\1", token)
        return double if double in self.vocabulary_ else single

    def _stem_word(self, token: str) -> list[str]:
        stemmer = self.__dict__.get("_stemmer")
        if stemmer is None:
            stemmer = self._stemmer = ecs_stemmer()
        return stemmer.stem(token).split()

    def process_token(self, token: str) -> list[str]:
        """Steps 5-9 for one token; may return several tokens (slang expansions) or none (stopwords)."""
        if self.squash_repeats:
            token = self._squash(token)
        if self.reduplication:
            match = REDUP_RE.match(token)
            if match:
                token = f"{match.group(1)}-{match.group(1)}"
            elif self.clean_digits and "2" in token:
                token = token.replace("2", "")
                if not token:
                    return []
        words = self.slang_.get(token, token).split() if self.normalize_slang else [token]
        if self.stopwords_:
            words = [w for w in words if w not in self.stopwords_]
        if self.stem:
            words = [s for w in words for s in self._stem_word(w)]
        return words

    def tokens(self, text: str) -> list[str]:
        return self.transform([text])[0].split()

    # -- batch -----------------------------------------------------------------------------------
    def transform(self, X: Iterable) -> list[str]:
        """Normalize each text; a value that is not a string becomes ""."""
        check_is_fitted(self, "slang_")  # fit loads the lexicons: transform never changes the estimator
        texts = [t.replace("\n", " ").replace("\r", " ") if isinstance(t, str) else "" for t in X]
        if not texts:
            return []
        cleaned = self.clean("\n".join(texts)).split("\n")
        cache = self.__dict__.setdefault("_token_cache", {})
        process = self.process_token
        out = []
        for line in cleaned:
            words = []
            for token in line.split():
                result = cache.get(token)
                if result is None:
                    result = cache[token] = process(token)
                words.extend(result)
            out.append(" ".join(words))
        return out

    def get_feature_names_out(self, input_features=None):
        return None


def ecs_stemmer():
    """Sastrawi's ECS stemmer over its own root-word dictionary, held in a set.

    Sastrawi's ArrayDictionary keeps the 30k root words in a list, so each of the dozens of lookups the
    stemmer makes per word scans it; a set gives the same answers in constant time. The stemmer is
    uncached: memoization happens one level up, over the whole token chain.
    """
    from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary
    from Sastrawi.Stemmer.Stemmer import Stemmer

    class SetDictionary(ArrayDictionary):
        def __init__(self, words):
            self.words = {w for w in words if w and w.strip()}

        def add(self, word):
            if word and word.strip():
                self.words.add(word)

    return Stemmer(SetDictionary(lexicon.sastrawi_root_words()))


def _emoji_to_words(match: re.Match) -> str:
    words = []
    for char in match.group(0):
        word = EMOJI_WORDS.get(char)
        if word and (not words or words[-1] != word):
            words.append(word)
    return f" {' '.join(words)} " if words else " "
