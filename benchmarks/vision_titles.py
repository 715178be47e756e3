"""Near-duplicate listing titles: recall at precision 0.95 of the title layer of `niaga vision duplicates`.

Data: the 16,000 Tokopedia product titles (text/tokopedia_product_titles), no images. The titles are cut in
two by a hash of the lower-cased title: the tuning half chooses each method's threshold, the held-out half
reports (no threshold saw it). In each half, a sample of titles gets one or two seller-style copies, listed
as other sellers' listings; each copy applies two or three of: word reordering, seller noise added (PROMO,
COD, READY STOCK, ORIGINAL, termurah, bracketed tags, emoji, "!!!"), abbreviations from kamus_singkatan
("yang" -> "yg"), a typo (letters swapped, dropped or doubled), case and punctuation changes, a word dropped
(never a number). Look-alike variants are added too: a title with one of its numbers changed ("iPhone 11" ->
"iPhone 12"), plus one seller edit, which is a *different* product and must not be joined.

A pair of titles is a copy when it comes from one original (original-copy or copy-copy). Every other pair is
not; pairs of two real titles are unlabelled and left out (titles identical after lower-casing count as one
listing text). Candidate pairs are
each title's 10 nearest neighbours by TF-IDF cosine, as the command does; a copy pair outside the candidates
counts as missed. Methods: exact match after lower-casing; raw TF-IDF cosine (scikit-learn's char_wb 3-5-grams
on the title as it is, lower-cased by the vectorizer); niaga's score without and with the number / model-code
guard. Each threshold: the highest recall at precision >= 0.95 on the tuning half. Finally niaga's threshold
is applied to the real 16,000 titles to count their natural near-duplicates (and how many cross leaf
categories).

Run: python benchmarks/vision_titles.py [--share 0.2]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from niaga.config import data_path  # noqa: E402
from niaga.text import lexicon  # noqa: E402
from niaga.text.titles import TitleMatcher  # noqa: E402
from niaga.vision.duplicates import MIN_TITLE, MIN_TITLE_WITH_IMAGES  # noqa: E402

SEED = 26
TARGET_PRECISION = 0.95
NEIGHBOURS = 10
TWIN_WORDS = 0.6
NOISE = ["PROMO", "COD", "READY STOCK", "ORIGINAL", "termurah", "[READY]", "(COD)", "BEST SELLER", "100% ORI",
         "Murah", "🔥", "⭐⭐⭐", "!!!", "HOT SALE", "【PROMO】", "Bisa COD", "Gratis Ongkir"]
OPS = ["reorder", "noise", "abbreviate", "typo", "case", "drop"]


def abbreviations() -> dict[str, str]:
    """formal word -> its shortest abbreviation in kamus_singkatan ("yang" -> "yg")."""
    reverse: dict[str, str] = {}
    for slang, formal in lexicon.kamus_singkatan().items():
        if " " not in formal and " " not in slang and len(slang) < len(formal) and slang.isalpha():
            if formal not in reverse or len(slang) < len(reverse[formal]):
                reverse[formal] = slang
    return reverse


def seller_copy(title: str, rng: np.random.Generator, abbrev: dict[str, str], ops: list[str]) -> str:
    words = title.split()
    for op in ops:
        if op == "reorder" and len(words) > 2:
            cut = int(rng.integers(1, len(words)))
            words = words[cut:] + words[:cut] if rng.random() < 0.5 else list(rng.permutation(words))
        elif op == "noise":
            tags = list(rng.choice(NOISE, size=int(rng.integers(1, 3)), replace=False))
            words = (tags + words) if rng.random() < 0.5 else (words + tags)
        elif op == "abbreviate":
            words = [abbrev.get(w.lower(), w) if rng.random() < 0.8 else w for w in words]
        elif op == "typo":
            candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
            if candidates:
                i = int(rng.choice(candidates))
                w, j = words[i], int(rng.integers(1, len(words[i]) - 1))
                kind = rng.integers(3)
                words[i] = (w[:j] + w[j + 1] + w[j] + w[j + 2:] if kind == 0 else w[:j] + w[j + 1:] if kind == 1
                            else w[:j] + w[j] + w[j:])
        elif op == "case":
            text = " ".join(words)
            text = text.upper() if rng.random() < 0.4 else text.lower() if rng.random() < 0.5 else text.title()
            words = text.replace(" ", " - ", 1).split() if rng.random() < 0.5 else (text + " !!").split()
        elif op == "drop":
            candidates = [i for i, w in enumerate(words) if not any(c.isdigit() for c in w)]
            if len(words) > 3 and candidates:
                del words[int(rng.choice(candidates))]
    return " ".join(words)


def variant(title: str, rng: np.random.Generator) -> str | None:
    """The title with one of its numbers changed: a different product ("11" -> "12", "500ml" -> "600ml")."""
    import re

    numbers = list(re.finditer(r"\d+", title))
    if not numbers:
        return None
    m = numbers[int(rng.integers(len(numbers)))]
    value = int(m.group(0))
    new = value + int(rng.choice([1, 2, -1])) if value > 1 else value + 1
    return title[:m.start()] + str(new) + title[m.end():]


def without_twin(titles: pd.Series, share: float = TWIN_WORDS) -> np.ndarray:
    """Titles that no other title matches in ``share`` or more of their words (Jaccard of lower-cased word sets).
    The data is full of one product listed by several sellers: a copy of a title that has such a natural twin
    would match the twin too, and that pair has no label. Originals are drawn among the others; the measure
    is method-independent (words, not niaga's normalization)."""
    from sklearn.feature_extraction.text import CountVectorizer

    words = CountVectorizer(binary=True, token_pattern=r"[^\W_]+").fit_transform(titles)
    counts = np.asarray(words.sum(axis=1)).ravel()
    shared = (words @ words.T).tocoo()
    other = shared.row != shared.col
    rows, cols, both = shared.row[other], shared.col[other], shared.data[other]
    best = np.zeros(len(titles))
    np.maximum.at(best, rows, both / (counts[rows] + counts[cols] - both))
    return best < share


def make_half(titles: pd.Series, share: float, rng: np.random.Generator, abbrev: dict[str, str]) -> pd.DataFrame:
    """The half's real titles (each its own listing) plus seller copies and look-alike variants."""
    # the data's titles identical after lower-casing are one listing text (so are their copies)
    same = pd.factorize(titles.str.lower().str.split().str.join(" "))[0]
    rows = [{"title": t, "group": same[i], "kind": "real"} for i, t in enumerate(titles)]
    eligible = np.flatnonzero(without_twin(titles))
    picked = rng.choice(eligible, size=int(share * len(titles)), replace=False)
    for i in picked:
        for _ in range(int(rng.integers(1, 3))):
            ops = list(rng.choice(OPS, size=int(rng.integers(2, 4)), replace=False))
            rows.append({"title": seller_copy(titles.iat[i], rng, abbrev, ops), "group": same[i], "kind": "copy"})
    group = len(titles)
    for i in rng.choice(eligible, size=int(share * len(titles)), replace=False):
        changed = variant(titles.iat[i], rng)
        if changed is not None:
            rows.append({"title": seller_copy(changed, rng, abbrev, [str(rng.choice(OPS))]), "group": group,
                         "kind": "variant"})
            group += 1
    return pd.DataFrame(rows)


def positives(groups: np.ndarray, kinds: np.ndarray) -> int:
    """Copy pairs with a synthetic listing on at least one side (pairs of two real titles are unlabelled)."""
    frame = pd.DataFrame({"group": groups, "real": kinds == "real"})
    sizes = frame.groupby("group")["real"].agg(["size", "sum"])
    return int((sizes["size"] * (sizes["size"] - 1) // 2 - sizes["sum"] * (sizes["sum"] - 1) // 2).sum())


def labelled(pairs: pd.DataFrame, kinds: np.ndarray) -> pd.DataFrame:
    """The pairs with a copy or a variant on at least one side: two real titles have no label (the data's
    natural near-duplicates are counted apart, below)."""
    return pairs[(kinds[pairs["left"].to_numpy()] != "real") | (kinds[pairs["right"].to_numpy()] != "real")]


def raw_tfidf_pairs(titles: list[str]) -> pd.DataFrame:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(titles)
    _, rows = NearestNeighbors(n_neighbors=NEIGHBOURS + 1, metric="cosine", algorithm="brute").fit(matrix).kneighbors(matrix)
    pairs = np.unique(np.sort(np.stack([np.repeat(np.arange(len(titles)), NEIGHBOURS + 1), rows.ravel()], 1), 1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    score = np.asarray(matrix[pairs[:, 0]].multiply(matrix[pairs[:, 1]]).sum(axis=1)).ravel()
    return pd.DataFrame({"left": pairs[:, 0], "right": pairs[:, 1], "score": score})


def exact_pairs(titles: list[str]) -> pd.DataFrame:
    key = pd.Series([" ".join(t.lower().split()) for t in titles])
    left, right = [], []
    for rows in key.groupby(key).indices.values():
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                left.append(rows[a])
                right.append(rows[b])
    return pd.DataFrame({"left": left, "right": right, "score": np.ones(len(left))})


def method_pairs(half: pd.DataFrame) -> dict[str, pd.DataFrame]:
    titles = half["title"].tolist()
    matcher = TitleMatcher(neighbours=NEIGHBOURS).fit(titles)
    ours = matcher.pairs()
    return {"exact match (lower-cased)": exact_pairs(titles),
            "raw TF-IDF cosine": raw_tfidf_pairs(titles),
            "niaga, no number guard": ours.assign(score=ours["title_cosine"]),
            "niaga": ours.assign(score=ours["title_similarity"])}


def curve(pairs: pd.DataFrame, groups: np.ndarray, kinds: np.ndarray) -> pd.DataFrame:
    """Precision and recall at each distinct score, highest first."""
    total = positives(groups, kinds)
    pairs = labelled(pairs, kinds)
    truth = groups[pairs["left"].to_numpy()] == groups[pairs["right"].to_numpy()]
    order = np.argsort(-pairs["score"].to_numpy(), kind="stable")
    scores, hits = pairs["score"].to_numpy()[order], truth[order]
    tp, found = np.cumsum(hits), np.arange(1, len(hits) + 1)
    last = np.r_[scores[1:] != scores[:-1], True]  # a threshold takes every pair at its score
    return pd.DataFrame({"threshold": scores[last], "precision": tp[last] / found[last],
                         "recall": tp[last] / max(total, 1), "pairs": found[last]})


def choose(c: pd.DataFrame) -> float:
    ok = c[c["precision"] >= TARGET_PRECISION]
    return float(ok.loc[ok["recall"].idxmax(), "threshold"]) if len(ok) else float("inf")


def at(pairs: pd.DataFrame, groups: np.ndarray, threshold: float, kinds: np.ndarray) -> dict:
    chosen = labelled(pairs[pairs["score"] >= threshold - 1e-9], kinds)
    left, right = chosen["left"].to_numpy(), chosen["right"].to_numpy()
    truth = groups[left] == groups[right]
    total = positives(groups, kinds)
    variant_pairs = (kinds[left] == "variant") | (kinds[right] == "variant")
    return {"threshold": round(threshold, 4) if np.isfinite(threshold) else None,
            "precision": round(float(truth.mean()), 4) if len(truth) else None,
            "recall": round(float(truth.sum() / max(total, 1)), 4), "pairs": int(len(chosen)),
            "false_pairs_with_a_variant": int((~truth & variant_pairs).sum())}


def natural(titles: pd.DataFrame, threshold: float) -> dict:
    start = time.perf_counter()
    matcher = TitleMatcher(neighbours=NEIGHBOURS).fit(titles["nama"].tolist())
    pairs = matcher.pairs()
    seconds = time.perf_counter() - start
    found = pairs[pairs["title_similarity"] >= threshold].sort_values("title_similarity", ascending=False)
    leaf = titles["leaf"].to_numpy()
    cross = leaf[found["left"].to_numpy()] != leaf[found["right"].to_numpy()]
    raw = titles["nama"].to_numpy()
    exact = np.array([raw[a].strip().lower() == raw[b].strip().lower() for a, b in zip(found["left"], found["right"])],
                     dtype=bool)
    rng = np.random.default_rng(SEED)
    inexact = found[~exact]
    sample = inexact.iloc[np.sort(rng.choice(len(inexact), size=min(8, len(inexact)), replace=False))] if len(inexact) else inexact
    examples = [{"a": raw[a], "b": raw[b], "score": round(float(s), 3), "same_leaf": bool(leaf[a] == leaf[b]),
                 "differs": d} for a, b, s, d in zip(sample["left"], sample["right"], sample["title_similarity"],
                                                     matcher.differences(sample["left"], sample["right"]))]
    from niaga.vision.duplicates import connected_groups

    groups = connected_groups(len(titles), found["left"].to_numpy(), found["right"].to_numpy())
    sizes = np.bincount(groups)
    largest_leaves = titles["leaf"][groups == sizes.argmax()].value_counts(normalize=True)
    return {"titles": len(titles), "pairs": int(len(found)), "exact_lowercase_pairs": int(exact.sum()),
            "groups_with_copies": int((sizes > 1).sum()), "largest_group": int(sizes.max()),
            "largest_group_leaf": f"{largest_leaves.index[0]} ({largest_leaves.iat[0]:.0%})",
            "titles_in_a_pair": int(len(set(found["left"]) | set(found["right"]))),
            "cross_leaf_pairs": int(cross.sum()), "cross_leaf_share": round(float(cross.mean()), 4) if len(found) else 0,
            "seconds_16k": round(seconds, 2), "examples": examples}


def fashion_part(parity: int, abbrev: dict[str, str], share: float, work: Path) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Candidate pairs of one part of Fashion Product Images val (even / odd ids, as vision_duplicates.py cuts
    it): the photos plus edited copies (vision_duplicates.py's edits) each listed under a seller-style copy of
    the catalogue title (productDisplayName). (pairs with hash distance and title score, truth, copy pairs)."""
    import vision_duplicates as vd

    from niaga.vision import duplicates as dup

    root = data_path("images", "fashion_product_images_small")
    splits = pd.read_csv(root / "splits.csv", dtype=str)
    styles = pd.read_csv(root / "styles.csv", dtype=str, on_bad_lines="skip").set_index("id")["productDisplayName"]
    ids = [i for i in splits.loc[splits["split"] == "val", "id"] if int(i) % 2 == parity and i in styles.index]
    rng = np.random.default_rng(SEED + parity)
    frame = vd.build_part(root, ids, share, rng, work / str(parity))
    titles = styles.reindex(frame["listing"]).fillna("").to_numpy().copy()
    for i in np.flatnonzero(frame["edit"].to_numpy() != ""):
        titles[i] = seller_copy(titles[i], rng, abbrev, list(rng.choice(OPS, size=int(rng.integers(2, 4)), replace=False)))
    thumbs, _ = dup.grey_thumbnails(frame["path"].tolist())
    hashes = dup.perceptual_hashes(thumbs)
    matcher = TitleMatcher(neighbours=NEIGHBOURS).fit(list(titles))
    hash_rows = dup.hash_neighbours(hashes)[1]
    title_left, title_right = matcher.neighbour_pairs()  # candidates: nearest by hash and by title, as the command
    pairs = dup.pair_signals(np.r_[np.repeat(np.arange(len(frame)), hash_rows.shape[1]), title_left],
                             np.r_[hash_rows.ravel(), title_right], hashes, None)
    pairs["title_similarity"] = matcher.score(pairs["left"].to_numpy(), pairs["right"].to_numpy())
    listing = frame["listing"].to_numpy()
    truth = listing[pairs["left"].to_numpy()] == listing[pairs["right"].to_numpy()]
    sizes = frame.groupby("listing").size()
    return pairs, truth, int((sizes * (sizes - 1) // 2).sum())


def with_images(abbrev: dict[str, str], share: float, work: Path) -> dict:
    """The command's rule on listings with photos and titles. Part A (even ids) chooses the title threshold of
    the rule (highest recall at precision >= 0.95, hash thresholds fixed at the command's 20 and twice that);
    part B (odd ids) reports."""
    from niaga.vision import duplicates as dup

    max_hash = 20  # the command's default (chosen on part A by vision_duplicates.py)

    def measure(pairs, truth, total, found):
        return {"precision": round(float(truth[found].mean()), 4) if found.any() else None,
                "recall": round(float((truth & found).sum() / max(total, 1)), 4), "pairs": int(found.sum())}

    part_a, part_b = fashion_part(0, abbrev, share, work), fashion_part(1, abbrev, share, work)
    grid = np.round(np.arange(0.75, 1.0001, 0.05), 2)
    tried = {float(t): measure(*part_a, dup.is_copy(part_a[0], max_hash, 2.0, t)) for t in grid}
    ok = {t: m for t, m in tried.items() if m["precision"] is not None and m["precision"] >= TARGET_PRECISION}
    chosen = max(ok, key=lambda t: (ok[t]["recall"], t)) if ok else 1.0
    pairs, truth, total = part_b
    rules = {"image alone (hash <= 20)": dup.image_copy(pairs, max_hash, 2.0),
             f"title alone (score >= {MIN_TITLE})": pairs["title_similarity"].to_numpy() >= MIN_TITLE,
             f"image, or title >= {MIN_TITLE} + hash <= 40": dup.is_copy(pairs, max_hash, 2.0, MIN_TITLE),
             f"image, or title >= {chosen:.2f} + hash <= 40 (T from part A)": dup.is_copy(pairs, max_hash, 2.0, chosen)}
    if chosen != dup.MIN_TITLE_WITH_IMAGES:
        print(f"note: part A chose T = {chosen}, the command's MIN_TITLE_WITH_IMAGES is {dup.MIN_TITLE_WITH_IMAGES}")
    return {"images_b": int(len(set(pairs["left"]) | set(pairs["right"]))), "copy_pairs_b": total,
            "title_threshold_from_a": chosen, "part_a": {str(k): v for k, v in tried.items()},
            "rules_b": {name: measure(pairs, truth, total, found) for name, found in rules.items()},
            "image_alone_a": measure(*part_a, dup.image_copy(part_a[0], max_hash, 2.0))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--share", type=float, default=0.2, help="share of each half's titles that get copies")
    parser.add_argument("--no-images", action="store_true", help="skip the rule on photos with titles (fashion val)")
    parser.add_argument("--work", default="runs/bench-titles", help="folder for the edited photos")
    args = parser.parse_args()
    titles = pd.read_csv(data_path("text", "tokopedia_product_titles", "small_product_tokopedia.csv"))
    titles["leaf"] = titles["leaf"].str.rsplit(" > ", n=1).str[-1]
    key = titles["nama"].str.strip().str.lower()
    held_out = key.map(lambda t: int(hashlib.md5(t.encode()).hexdigest(), 16) % 2 == 1).to_numpy()
    rng = np.random.default_rng(SEED)
    abbrev = abbreviations()
    halves = {name: make_half(titles.loc[mask, "nama"].reset_index(drop=True), args.share, rng, abbrev)
              for name, mask in (("tuning", ~held_out), ("held-out", held_out))}
    results = {}
    for name, half in halves.items():
        groups, kinds = half["group"].to_numpy(), half["kind"].to_numpy()
        for method, pairs in method_pairs(half).items():
            c = curve(pairs, groups, kinds)
            entry = results.setdefault(method, {})
            if name == "tuning":
                entry["threshold"] = choose(c)
                entry["tuning"] = at(pairs, groups, entry["threshold"], kinds)
            else:
                entry["held_out"] = at(pairs, groups, entry["threshold"], kinds)
    for name, half in halves.items():
        results_counts = half["kind"].value_counts().to_dict()
        halves[name] = {"listings": len(half), **{k: int(v) for k, v in results_counts.items()},
                        "copy_pairs": positives(half["group"].to_numpy(), half["kind"].to_numpy())}
    ours = results["niaga"]["held_out"]
    best_baseline = max(results[m]["held_out"]["recall"] for m in ("exact match (lower-cased)", "raw TF-IDF cosine"))
    met = bool(ours["precision"] is not None and ours["precision"] >= TARGET_PRECISION and ours["recall"] > best_baseline)
    nat = natural(titles, results["niaga"]["threshold"])
    images = None if args.no_images else with_images(abbrev, 0.25, Path(args.work))
    payload = {"data": "text/tokopedia_product_titles (16,000 titles)", "share": args.share, "seed": SEED,
               "halves": halves, "methods": {m: {k: v for k, v in r.items() if k != "threshold"} for m, r in results.items()},
               "target": f"recall at precision >= {TARGET_PRECISION} above both baselines", "met": met, "natural": nat,
               "with_images": images}

    rows = ["| method | threshold (tuning) | held-out precision | held-out recall | pairs | false pairs with a variant |",
            "|---|---|---|---|---|---|"]
    for method, r in results.items():
        h = r["held_out"]
        rows.append(f"| {method} | {h['threshold'] if h['threshold'] is not None else 'none'} | "
                    f"{h['precision'] if h['precision'] is not None else '-'} | {h['recall']:.3f} | {h['pairs']:,} | "
                    f"{h['false_pairs_with_a_variant']} |")
    examples = "\n".join(f"| {e['a']} | {e['b']} | {e['score']} | {'yes' if e['same_leaf'] else 'no'} | {e['differs']} |"
                         for e in nat["examples"])
    tuning, held = halves["tuning"], halves["held-out"]
    markdown = f"""## Vision: near-duplicate listing titles (`niaga vision duplicates`, title layer)

Protocol: the 16,000 Tokopedia product titles, split by an MD5 hash of the lower-cased title into a tuning
half and a held-out half. In each half {args.share:.0%} of the titles get one or two seller-style copies (two or
three of: word reordering, PROMO / COD / READY STOCK / ORIGINAL / emoji / bracketed tags added, kamus_singkatan
abbreviations such as "yang" -> "yg", a typo, case and punctuation changes, a non-number word dropped), and as
many titles again get a look-alike variant (one number changed, e.g. "11" -> "12", plus one seller edit) that
is a different product. Both are drawn among the titles that share less than {TWIN_WORDS:.0%} of their words with any
other title: half the data has such a natural twin (one product listed by several sellers), and a copy's match
with the twin has no label. Tuning half: {tuning['listings']:,} listings, {tuning['copy_pairs']:,} copy pairs;
held-out half: {held['listings']:,} listings, {held['copy_pairs']:,} copy pairs, {held.get('variant', 0):,}
variants. Candidate pairs: each title's {NEIGHBOURS} nearest neighbours (cosine, never all pairs); a copy pair
outside them counts as missed. Pairs of two real titles have no label and are left out (the data's own
titles identical after lower-casing count as one listing text); the natural near-duplicates are counted
apart, below. Thresholds: the highest recall at precision >= {TARGET_PRECISION} on the tuning half, applied to the
held-out half. Script: `benchmarks/vision_titles.py`.

{chr(10).join(rows)}

Target: recall at precision {TARGET_PRECISION} above both baselines (exact match after lower-casing; raw TF-IDF
cosine). **{'Met' if met else 'Not met'}**: niaga reaches recall {ours['recall']:.3f} at precision
{ours['precision']} on the held-out half, against {best_baseline:.3f} for the better baseline.

Natural near-duplicates among the real {nat['titles']:,} titles at niaga's threshold
({results['niaga']['threshold']:.3f}): {nat['pairs']:,} pairs ({nat['exact_lowercase_pairs']:,} of them identical
after lower-casing) over {nat['titles_in_a_pair']:,} titles, in {nat['groups_with_copies']:,} groups (single link: the
largest, {nat['largest_group']:,} titles, mostly {nat['largest_group_leaf']}, chains generic listings of one kind of
product); {nat['cross_leaf_pairs']:,} pairs
({nat['cross_leaf_share']:.1%}) join two different leaf categories (some of the 8 leaves are near-synonyms:
Ac Portable / Ac Reflektor, Dj Controller / Launchpad). Finding them took {nat['seconds_16k']} s for 16,000
titles. Examples (not identical after lower-casing):

| title | other listing's title | score | same leaf | what differs |
|---|---|---|---|---|
{examples}
"""
    if images:
        rule_rows = "\n".join(f"| {name} | {r['precision'] if r['precision'] is not None else '-'} | {r['recall']:.3f} | "
                              f"{r['pairs']:,} |" for name, r in images["rules_b"].items())
        image_a = images["image_alone_a"]
        markdown += f"""
**Titles with photos** (the command's rule): Fashion Product Images val, cut by product id as in the section
above; in each part 25 % of the photos get an edited copy (vision_duplicates.py's edits: crop, recolour,
watermark, text overlay, JPEG, crop + text) listed under a seller-style copy of the catalogue title
(productDisplayName, edited as above). Candidates: each listing's 10 nearest by hash and by title. The rule:
a copy when the hashes are within 20 bits (the command's default, from part A), or when the titles score at
least T and the hashes are within 40 bits (with a model: or the embedding within 0.05 of its threshold).
T is chosen on part A (highest recall at precision >= 0.95 over 0.75-1.00; the image signal alone has
precision {image_a['precision']} and recall {image_a['recall']:.3f} there): T = {images['title_threshold_from_a']:.2f}.
Part B ({images['copy_pairs_b']:,} copy pairs) reports:

| rule | precision (B) | recall (B) | pairs |
|---|---|---|---|
{rule_rows}

Catalogue titles are generic (one brand's black shoes share a title), so titles alone join different products
(second row), and beside photos a title must be close to exact: the command's default is
{MIN_TITLE_WITH_IMAGES} beside photos (T) and {MIN_TITLE} for a table of titles alone. Verdict for photos with
titles: the title signal adds recall over the image alone at a small cost in precision; neither reaches
precision 0.95 on part B (the hash alone does not either), so this part is **not met** against "recall at
precision 0.95".
"""
    save("vision-titles", payload, markdown)


if __name__ == "__main__":
    main()
