"""The graph model: label propagation over the entity graph.

Confirmed abusers of the training export are the seeds; their label spreads along the graph's links (shared
devices, payment accounts, phones, addresses, small IPs) with damping, so an account linked to known abusers
scores high. It can only find what touches a known case: a ring made after the labels, with no member in them,
scores zero. The benchmark reports how far that carries.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


class LabelPropagation:
    """``fit(seeds)`` stores the labelled account ids per typology (``seeds_``); ``score(graph, ids)`` spreads them."""

    def __init__(self, alpha: float = 0.85, iterations: int = 20):
        self.alpha = alpha
        self.iterations = iterations

    def fit(self, seeds: dict[str, set]) -> "LabelPropagation":
        self.seeds_ = {typology: set(ids) for typology, ids in seeds.items()}
        return self

    def score(self, graph, account_ids) -> dict[str, np.ndarray]:
        n = len(graph.accounts_)
        a, b = graph.links_["a"].to_numpy(int), graph.links_["b"].to_numpy(int)
        w = np.ones(len(a))
        adjacency = sparse.coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
        degree = np.asarray(adjacency.sum(axis=1)).ravel()
        walk = sparse.diags(1.0 / np.maximum(degree, 1.0)) @ adjacency
        codes = graph.accounts_.get_indexer(np.asarray(account_ids, dtype=object))
        out = {}
        for typology, ids in self.seeds_.items():
            seed = np.zeros(n)
            known = graph.accounts_.get_indexer(np.array(sorted(ids), dtype=object))
            seed[known[known >= 0]] = 1.0
            value = seed.copy()
            for _ in range(self.iterations):
                value = self.alpha * (walk @ value) + (1 - self.alpha) * seed
            out[typology] = np.where(codes >= 0, value[np.maximum(codes, 0)], 0.0)
        return out
