"""Visual search: the trained network's embeddings in a nearest-neighbour index.

Embeddings are the pooled features of the classifier (flip-averaged, L2-normalized), so the inner product is
the cosine similarity. The index is exact (faiss ``IndexFlatIP``): on a catalogue of tens of thousands of
images a brute-force scan of 256-dimensional vectors takes well under a millisecond, so an approximate index
would only lose recall; numpy does the same scan where faiss is not installed. An index directory holds
``index.faiss`` (faiss's own binary format: vectors, no code), ``items.parquet`` (image, path, labels) and
``index.json`` (size, dimension, and the sha256 of the weights the vectors came from, checked on every query).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from niaga.errors import DataError, NiagaError

INDEX_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"
ITEMS_FILE = "items.parquet"
META_FILE = "index.json"


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class VisualIndex:
    """Exact inner-product search over L2-normalized vectors, with a table of what each row is."""

    def __init__(self, vectors: np.ndarray, items: pd.DataFrame, weights_id: str = ""):
        if len(vectors) != len(items):
            raise ValueError(f"{len(vectors)} vectors for {len(items)} items")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.items = items.reset_index(drop=True)
        self.weights_id = weights_id
        faiss = _faiss()
        self.backend = "faiss" if faiss is not None else "numpy"
        self._index = None
        if faiss is not None:
            self._index = faiss.IndexFlatIP(self.vectors.shape[1])
            self._index.add(self.vectors)

    def __len__(self) -> int:
        return len(self.items)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows), each (n_queries, k'), best first; k' = min(k, index size)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = int(min(k, len(self)))
        if self._index is not None:
            faiss = _faiss()
            # a few queries: one thread (OpenMP's spinning threads cost far more than the scan on a busy machine)
            faiss.omp_set_num_threads(1 if len(queries) < 64 else max(1, os.cpu_count() or 1))
            return self._index.search(queries, k)
        scores = queries @ self.vectors.T
        rows = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else \
            np.tile(np.arange(scores.shape[1]), (len(scores), 1))
        part = np.take_along_axis(scores, rows, axis=1)
        order = np.argsort(-part, axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1), np.take_along_axis(rows, order, axis=1)

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        faiss = _faiss()
        if faiss is not None and self._index is not None:
            faiss.write_index(self._index, str(directory / INDEX_FILE))
            (directory / VECTORS_FILE).unlink(missing_ok=True)
        else:
            np.save(directory / VECTORS_FILE, self.vectors, allow_pickle=False)
            (directory / INDEX_FILE).unlink(missing_ok=True)
        self.items.to_parquet(directory / ITEMS_FILE, index=False)
        meta = {"items": len(self), "dimension": int(self.vectors.shape[1]), "metric": "cosine (inner product of "
                "L2-normalized embeddings)", "index": "exact (faiss IndexFlatIP)" if faiss else "exact (numpy)",
                "weights_id": self.weights_id}
        (directory / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "VisualIndex":
        directory = Path(directory)
        if not directory.is_dir():
            raise DataError(f"{directory}: no such index directory (build one with 'niaga vision index')")
        if not (directory / META_FILE).exists() or not (directory / ITEMS_FILE).exists():
            raise DataError(f"{directory}: not a visual search index (no {META_FILE} / {ITEMS_FILE})")
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        items = pd.read_parquet(directory / ITEMS_FILE)
        if (directory / INDEX_FILE).exists():
            faiss = _faiss()
            if faiss is None:
                raise NiagaError(f"{directory}: the index was written by faiss, which is not installed "
                                 "(pip install faiss-cpu)")
            index = faiss.read_index(str(directory / INDEX_FILE))
            vectors = index.reconstruct_n(0, index.ntotal)
        elif (directory / VECTORS_FILE).exists():
            vectors = np.load(directory / VECTORS_FILE, allow_pickle=False)
        else:
            raise DataError(f"{directory}: the index has no vectors ({INDEX_FILE} or {VECTORS_FILE})")
        return cls(vectors, items, meta.get("weights_id", ""))


def precision_at_k(index: VisualIndex, queries: np.ndarray, query_labels, label_column: str, k: int = 10,
                   exclude_rows: np.ndarray | None = None) -> dict:
    """Mean share of the top ``k`` neighbours whose ``label_column`` equals the query's label; with
    ``exclude_rows`` (one index row per query, -1 for none) the query's own row is skipped. Also hit@1 and
    hit@k (at least one match in the top k)."""
    extra = 1 if exclude_rows is not None else 0
    _, rows = index.search(queries, k + extra)
    labels = index.items[label_column].astype(str).to_numpy()
    precision, hit1, hitk = [], [], []
    for i, row in enumerate(rows):
        if exclude_rows is not None:
            row = row[row != exclude_rows[i]]
        row = row[row >= 0][:k]
        match = labels[row] == str(query_labels[i])
        precision.append(match.mean() if len(match) else 0.0)
        hit1.append(bool(match[:1].any()))
        hitk.append(bool(match.any()))
    return {f"precision_at_{k}": float(np.mean(precision)), "hit_at_1": float(np.mean(hit1)),
            f"hit_at_{k}": float(np.mean(hitk)), "queries": int(len(rows))}
