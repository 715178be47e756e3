"""The contract every recommender source follows (after implicit's ``RecommenderBase``).

A source is a scikit-learn estimator and a niaga model: ``fit(interactions)`` learns from
:class:`~niaga.recommend.data.Interactions` and returns self; ``recommend(histories, k)`` gives each user's
top items; ``similar_items(items, k)`` the items most like each item. Items are catalogue rows (0..n-1)
everywhere inside; the blender turns them into ids and reasons.

Everything is built on ``score_items(histories)`` (not ``score``: scikit-learn's ``score(X, y)`` returns one number): a users × items matrix, higher is better, computed from the
histories given (not from anything remembered about the user), so the same call serves a known customer,
a new one with a few clicks, and an evaluation that hides the last item. ``explain`` says why an item was
scored: a reason template and, for item-based sources, the history item behind it ("because you bought X").
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from niaga.modeling import NiagaModel
from niaga.recommend.data import Histories, Interactions


class RecommenderBase(NiagaModel, BaseEstimator):
    """Base of every source: ``fit``, ``score_items``, ``recommend``, ``similar_items``, ``explain``."""

    task = "recommend"
    #: the source name shown beside each recommended item
    source_name = "base"

    def fit(self, interactions: Interactions, y=None):  # pragma: no cover - every source overrides it
        raise NotImplementedError

    def score_items(self, histories: Histories) -> np.ndarray:  # pragma: no cover
        """users × items scores (float32), higher is better."""
        raise NotImplementedError

    def item_similarity(self, items: np.ndarray) -> np.ndarray:  # pragma: no cover
        """len(items) × n_items similarity of each given item to every item."""
        raise NotImplementedError

    def recommend(self, histories: Histories, k: int = 10, exclude_history: bool = False
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` catalogue rows per user and their scores (users × k)."""
        scores = self.score_items(histories)
        if exclude_history:
            mask_history(scores, histories)
        return top_k(scores, k)

    def similar_items(self, items, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` items most similar to each of ``items`` (the item itself left out) and their scores."""
        items = np.atleast_1d(np.asarray(items, dtype=np.int64))
        scores = np.asarray(self.item_similarity(items), dtype=np.float32).copy()
        scores[np.arange(len(items)), items] = -np.inf
        return top_k(scores, k)

    def explain(self, history: np.ndarray, items: np.ndarray, segment: str = "") -> list[tuple[str, int]]:
        """One (reason template, anchor item row or -1) per item; "{anchor}" in the template names the anchor.
        ``history``: the user's items, oldest first; ``segment``: the user's segment ("" when unknown)."""
        return [("recommended for you", -1)] * len(items)

    def similarity_between(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        """len(rows) × len(others) similarities (what ``explain`` needs; sources with embeddings do it cheaper)."""
        return np.asarray(self.item_similarity(np.asarray(rows, dtype=np.int64)))[:, np.asarray(others, dtype=np.int64)]

    def fit_hides_last_item(self) -> bool:
        """True when ``fit`` never trains on each user's last item (it validates on it), so a blender can tune
        weights on that item with this very fit instead of fitting the source twice."""
        return False

    def pair_reasons(self, anchor: int, items: np.ndarray) -> list[str]:
        """Why each of ``items`` goes with ``anchor`` (for "together" lists); "{anchor}" names the anchor."""
        return ["similar to {anchor}"] * len(items)

    def save_external(self, directory, prefix: str = "") -> None:
        """Write the state named in ``external_state`` (a torch network) under ``directory``; nothing by default."""

    def load_external(self, directory, prefix: str = "") -> None:
        """Read back what ``save_external`` wrote."""

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "n_items_")


# -- helpers every source uses ----------------------------------------------------------------------------

class ItemVectorSimilarity:
    """``item_similarity`` and ``similarity_between`` as the cosine of item vectors (``_item_vectors()``), the
    normalized vectors built once and kept in ``_unit_items`` (a transient attribute: not saved)."""

    def _item_vectors(self) -> np.ndarray:  # pragma: no cover - ALS and SASRec override it
        raise NotImplementedError

    def _unit(self) -> np.ndarray:
        self._check_fitted()
        unit = self.__dict__.get("_unit_items")
        if unit is None:
            vectors = np.asarray(self._item_vectors(), dtype=np.float32)
            unit = self._unit_items = vectors / (np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12)
        return unit

    def item_similarity(self, items: np.ndarray) -> np.ndarray:
        unit = self._unit()
        return unit[np.asarray(items, dtype=np.int64)] @ unit.T

    def similarity_between(self, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        unit = self._unit()
        return unit[np.asarray(rows, dtype=np.int64)] @ unit[np.asarray(others, dtype=np.int64)].T


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the ``k`` highest scores per row, best first; ties go to the lower row (a stable order).
    Items scored -inf (excluded) are returned only when fewer than ``k`` others exist, marked by -inf."""
    n, m = scores.shape
    k = max(0, min(int(k), m))
    if k == 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.float32)
    if k < m:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(scores, part, axis=1).min(axis=1, keepdims=True)
        # the partition's choice among items tied with the k-th score is arbitrary: take tied items by row
        ties = (scores == kth).sum(axis=1) > (np.take_along_axis(scores, part, axis=1) == kth).sum(axis=1)
        for r in np.flatnonzero(ties):
            above = np.flatnonzero(scores[r] > kth[r, 0])
            tied = np.flatnonzero(scores[r] == kth[r, 0])[: k - len(above)]
            part[r] = np.concatenate([above, tied])
    else:
        part = np.tile(np.arange(m), (n, 1))
    values = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -values), axis=1)
    rows = np.take_along_axis(part, order, axis=1)
    return rows.astype(np.int64), np.take_along_axis(values, order, axis=1).astype(np.float32)


def mask_history(scores: np.ndarray, histories: Histories, allowed: np.ndarray | None = None) -> np.ndarray:
    """Set each user's history items to -inf in place (except items where ``allowed`` is true)."""
    rows = histories.row_of()
    items = histories.items
    if allowed is not None:
        keep = ~allowed[items]
        rows, items = rows[keep], items[keep]
    scores[rows, items] = -np.inf
    return scores


def recency_weights(histories: Histories, half_life: float | None, by: str = "position") -> np.ndarray:
    """A weight per interaction halving every ``half_life`` steps back from the user's most recent one.

    ``by="position"``: steps are interactions; ``"basket"``: baskets (every item of the last basket weighs 1);
    ``"days"``: days before the user's last interaction. None or 0: every interaction weighs 1.
    """
    n = len(histories.items)
    if not half_life or n == 0:
        return np.ones(n, dtype=np.float32)
    rows = histories.row_of()
    last = histories.indptr[1:] - 1
    if by == "basket" and histories.baskets is not None:
        steps = histories.baskets[last][rows] - histories.baskets
    elif by == "days" and histories.times is not None:
        steps = (histories.times[last][rows] - histories.times) / 86400.0
    else:
        steps = last[rows] - np.arange(n)
    return np.power(0.5, steps / float(half_life)).astype(np.float32)


def weighted_matrix(histories: Histories, n_items: int, weights: np.ndarray | None = None):
    """users × items sparse matrix of summed interaction weights."""
    import scipy.sparse as sp

    data = np.ones(len(histories.items), np.float32) if weights is None else weights.astype(np.float32)
    # copies: sum_duplicates sorts the index arrays in place, which would reorder the histories themselves
    m = sp.csr_matrix((data, histories.items.copy(), histories.indptr.copy()), shape=(len(histories), n_items))
    m.sum_duplicates()
    return m


def anchors_by_similarity(history: np.ndarray, items: np.ndarray, similarity) -> np.ndarray:
    """For each item, the history item most similar to it (-1 with an empty history or no similarity > 0).

    ``similarity(history_rows, items)``: len(history) × len(items) similarities.
    """
    if len(history) == 0 or len(items) == 0:
        return np.full(len(items), -1, dtype=np.int64)
    unique = np.unique(history)
    items = np.asarray(items, dtype=np.int64)
    sims = np.array(similarity(unique, items), dtype=np.float64)
    sims[unique[:, None] == items[None, :]] = -np.inf  # "because you bought X" never names X itself
    best = sims.argmax(axis=0)
    anchors = unique[best]
    anchors[sims.max(axis=0) <= 0] = -1
    return anchors
