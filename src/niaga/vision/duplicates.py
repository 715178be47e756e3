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
#: a product classifier's features make one type's catalogue photos alike, so only near-identical vectors count;
#: the self-supervised backbone's describe one photo, so edited copies stay close and other products do not
MIN_COSINE_CLASSIFIER = 0.999
MIN_COSINE_BACKBONE = 0.9


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


def find_copies(source, output, model_dir=None, *, pairs_output=None, image_col: str | None = None,
                image_root=None, title_col: str | None = None, runtime: str = "auto", max_hash_distance: int = 20,
                min_cosine: float | None = None, min_title: float | None = None, price_ratio: float = 0.5,
                log=None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Group copies of one listing among the images of a folder or a table, using a table's titles too.

    Writes one row per input row (its columns kept) with ``image`` (not for a table of titles alone),
    ``group`` (copies share it; a listing with no copy is alone in its group), ``group_size``, ``similarity``
    (to its closest copy; empty when alone), ``counterfeit_suspect`` and ``reason`` (with ``seller`` and
    ``price`` columns), ``error`` (an unreadable file, or an empty title in a table of titles alone); and the
    copy pairs with their similarity and what differs to ``pairs_output`` (default: beside ``output`` as
    ``<name>.pairs<ext>``). Titles (``title_col``, default: a column named title, nama, ...) are a signal of
    their own, see ``is_copy``; ``min_title`` defaults to ``MIN_TITLE`` for titles alone and
    ``MIN_TITLE_WITH_IMAGES`` beside photos. Without ``model_dir`` only the perceptual hash is used for images.
    """
    from pathlib import Path

    from niaga.cli_options import say
    from niaga.data.io import check_output_path, read_table, with_outputs, write_table
    from niaga.errors import DataError
    from niaga.vision.dataset import IMAGE_COLUMNS, IMAGE_SUFFIXES, load_images, resolve_input

    log = log or say
    output = check_output_path(output)
    pairs_output = check_output_path(pairs_output or output.with_name(f"{output.stem}.pairs{output.suffix}"))
    source = Path(source)
    table = None
    if source.is_file() and source.suffix.lower() not in IMAGE_SUFFIXES:
        table = read_table(source, dtype=str, keep_default_na=False)
        if title_col is not None and title_col not in table.columns:
            raise DataError(f"{source}: no title column {title_col!r}; columns present: "
                            + ", ".join(map(str, table.columns[:20])))
        title_col = title_col or next((c for c in TITLE_COLUMNS if c in table.columns), None)
        if title_col is not None and image_col is None and not any(c in table.columns for c in IMAGE_COLUMNS) \
                and not _id_images_exist(table, source, image_root):
            return _title_copies(table, title_col, output, pairs_output, MIN_TITLE if min_title is None else min_title,
                                 price_ratio, log)
    min_title = MIN_TITLE_WITH_IMAGES if min_title is None else min_title
    refs, table = resolve_input(source, image_col, image_root)
    paths = refs["path"].tolist()
    thumbnails, errors = grey_thumbnails(paths)
    ok = np.flatnonzero([not e for e in errors])
    hashes = perceptual_hashes(thumbnails[ok])
    embeddings = None
    if model_dir is not None:
        from niaga.modeling import load_model
        from niaga.vision.deploy import Runner
        from niaga.vision.pretrain import ContrastivePretrainer

        model = load_model(model_dir, task="vision")
        images, _ = load_images([paths[i] for i in ok], tuple(model.image_size_), progress=True, desc="embedding")
        if isinstance(model, ContrastivePretrainer):  # a self-supervised backbone: an instance descriptor
            embeddings = model.transform(images)
        else:
            _, embeddings = Runner(model, runtime).run(images)
        min_cosine = default_min_cosine(model) if min_cosine is None else min_cosine
    else:
        log("no --model: copies are found by the perceptual hash alone (re-uploads and light edits); a product "
            "model's embedding also finds crops and overlays")
    min_cosine = MIN_COSINE_CLASSIFIER if min_cosine is None else min_cosine  # unused without embeddings
    hash_rows = hash_neighbours(hashes)
    embed_rows = embedding_neighbours(embeddings) if embeddings is not None else None
    lists = [hash_rows[1]] + ([embed_rows[1]] if embed_rows is not None else [])
    left = [np.repeat(np.arange(len(ok)), r.shape[1]) for r in lists]
    right = [r.ravel() for r in lists]
    matcher = None
    if table is not None and title_col is not None and title_col in table.columns:
        from niaga.text.titles import TitleMatcher

        matcher = TitleMatcher(neighbours=NEIGHBOURS).fit(table[title_col].iloc[ok].tolist())
        title_left, title_right = matcher.neighbour_pairs()  # a title's nearest titles are candidates too
        left.append(title_left)
        right.append(title_right)
    pairs = pair_signals(np.concatenate(left), np.concatenate(right), hashes, embeddings)
    if matcher is not None:
        pairs["title_similarity"] = matcher.score(pairs["left"].to_numpy(), pairs["right"].to_numpy())
    pairs["similarity"] = pair_similarity(pairs) if len(pairs) else []
    by_image = image_copy(pairs, max_hash_distance, min_cosine)
    by_title = title_copy(pairs, max_hash_distance, min_cosine, min_title)
    keep = by_image | by_title
    pairs = pairs[keep].reset_index(drop=True)
    pairs["signal"] = np.where(by_image[keep], "image", "title + loosely alike image")
    groups_ok = connected_groups(len(ok), pairs["left"].to_numpy(), pairs["right"].to_numpy())

    n = len(refs)
    groups = np.full(n, -1)
    groups[ok] = groups_ok
    unread = np.flatnonzero(groups < 0)  # an unreadable file is alone in a group of its own
    groups[unread] = groups_ok.max(initial=-1) + 1 + np.arange(len(unread))
    result = pd.DataFrame({"image": refs["image"].to_numpy(), "group": groups})
    result = _group_columns(result, ok, pairs, table, price_ratio, "this photo")
    result["error"] = errors

    sizes = [tuple(int(v) for v in size) for size in _image_sizes([paths[i] for i in ok])]
    differs = [describe_difference(thumbnails[ok[a]], thumbnails[ok[b]], sizes[a], sizes[b])
               for a, b in zip(pairs["left"], pairs["right"])]
    if matcher is not None:
        differs = [f"{d}; {t}" for d, t in zip(differs, matcher.differences(pairs["left"], pairs["right"]))]
    images = refs["image"].to_numpy()
    pair_table = pd.DataFrame({"image": images[ok[pairs["left"].to_numpy()]],
                               "copy": images[ok[pairs["right"].to_numpy()]],
                               "group": groups[ok[pairs["left"].to_numpy()]],
                               "similarity": np.round(pairs["similarity"].to_numpy(dtype=float), 4),
                               "hash_distance": pairs["hash_distance"].to_numpy(),
                               "differs": differs})
    for column in ("cosine", "title_similarity", "signal"):
        if column in pairs:
            pair_table[column] = (np.round(pairs[column].to_numpy(dtype=float), 4) if column != "signal"
                                  else pairs[column].to_numpy())
    written = with_outputs(table, result) if table is not None else result
    write_table(written, output)
    write_table(pair_table, pairs_output)
    signals = "perceptual hash + embedding" if embeddings is not None else "perceptual hash"
    info = {"images": n, "unreadable": int(n - len(ok)), "copy_pairs": int(len(pair_table)),
            "title_pairs": int((pairs["signal"] != "image").sum()),
            "groups_with_copies": int((result.drop_duplicates("group")["group_size"] > 1).sum()),
            "counterfeit_suspects": int(result["counterfeit_suspect"].sum()),
            "signals": signals + (" + titles" if matcher is not None else ""), "pairs_output": str(pairs_output)}
    return written, pair_table, info


def _id_images_exist(table: pd.DataFrame, source, image_root) -> bool:
    """Whether a table's ``id`` column names images (``images/<id>.jpg``, as ``resolve_input`` reads it)."""
    from pathlib import Path

    if "id" not in table.columns:
        return False
    bases = ([Path(image_root)] if image_root else []) + [Path(source).parent, Path(source).parent / "images"]
    return any((b / "images" / f"{i}.jpg").exists() or (b / f"{i}.jpg").exists()
               for i in table["id"].astype(str).head(20) for b in bases)


def _group_columns(result: pd.DataFrame, ok: np.ndarray, pairs: pd.DataFrame, table: pd.DataFrame | None,
                   price_ratio: float, listed: str) -> pd.DataFrame:
    """``group_size``, ``similarity`` (to the closest copy), ``counterfeit_suspect`` and ``reason``."""
    best = np.full(len(ok), np.nan)
    for side in ("left", "right"):
        np.fmax.at(best, pairs[side].to_numpy(), pairs["similarity"].to_numpy(dtype=float))
    result["group_size"] = result.groupby("group")["group"].transform("size")
    result["similarity"] = np.nan
    result.loc[ok, "similarity"] = np.round(best, 4)
    result["counterfeit_suspect"] = False
    result["reason"] = ""
    if table is not None and {"seller", "price"} <= set(table.columns):
        flags, reasons = counterfeit_flags(result["group"].to_numpy(), table["seller"].reset_index(drop=True),
                                           table["price"].reset_index(drop=True), price_ratio, listed)
        result["counterfeit_suspect"], result["reason"] = flags, reasons
    return result


def _title_copies(table: pd.DataFrame, title_col: str, output, pairs_output, min_title: float, price_ratio: float,
                  log) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """A table of titles without images: copies are near-duplicate titles alone (``min_title``). An empty
    title is kept, alone in its group, with an error."""
    from niaga.data.io import with_outputs, write_table
    from niaga.text.titles import TitleMatcher

    log(f"no image column: listings are grouped by their titles ({title_col!r}) alone")
    titles = table[title_col].astype(str).str.strip()
    ok = np.flatnonzero(titles.ne("").to_numpy())
    matcher = TitleMatcher(neighbours=NEIGHBOURS).fit(titles.iloc[ok].tolist())
    pairs = matcher.pairs()
    pairs = pairs[pairs["title_similarity"] >= min_title].reset_index(drop=True)
    pairs["similarity"] = pairs["title_similarity"]
    groups_ok = connected_groups(len(ok), pairs["left"].to_numpy(), pairs["right"].to_numpy())
    n = len(table)
    groups = np.full(n, -1)
    groups[ok] = groups_ok
    empty = np.flatnonzero(groups < 0)
    groups[empty] = groups_ok.max(initial=-1) + 1 + np.arange(len(empty))
    result = _group_columns(pd.DataFrame({"group": groups}), ok, pairs, table, price_ratio, "this title")
    result["error"] = ""
    result.loc[empty, "error"] = f"empty {title_col}"
    lines = ok + 2  # the file's line (header = 1)
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    pair_table = pd.DataFrame({"line": lines[left], "copy_line": lines[right],
                               "title": titles.iloc[ok[left]].to_numpy(), "copy": titles.iloc[ok[right]].to_numpy(),
                               "group": groups[ok[left]], "similarity": np.round(pairs["similarity"].to_numpy(), 4),
                               "title_similarity": np.round(pairs["title_similarity"].to_numpy(), 4),
                               "differs": matcher.differences(left, right), "signal": "title"})
    written = with_outputs(table.reset_index(drop=True), result)
    write_table(written, output)
    write_table(pair_table, pairs_output)
    info = {"images": 0, "listings": n, "unreadable": 0, "empty_titles": int(len(empty)),
            "copy_pairs": int(len(pair_table)), "title_pairs": int(len(pair_table)),
            "groups_with_copies": int((result.drop_duplicates("group")["group_size"] > 1).sum()),
            "counterfeit_suspects": int(result["counterfeit_suspect"].sum()), "signals": "titles",
            "pairs_output": str(pairs_output)}
    return written, pair_table, info


def _image_sizes(paths: list[str]) -> list[tuple[int, int]]:
    """(height, width) of each image file, read from its header."""
    from PIL import Image

    sizes = []
    for path in paths:
        with Image.open(path) as image:
            sizes.append((image.height, image.width))
    return sizes
