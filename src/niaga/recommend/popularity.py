"""Popularity: what most customers bought, overall, recently (time-decayed) or within the customer's segment.

The fallback for every customer without a history ("Produk untuk Anda" on the first visit) and the floor
every other source must beat. Counts are baskets (or users, for sequences) that hold the item, so one
wholesaler's 50 invoices of the same mug count 50 times but a basket with 12 mugs counts once.

``mode="recent"`` decays each purchase with a half-life in days before the log's last day, so this month's
sellers rise; it needs times (invoices, dated baskets) and is the same as "overall" without them.
Segments (the ``segment`` column of ``niaga customers segment``'s segments.csv, attached to the histories)
give one ranking per segment with at least ``min_segment_users`` customers; a customer of a smaller or
unknown segment gets the overall ranking.
"""

from __future__ import annotations

import numpy as np

from niaga.recommend.base import RecommenderBase
from niaga.recommend.data import Histories, Interactions


class PopularityRecommender(RecommenderBase):
    """Popular items, overall or recent, optionally per customer segment.

    Learned state: ``n_items_``, ``counts_`` (overall), ``scores_`` (what is served: recent or overall),
    ``segment_names_`` and ``segment_scores_`` (segments × items), ``recent_`` (whether times were there).
    """

    source_name = "popularity"

    def __init__(self, mode: str = "overall", half_life_days: float = 30.0, by_segment: bool = True,
                 min_segment_users: int = 20):
        self.mode = mode
        self.half_life_days = half_life_days
        self.by_segment = by_segment
        self.min_segment_users = min_segment_users

    def fit(self, interactions: Interactions, y=None):
        if self.mode not in ("overall", "recent"):
            raise ValueError(f"mode must be 'overall' or 'recent', got {self.mode!r}")
        h = interactions.histories
        self.n_items_ = interactions.n_items
        weights = self._weights(h)
        self.counts_ = np.bincount(h.items, weights=self._weights(h, decay=False),
                                   minlength=self.n_items_).astype(np.float32)
        self.recent_ = self.mode == "recent" and h.times is not None
        self.scores_ = np.bincount(h.items, weights=weights, minlength=self.n_items_).astype(np.float32)
        names, tables = [], []
        if self.by_segment and h.segments is not None:
            rows = h.row_of()
            user_segments = h.segments
            for name in sorted(set(user_segments.tolist()) - {""}):
                members = user_segments == name
                if members.sum() < self.min_segment_users:
                    continue
                mine = members[rows]
                names.append(name)
                tables.append(np.bincount(h.items[mine], weights=weights[mine], minlength=self.n_items_))
        self.segment_names_ = np.asarray(names, dtype=str)
        self.segment_scores_ = (np.vstack(tables).astype(np.float32) if tables
                                else np.zeros((0, self.n_items_), dtype=np.float32))
        return self

    def _weights(self, h: Histories, decay: bool = True) -> np.ndarray:
        """1 per (basket, item) pair (a repeat within a basket counts once), decayed in time for "recent"."""
        n = len(h.items)
        first = np.ones(n, dtype=bool)
        if h.baskets is not None and n:
            order = np.lexsort((h.items, h.baskets, h.row_of()))
            keys = np.stack([h.row_of()[order], h.baskets[order], h.items[order]], axis=1)
            dup = np.zeros(n, dtype=bool)
            dup[1:] = (keys[1:] == keys[:-1]).all(axis=1)
            first[order] = ~dup
        weights = first.astype(np.float64)
        if decay and self.mode == "recent" and h.times is not None and n:
            age_days = (h.times.max() - h.times) / 86400.0
            weights *= np.power(0.5, age_days / float(self.half_life_days))
        return weights

    def _segment_rows(self, histories: Histories) -> np.ndarray:
        """The segment table row of each user, -1 for none."""
        rows = np.full(len(histories), -1, dtype=np.int64)
        if histories.segments is None or not len(self.segment_names_):
            return rows
        lookup = {name: i for i, name in enumerate(self.segment_names_.tolist())}
        return np.fromiter((lookup.get(s, -1) for s in histories.segments.tolist()), dtype=np.int64,
                           count=len(histories))

    def score_items(self, histories: Histories) -> np.ndarray:
        self._check_fitted()
        base = self.scores_ / max(float(self.scores_.max()), 1e-12)
        out = np.tile(base, (len(histories), 1))
        seg = self._segment_rows(histories)
        for s in np.unique(seg[seg >= 0]):
            table = self.segment_scores_[s]
            # the overall ranking breaks ties among the segment's equally (un)popular items
            out[seg == s] = table / max(float(table.max()), 1e-12) + 1e-3 * base
        return out

    def item_similarity(self, items: np.ndarray) -> np.ndarray:
        self._check_fitted()
        return np.tile(self.scores_ / max(float(self.scores_.max()), 1e-12), (len(items), 1))

    def explain(self, history, items, segment: str = "") -> list[tuple[str, int]]:
        if segment and segment in set(self.segment_names_.tolist()):
            return [(f"popular in your segment ({segment})", -1)] * len(items)
        text = "popular now" if self.recent_ else "a bestseller"
        return [(text, -1)] * len(items)
