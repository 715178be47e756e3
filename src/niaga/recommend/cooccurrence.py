"""Item-to-item co-occurrence and association rules: "Sering Dibeli Bersama" (frequently bought together).

Two items co-occur when they are in the same basket (``unit="basket"``: an invoice, a member's shopping
day), in the same customer's history (``"user"``), or one follows the other within ``window`` steps of a
sequence (``"sequence"``: directional, a pair ``window`` steps apart weighs 1/distance; the signal for
"what comes next" when there are no baskets, as in the Amazon review sequences).

For every pair with at least ``min_count`` co-occurrences the rule {i} → {j} has
support = n(i, j) / N, confidence = n(i, j) / n(i) and lift = confidence / (n(j) / N), with N the number of
units. ``measure`` (cosine, confidence, lift or jaccard) ranks neighbours; each item keeps its best
``neighbours``. A user's scores are the neighbour similarities of their history items, each history item
weighed by recency (``half_life`` steps), so the reason of a recommendation is the history item that
contributed most: "bought together with X".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from niaga.recommend.base import RecommenderBase, anchors_by_similarity, recency_weights, weighted_matrix
from niaga.recommend.data import Histories, Interactions

MEASURES = ("cosine", "confidence", "lift", "jaccard")
UNITS = ("auto", "basket", "user", "sequence")


class CooccurrenceRecommender(RecommenderBase):
    """Item-item co-occurrence with support, confidence and lift.

    Learned state: ``n_items_``, ``n_units_`` (baskets, users or sequences counted), ``unit_`` (the unit
    used), ``item_counts_`` (units holding each item), ``similarity_`` (items × items, the kept neighbours by
    ``measure``) and ``pair_counts_`` (their co-occurrence counts, same sparsity).
    """

    source_name = "cooccurrence"

    def __init__(self, unit: str = "auto", window: int = 3, measure: str = "cosine", min_count: int = 2,
                 neighbours: int = 200, half_life: float | None = 3.0):
        self.unit = unit
        self.window = window
        self.measure = measure
        self.min_count = min_count
        self.neighbours = neighbours
        self.half_life = half_life

    def fit(self, interactions: Interactions, y=None):
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {self.measure!r}")
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {self.unit!r}")
        h = interactions.histories
        self.n_items_ = n = interactions.n_items
        unit = self.unit
        if unit == "auto":
            unit = "basket" if h.baskets is not None else "sequence" if interactions.format == "sequences" else "user"
        if unit == "basket" and h.baskets is None:
            unit = "user"
        self.unit_ = unit
        if unit == "sequence":
            pairs, item_counts, n_units = self._sequence_pairs(h, n)
        else:
            groups = h.baskets if unit == "basket" else h.row_of()
            _, group_rows = np.unique(groups, return_inverse=True)
            units = sp.csr_matrix((np.ones(len(h.items), np.float32), (group_rows, h.items)),
                                  shape=(int(group_rows.max()) + 1 if len(group_rows) else 0, n))
            units.sum_duplicates()
            units.data[:] = 1.0
            item_counts = np.asarray(units.sum(axis=0)).ravel()
            pairs = (units.T @ units).tocsr()
            pairs.setdiag(0)
            pairs.eliminate_zeros()
            n_units = units.shape[0]
        self.n_units_ = int(n_units)
        self.item_counts_ = item_counts.astype(np.float32)
        pairs = pairs.tocoo()
        keep = pairs.data >= self.min_count
        rows, cols, counts = pairs.row[keep], pairs.col[keep], pairs.data[keep].astype(np.float64)
        values = self._measure(rows, cols, counts)
        rows, cols, counts, values = self._top_neighbours(rows, cols, counts, values)
        self.similarity_ = sp.csr_matrix((values.astype(np.float32), (rows, cols)), shape=(n, n))
        self.pair_counts_ = sp.csr_matrix((counts.astype(np.float32), (rows, cols)), shape=(n, n))
        return self

    def _sequence_pairs(self, h: Histories, n: int):
        """Directional pairs (earlier → later) within ``window`` steps, weighted 1 / distance."""
        rows_all, cols_all, weights = [], [], []
        user = h.row_of()
        for d in range(1, int(self.window) + 1):
            same = user[d:] == user[:-d] if len(user) > d else np.zeros(0, dtype=bool)
            rows_all.append(h.items[:-d][same])
            cols_all.append(h.items[d:][same])
            weights.append(np.full(int(same.sum()), 1.0 / d, dtype=np.float32))
        rows, cols = np.concatenate(rows_all), np.concatenate(cols_all)
        pairs = sp.csr_matrix((np.concatenate(weights), (rows, cols)), shape=(n, n))
        pairs.sum_duplicates()
        pairs.setdiag(0)
        pairs.eliminate_zeros()
        item_counts = np.bincount(h.items, minlength=n).astype(np.float64)
        return pairs, item_counts, len(h)  # N = sequences: support is the share of customers with the pair

    def _measure(self, rows, cols, counts, measure: str | None = None) -> np.ndarray:
        ni, nj = self.item_counts_[rows].astype(np.float64), self.item_counts_[cols].astype(np.float64)
        measure = measure or self.measure
        if measure == "cosine":
            return counts / np.sqrt(np.maximum(ni * nj, 1e-12))
        if measure == "confidence":
            return counts / np.maximum(ni, 1e-12)
        if measure == "lift":
            return counts * self.n_units_ / np.maximum(ni * nj, 1e-12)
        return counts / np.maximum(ni + nj - counts, 1e-12)  # jaccard

    def _top_neighbours(self, rows, cols, counts, values):
        if not len(rows):
            return rows, cols, counts, values
        order = np.lexsort((-values, rows))
        rows, cols, counts, values = rows[order], cols[order], counts[order], values[order]
        starts = np.searchsorted(rows, rows, side="left")
        keep = (np.arange(len(rows)) - starts) < int(self.neighbours)
        return rows[keep], cols[keep], counts[keep], values[keep]

    # -- the contract ----------------------------------------------------------------------------------
    def _history_matrix(self, histories: Histories):
        by = "basket" if self.unit_ == "basket" else "position"
        return weighted_matrix(histories, self.n_items_, recency_weights(histories, self.half_life, by))

    def score_items(self, histories: Histories) -> np.ndarray:
        self._check_fitted()
        return np.asarray((self._history_matrix(histories) @ self.similarity_).todense(), dtype=np.float32)

    def item_similarity(self, items: np.ndarray) -> np.ndarray:
        self._check_fitted()
        return self.similarity_[np.asarray(items, dtype=np.int64)].toarray()

    def similarity_between(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        return self.similarity_[np.asarray(rows, dtype=np.int64)][:, np.asarray(others, dtype=np.int64)].toarray()

    def explain(self, history, items, segment: str = "") -> list[tuple[str, int]]:
        anchors = anchors_by_similarity(np.asarray(history[-50:], dtype=np.int64), np.asarray(items),
                                        self.similarity_between)
        text = "bought after {anchor}" if self.unit_ == "sequence" else "bought together with {anchor}"
        return [(text if a >= 0 else "recommended for you", int(a)) for a in anchors]

    def pair_reasons(self, anchor: int, items: np.ndarray) -> list[str]:
        stats = self.rule_stats(anchor, np.asarray(items, dtype=np.int64))
        verb = "bought after {anchor}" if self.unit_ == "sequence" else "bought together with {anchor}"
        return [f"{verb} (support {100 * r.support:.2g}%, confidence {r.confidence:.1%}, lift {r.lift:.2f})"
                if r.count > 0 else "similar to {anchor}" for r in stats.itertuples()]

    # -- association rules -------------------------------------------------------------------------------
    def rule_stats(self, antecedent: int, consequents: np.ndarray) -> pd.DataFrame:
        """support, confidence, lift and count of {antecedent} → {c} for each consequent."""
        counts = np.asarray(self.pair_counts_[antecedent].toarray()).ravel()[consequents].astype(np.float64)
        rows = np.full(len(consequents), antecedent)
        return pd.DataFrame({"count": counts, "support": counts / max(self.n_units_, 1),
                             "confidence": self._measure(rows, consequents, counts, "confidence"),
                             "lift": self._measure(rows, consequents, counts, "lift")})

    def rules(self, min_support: float = 0.0, min_confidence: float = 0.0, min_lift: float = 0.0) -> pd.DataFrame:
        """Every kept pair as a rule {antecedent} → {consequent} (catalogue rows), strongest lift first."""
        self._check_fitted()
        coo = self.pair_counts_.tocoo()
        counts = coo.data.astype(np.float64)
        table = pd.DataFrame({"antecedent": coo.row, "consequent": coo.col, "count": counts,
                              "support": counts / max(self.n_units_, 1),
                              "confidence": self._measure(coo.row, coo.col, counts, "confidence"),
                              "lift": self._measure(coo.row, coo.col, counts, "lift")})
        keep = (table["support"] >= min_support) & (table["confidence"] >= min_confidence) & (table["lift"] >= min_lift)
        return table[keep].sort_values(["lift", "support"], ascending=False, kind="stable").reset_index(drop=True)
