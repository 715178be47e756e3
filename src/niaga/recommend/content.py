"""Content similarity: items alike in category, brand and name, for items nobody has bought yet.

Each item is a vector of its attributes (category path and brand in the Amazon files, any attribute columns
of an item table), TF-IDF weighted over the catalogue so a rare brand says more than "Beauty", next to the
TF-IDF of its name normalized by ``niaga.text`` (casefold, cleaning, reduplication; no stemming, since
product names are half English). Rows are L2-normalized, so a dot product is a cosine.

This is what makes a cold item reachable: it has no purchases, so every behavioural source scores it zero,
but its attributes put it next to the items it resembles, in "together" lists and, with a weight in the
blend, in a user's list ("similar to X, which you bought").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from niaga.recommend.base import RecommenderBase, anchors_by_similarity, recency_weights, weighted_matrix
from niaga.recommend.data import Histories, Interactions


class ContentRecommender(RecommenderBase):
    """Cosine similarity of attribute and name TF-IDF vectors.

    ``attributes``, ``names``: which item features to use. ``name_weight``: the names' share against the
    attributes. ``half_life``: recency weighting of the history items that make a user's profile.
    Learned state: ``n_items_``, ``features_`` (items × features, rows L2-normalized), ``normalizer_`` and
    ``vectorizer_`` (None without names), ``has_features_`` (items with any feature).
    """

    source_name = "content"
    transient_state = ("_features_t",)  # the transposed features, built once (a per-request transpose cost 1 ms)

    def __init__(self, attributes: bool = True, names: bool = True, name_weight: float = 0.5,
                 half_life: float | None = 3.0):
        self.attributes = attributes
        self.names = names
        self.name_weight = name_weight
        self.half_life = half_life

    def fit(self, interactions: Interactions, y=None):
        from sklearn.feature_extraction.text import TfidfTransformer

        catalogue = interactions.catalogue
        self.n_items_ = n = len(catalogue)
        blocks = []
        if self.attributes and catalogue.attributes is not None and catalogue.attributes.nnz:
            attrs = TfidfTransformer(sublinear_tf=True).fit_transform(catalogue.attributes)
            blocks.append(normalize(attrs) * (1.0 - self.name_weight if self.names else 1.0))
        self.normalizer_, self.vectorizer_ = None, None
        if self.names and catalogue.names is not None and any(str(x).strip() for x in catalogue.names):
            from niaga.text import TextNormalizer
            from niaga.text.features import CompactTfidfVectorizer

            self.normalizer_ = TextNormalizer(clean_digits=False, squash_repeats=False, normalize_slang=False).fit()
            texts = self.normalizer_.transform([str(x) for x in catalogue.names])
            self.vectorizer_ = CompactTfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b",
                                                      ngram_range=(1, 2), min_df=2 if n > 50 else 1)
            try:
                words = self.vectorizer_.fit_transform(texts)
            except ValueError:  # no word kept (every name empty or unique)
                words = sp.csr_matrix((n, 0), dtype=np.float64)
            blocks.append(normalize(words) * (self.name_weight if blocks else 1.0))
        features = sp.hstack(blocks).tocsr() if blocks else sp.csr_matrix((n, 0), dtype=np.float32)
        self.features_ = (normalize(features) if features.shape[1] else features).astype(np.float32).tocsr()
        self.has_features_ = np.diff(self.features_.indptr) > 0
        self.__dict__.pop("_features_t", None)
        return self

    def score_items(self, histories: Histories) -> np.ndarray:
        self._check_fitted()
        weights = weighted_matrix(histories, self.n_items_, recency_weights(histories, self.half_life))
        profile = weights @ self.features_
        features_t = self.__dict__.get("_features_t")
        if features_t is None:
            features_t = self._features_t = self.features_.T.tocsr()
        return np.asarray((profile @ features_t).todense(), dtype=np.float32)

    def item_similarity(self, items: np.ndarray) -> np.ndarray:
        self._check_fitted()
        return np.asarray((self.features_[np.asarray(items, dtype=np.int64)] @ self.features_.T).todense(),
                          dtype=np.float32)

    def similarity_between(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        a = self.features_[np.asarray(rows, dtype=np.int64)]
        b = self.features_[np.asarray(others, dtype=np.int64)]
        return np.asarray((a @ b.T).todense(), dtype=np.float32)

    def pair_reasons(self, anchor: int, items: np.ndarray) -> list[str]:
        return ["similar to {anchor} (category, brand, name)"] * len(items)

    def explain(self, history, items, segment: str = "") -> list[tuple[str, int]]:
        anchors = anchors_by_similarity(np.asarray(history[-50:], dtype=np.int64), np.asarray(items),
                                        self.similarity_between)
        return [("similar to {anchor} (category, brand, name)" if a >= 0 else "matches what you like", int(a))
                for a in anchors]
