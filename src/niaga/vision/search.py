"""Visual search: the trained network's embeddings in a nearest-neighbour index.

Embeddings are the pooled features of the classifier (flip-averaged, L2-normalized), mapped by the model's
retrieval head (``niaga.vision.retrieval``: trained for search, ArcFace) when it has one, so the inner product is
the cosine similarity. Up to ``APPROXIMATE_FROM`` items the index is exact (faiss ``IndexFlatIP``): on tens of
thousands of images a brute-force scan of 128-dimensional vectors takes well under a millisecond, so an
approximate index would only lose recall; above it, a graph index (faiss HNSW, 32 links, efSearch 128) keeps a
query in the millisecond range. numpy scans where faiss is not installed. An index directory holds
``index.faiss`` (faiss's own binary format: vectors, no code), ``items.parquet`` (image, path, labels),
``index.json`` (size, dimension, kind, the sha256 of the weights the vectors came from, checked on every
query) and ``projection/`` (the retrieval head the vectors went through, a niaga model directory).
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
PROJECTION_DIR = "projection"
#: catalogues larger than this get an approximate (HNSW) index
APPROXIMATE_FROM = 100_000
HNSW_LINKS = 32
HNSW_EF_SEARCH = 128


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class VisualIndex:
    """Inner-product search over L2-normalized vectors (exact up to ``approximate_from`` items, HNSW above),
    with a table of what each row is and the ``projection`` (a fitted retrieval head, or None) that turns the
    network's embeddings into the index's vectors: ``project`` applies it to queries."""

    def __init__(self, vectors: np.ndarray, items: pd.DataFrame, weights_id: str = "", projection=None,
                 approximate_from: int = APPROXIMATE_FROM, _faiss_index=None):
        if len(vectors) != len(items):
            raise ValueError(f"{len(vectors)} vectors for {len(items)} items")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.items = items.reset_index(drop=True)
        self.weights_id = weights_id
        self.projection = projection
        faiss = _faiss()
        self.backend = "faiss" if faiss is not None else "numpy"
        self._index = _faiss_index
        if faiss is not None and self._index is None:
            if len(self.vectors) > approximate_from:
                self._index = faiss.IndexHNSWFlat(self.vectors.shape[1], HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
                self._index.hnsw.efConstruction = 80
            else:
                self._index = faiss.IndexFlatIP(self.vectors.shape[1])
            self._index.add(self.vectors)
        if self._index is not None and hasattr(self._index, "hnsw"):
            self._index.hnsw.efSearch = HNSW_EF_SEARCH
        self.kind = "approximate (faiss HNSW)" if self._index is not None and hasattr(self._index, "hnsw") else \
            "exact (faiss IndexFlatIP)" if self._index is not None else "exact (numpy)"

    def project(self, embeddings: np.ndarray) -> np.ndarray:
        """The network's embeddings as this index's vectors (through the retrieval head, when there is one)."""
        embeddings = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        return self.projection.transform(embeddings) if self.projection is not None else embeddings

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
        import shutil

        shutil.rmtree(directory / PROJECTION_DIR, ignore_errors=True)
        if self.projection is not None:
            from niaga.modeling import save_model

            save_model(self.projection, directory / PROJECTION_DIR, task="vision")
        meta = {"items": len(self), "dimension": int(self.vectors.shape[1]), "metric": "cosine (inner product of "
                "L2-normalized embeddings)", "index": self.kind, "weights_id": self.weights_id,
                "projection": "retrieval head (ArcFace)" if self.projection is not None else None}
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
            index, vectors = None, np.load(directory / VECTORS_FILE, allow_pickle=False)
        else:
            raise DataError(f"{directory}: the index has no vectors ({INDEX_FILE} or {VECTORS_FILE})")
        projection = None
        if (directory / PROJECTION_DIR).exists():
            from niaga.modeling import load_model

            projection = load_model(directory / PROJECTION_DIR, task="vision")
        return cls(vectors, items, meta.get("weights_id", ""), projection, _faiss_index=index)


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
