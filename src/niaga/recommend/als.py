"""Implicit-feedback matrix factorization: the ``implicit`` package's alternating least squares.

Hu, Koren and Volinsky's weighted ALS on the user × item matrix, its counts BM25-weighted (as implicit's
examples do: frequent buyers and best-sellers do not drown the rest). Only the item factors are kept: a
user's factor is solved from the history given at query time (implicit's ``recalculate_user``, the exact
least-squares step of training), so a new customer with three purchases is served without retraining.

Saved as data: the item factors are a numpy array in model.skops, never implicit's own pickle; the implicit
model is rebuilt around them on first use.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from niaga.recommend.base import ItemVectorSimilarity, RecommenderBase, anchors_by_similarity, weighted_matrix
from niaga.recommend.data import Histories, Interactions


class ALSRecommender(ItemVectorSimilarity, RecommenderBase):
    """implicit's AlternatingLeastSquares on BM25-weighted counts.

    ``factors``, ``regularization``, ``alpha`` (confidence scale), ``iterations``: implicit's parameters.
    ``bm25``: weigh counts with BM25 (``K1``, ``B``); False uses raw counts. ``n_threads``: 0 = all cores.
    Learned state: ``n_items_``, ``item_factors_`` (items × factors, float32), ``idf_`` and ``avg_length_``
    (the BM25 weights of training, applied to query histories).
    """

    source_name = "als"
    transient_state = ("_implicit", "_unit_items")

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 1.0, iterations: int = 15,
                 bm25: bool = True, K1: float = 100.0, B: float = 0.8, n_threads: int = 0, random_state: int = 0):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.bm25 = bm25
        self.K1 = K1
        self.B = B
        self.n_threads = n_threads
        self.random_state = random_state

    def _weighted(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        if not self.bm25:
            return matrix.astype(np.float32)
        m = matrix.tocsr(copy=True).astype(np.float64)
        lengths = np.asarray(m.sum(axis=1)).ravel()
        norm = (1.0 - self.B) + self.B * lengths / max(self.avg_length_, 1e-12)
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        m.data = m.data * (self.K1 + 1.0) / (self.K1 * norm[rows] + m.data) * self.idf_[m.indices]
        return m.astype(np.float32)

    def fit(self, interactions: Interactions, y=None):
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        h = interactions.histories
        self.n_items_ = interactions.n_items
        counts = h.matrix(self.n_items_)
        df = np.bincount(counts.indices, minlength=self.n_items_)
        self.idf_ = (np.log(max(counts.shape[0], 1)) - np.log1p(df)).astype(np.float64)
        self.avg_length_ = float(np.asarray(counts.sum(axis=1)).mean()) if counts.shape[0] else 1.0
        with threadpool_limits(1, "blas"):  # implicit's advice: its own threads, not BLAS's, do the work
            model = AlternatingLeastSquares(factors=int(self.factors), regularization=float(self.regularization),
                                            alpha=float(self.alpha), iterations=int(self.iterations),
                                            num_threads=int(self.n_threads), random_state=self.random_state)
            model.fit(self._weighted(counts), show_progress=False)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self.__dict__.pop("_implicit", None)  # rebuilt for queries, with one thread
        self.__dict__.pop("_unit_items", None)
        return self

    def _model(self):
        model = self.__dict__.get("_implicit")
        if model is None:
            from implicit.cpu.als import AlternatingLeastSquares
            from threadpoolctl import threadpool_limits

            with threadpool_limits(1, "blas"):
                # one thread per query: a user's solve is microseconds, a thread pool's wake-up is not
                model = AlternatingLeastSquares(factors=self.item_factors_.shape[1],
                                                regularization=float(self.regularization), alpha=float(self.alpha),
                                                num_threads=1)
            model.item_factors = self.item_factors_
            model.user_factors = np.zeros((0, self.item_factors_.shape[1]), dtype=np.float32)
            self._implicit = model
        return model

    def user_factors(self, histories: Histories) -> np.ndarray:
        """Each user's factor solved from the history given (implicit's exact least-squares step)."""
        matrix = self._weighted(weighted_matrix(histories, self.n_items_))
        return self._model().recalculate_user(np.arange(len(histories)), matrix)

    def score_items(self, histories: Histories) -> np.ndarray:
        self._check_fitted()
        return (self.user_factors(histories) @ self.item_factors_.T).astype(np.float32)

    def _item_vectors(self) -> np.ndarray:
        return self.item_factors_

    def explain(self, history, items, segment: str = "") -> list[tuple[str, int]]:
        anchors = anchors_by_similarity(np.asarray(history[-50:], dtype=np.int64), np.asarray(items),
                                        self.similarity_between)
        return [("because you bought {anchor}" if a >= 0 else "customers like you bought this", int(a))
                for a in anchors]
