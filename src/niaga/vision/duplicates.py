"""Duplicate and counterfeit listings: the same photo listed again, as it is or edited.

Marketplaces see a listing's photo re-uploaded by other sellers, often a brand's catalogue photo under a
cheaper offer, and often edited: cropped, recoloured, watermarked, text stamped on, recompressed. Two signals
find the copies, as the marketplaces' own systems do:

- a perceptual hash (pHash: the signs of the lowest 16 x 16 frequencies of a 64 x 64 grey thumbnail's DCT,
  256 bits) finds re-uploads and light edits (resizing, recompression, small colour shifts) without any model.
  The common 64-bit pHash is too coarse for catalogue photos on white backgrounds: on fashion val it reaches
  recall 0.24 at precision 0.95 where 256 bits reach 0.46 (benchmarks/vision_duplicates.py);
- the product network's embedding (cosine) finds heavier edits (crops, overlays) that move many hash bits.

Each image's nearest neighbours in both spaces are the candidate pairs (never all n^2 pairs); a pair is a copy
when its hash distance or its embedding similarity passes a threshold. Listing titles are a signal of their
own (``niaga.text.titles``: seller noise stripped, informal Indonesian normalized, character n-grams, a
number / model-code guard): each title's nearest titles are candidates too, and a pair whose titles are
near-duplicates is a copy when its images are at least loosely alike (within twice the hash distance, or
``title_margin`` below the embedding threshold); a table of titles without images is grouped by titles
alone. Copies form groups (connected components). With ``seller`` and ``price``
columns a group whose listings come from several sellers and where a listing is priced far below the group's
median is flagged as the counterfeit pattern. ``imagehash`` computes the same pHash, but one image at a time
in Python; the DCT below hashes a whole batch at once with scipy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HASH_SIZE = 16         # 16 x 16 low frequencies -> 256 bits
THUMB = 64             # the grey thumbnail the DCT runs on (4 x the hash, as imagehash does)
NEIGHBOURS = 10        # candidate pairs per image in each space
# The title score at which titles are near-duplicates (benchmarks/vision_titles.py): for a table of titles alone,
# the highest recall at precision 0.95 on the tuning half of the Tokopedia titles (0.743); beside photos, on
# Fashion val part A, where catalogue titles are generic and a title must be close to exact to back a loosely
# alike photo (0.95).
MIN_TITLE = 0.75
MIN_TITLE_WITH_IMAGES = 0.95
TITLE_COLUMNS = ("title", "nama", "product_name", "judul", "productDisplayName")
#: embedding cosine at or above which two photos are copies (precision 0.95 on part A of the fashion benchmark):
#: a product classifier's features make one type's catalogue photos alike, and the 22-minute self-supervised
#: backbone's are not yet discriminative enough to do better, so for both only near-identical vectors count
MIN_COSINE_CLASSIFIER = 0.999
MIN_COSINE_BACKBONE = 0.9997


def default_min_cosine(model) -> float:
    """The copy threshold on a model's embedding cosine: it depends on what the embedding was trained for."""
    from niaga.vision.pretrain import ContrastivePretrainer

    return MIN_COSINE_BACKBONE if isinstance(model, ContrastivePretrainer) else MIN_COSINE_CLASSIFIER


def grey_thumbnails(paths: list[str], size: int = THUMB) -> tuple[np.ndarray, list[str]]:
    """(n, size, size) float32 grey thumbnails, squashed to a square as pHash does (so a crop changes it, a
    resize does not), and each file's error ("" where it was read)."""
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    out = np.zeros((len(paths), size, size), dtype=np.float32)
    errors = [""] * len(paths)

    def work(i: int) -> None:
        try:
            with Image.open(paths[i]) as image:
                out[i] = np.asarray(image.convert("L").resize((size, size), Image.LANCZOS), dtype=np.float32)
        except FileNotFoundError:
            errors[i] = "file not found"
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            errors[i] = f"not a readable image ({type(exc).__name__})"

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(len(paths))))
    return out, errors


def perceptual_hashes(thumbnails: np.ndarray) -> np.ndarray:
    """256-bit pHash of each thumbnail as a (n, 32) uint8 array (the bytes of its bits)."""
    from scipy.fft import dctn

    if len(thumbnails) == 0:
        return np.zeros((0, HASH_SIZE * HASH_SIZE // 8), dtype=np.uint8)
    low = dctn(thumbnails, type=2, axes=(1, 2), norm="ortho")[:, :HASH_SIZE, :HASH_SIZE].reshape(len(thumbnails), -1)
    # the median over the AC terms (the DC term is the mean brightness and would dominate)
    bits = low > np.median(low[:, 1:], axis=1, keepdims=True)
    return np.packbits(bits, axis=1)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit distances between rows of packed hashes (broadcasting)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1)


def hash_neighbours(hashes: np.ndarray, k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest other hashes of each hash: (distances, rows), each (n, k'), nearest first."""
    n = len(hashes)
    k = min(k, max(n - 1, 0))
    if k == 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0), dtype=np.int64)
    try:
        import faiss

        index = faiss.IndexBinaryFlat(hashes.shape[1] * 8)
        index.add(np.ascontiguousarray(hashes))
        distances, rows = index.search(np.ascontiguousarray(hashes), k + 1)
    except ImportError:  # numpy: blocks of the n x n distance matrix
        distances = np.empty((n, k + 1), dtype=np.int64)
        rows = np.empty((n, k + 1), dtype=np.int64)
        for start in range(0, n, 512):
            block = hamming(hashes[start:start + 512, None, :], hashes[None, :, :])
            part = np.argsort(block, axis=1, kind="stable")[:, :k + 1]
            rows[start:start + 512] = part
            distances[start:start + 512] = np.take_along_axis(block, part, axis=1)
    return _drop_self(distances.astype(np.int64), rows.astype(np.int64), k)


def embedding_neighbours(embeddings: np.ndarray, k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most similar other embeddings (cosine; rows L2-normalized here): (similarities, rows)."""
    from niaga.vision.search import VisualIndex

    n = len(embeddings)
    k = min(k, max(n - 1, 0))
    if k == 0:
        return np.zeros((n, 0), dtype=np.float32), np.zeros((n, 0), dtype=np.int64)
    vectors = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    index = VisualIndex(vectors.astype(np.float32), pd.DataFrame(index=range(n)))
    scores, rows = index.search(vectors, k + 1)
    return _drop_self(scores, rows.astype(np.int64), k)


def _drop_self(values: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's neighbour list without the row itself (exact copies may rank before it)."""
    n = len(rows)
    self_hit = rows == np.arange(n)[:, None]
    # where the row is not among the k + 1 found (ties), drop the last neighbour instead
    self_hit[~self_hit.any(axis=1), -1] = True
    keep = ~self_hit
    return values[keep].reshape(n, k), rows[keep].reshape(n, k)


def title_similarity(titles: pd.Series, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Near-duplicate score of two listings' titles, per pair (``niaga.text.titles.TitleMatcher``: cosine of
    the normalized titles' character 3-5-grams, halved where their numbers or model codes differ)."""
    from niaga.text.titles import TitleMatcher

    return TitleMatcher().fit(titles.tolist()).score(left, right)


def candidate_pairs(hash_rows: tuple[np.ndarray, np.ndarray], embed_rows: tuple[np.ndarray, np.ndarray] | None,
                    hashes: np.ndarray, embeddings: np.ndarray | None) -> pd.DataFrame:
    """Every (i < j) pair that is among either image's neighbours, with ``hash_distance`` and, with an
    embedding, ``cosine``."""
    n = len(hashes)
    lists = [hash_rows[1]] + ([embed_rows[1]] if embed_rows is not None else [])
    left = np.concatenate([np.repeat(np.arange(n), r.shape[1]) for r in lists])
    right = np.concatenate([r.ravel() for r in lists])
    return pair_signals(left, right, hashes, embeddings)


def pair_signals(left: np.ndarray, right: np.ndarray, hashes: np.ndarray, embeddings: np.ndarray | None
                 ) -> pd.DataFrame:
    """The distinct (i < j) pairs among (left, right) with their ``hash_distance`` and, with an embedding,
    ``cosine``."""
    pairs = np.unique(np.sort(np.stack([np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)],
                                       axis=1), axis=1), axis=0).reshape(-1, 2)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    frame = pd.DataFrame({"left": pairs[:, 0], "right": pairs[:, 1]})
    frame["hash_distance"] = hamming(hashes[frame["left"].to_numpy()], hashes[frame["right"].to_numpy()])
    if embeddings is not None:
        vectors = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        frame["cosine"] = np.einsum("ij,ij->i", vectors[frame["left"].to_numpy()], vectors[frame["right"].to_numpy()])
    return frame


def pair_similarity(pairs: pd.DataFrame) -> np.ndarray:
    """One 0-1 similarity per pair: the stronger of the hash's (1 - distance / 256) and the embedding's cosine."""
    similarity = 1.0 - pairs["hash_distance"].to_numpy(dtype=float) / (HASH_SIZE * HASH_SIZE)
    if "cosine" in pairs:
        similarity = np.maximum(similarity, pairs["cosine"].to_numpy(dtype=float))
    return np.clip(similarity, 0.0, 1.0)


def is_copy(pairs: pd.DataFrame, max_hash_distance: int, min_cosine: float, min_title: float = 0.8,
            title_margin: float = 0.05) -> np.ndarray:
    """Which candidate pairs are copies of one listing: the images say so (a close hash or a close embedding),
    or (with titles) the titles are near-duplicates and the images at least loosely alike: a hash within twice
    ``max_hash_distance`` or an embedding within ``title_margin`` of ``min_cosine``."""
    return image_copy(pairs, max_hash_distance, min_cosine) | title_copy(pairs, max_hash_distance, min_cosine,
                                                                         min_title, title_margin)


def image_copy(pairs: pd.DataFrame, max_hash_distance: int, min_cosine: float) -> np.ndarray:
    copy = pairs["hash_distance"].to_numpy() <= max_hash_distance
    if "cosine" in pairs:
        copy |= pairs["cosine"].to_numpy() >= min_cosine
    return copy


def title_copy(pairs: pd.DataFrame, max_hash_distance: int, min_cosine: float, min_title: float = 0.8,
               title_margin: float = 0.05) -> np.ndarray:
    """Near-duplicate titles on loosely alike images (False everywhere without titles)."""
    if "title_similarity" not in pairs:
        return np.zeros(len(pairs), dtype=bool)
    loose = pairs["hash_distance"].to_numpy() <= 2 * max_hash_distance
    if "cosine" in pairs:
        loose |= pairs["cosine"].to_numpy() >= min_cosine - title_margin
    return loose & (pairs["title_similarity"].to_numpy() >= min_title)


def describe_difference(a: np.ndarray, b: np.ndarray, size_a: tuple[int, int], size_b: tuple[int, int]) -> str:
    """What differs between two copies, read off their grey thumbnails and sizes: 'identical', 'resized',
    'cropped', 'recoloured', 'overlay (text or watermark)', or 'edited'."""
    notes = []
    ratio_a, ratio_b = size_a[0] / max(size_a[1], 1), size_b[0] / max(size_b[1], 1)
    if abs(ratio_a - ratio_b) > 0.03 * max(ratio_a, ratio_b):
        notes.append("cropped")
    elif size_a != size_b:
        notes.append("resized")
    difference = np.abs(a - b)
    if abs(float(a.mean()) - float(b.mean())) > 8 or abs(float(a.std()) - float(b.std())) > 8:
        notes.append("recoloured")
    elif "cropped" not in notes:
        changed = difference > 40
        # a small part of the picture changed a lot: something was stamped on it
        if 0.005 < changed.mean() < 0.35:
            notes.append("overlay (text or watermark)")
        elif difference.mean() > 6 and not notes:
            notes.append("edited")
    return ", ".join(notes) if notes else "identical"


def connected_groups(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Group number of each of ``n`` items given the copy pairs (groups numbered by their first item)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    first = pd.Series(np.arange(n)).groupby(labels).transform("min").to_numpy()
    return pd.factorize(first, sort=True)[0]


def counterfeit_flags(groups: np.ndarray, sellers: pd.Series, prices: pd.Series, price_ratio: float,
                      listed: str = "this photo") -> tuple[np.ndarray, list[str]]:
    """The counterfeit pattern: a copy group listed by several sellers in which this listing's price is below
    ``price_ratio`` times the group's median price. (flags, reasons)."""
    frame = pd.DataFrame({"group": groups, "seller": sellers.fillna("").astype(str).to_numpy(),
                          "price": pd.to_numeric(prices, errors="coerce").to_numpy()})
    sellers_per_group = frame.groupby("group")["seller"].transform(lambda s: s[s != ""].nunique())
    median = frame.groupby("group")["price"].transform("median")
    flagged = (sellers_per_group >= 2) & frame["price"].notna() & (frame["price"] < price_ratio * median)
    reasons = [""] * len(frame)
    for i in np.flatnonzero(flagged.to_numpy()):
        reasons[i] = (f"priced {frame['price'].iat[i]:,.0f}, {frame['price'].iat[i] / median.iat[i]:.0%} of the "
                      f"group's median {median.iat[i]:,.0f}; {int(sellers_per_group.iat[i])} sellers list {listed}")
    return flagged.to_numpy(), reasons
