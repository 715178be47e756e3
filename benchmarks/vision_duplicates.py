"""Duplicate and counterfeit listings: recall at precision 0.95 of `niaga vision duplicates`' signals.

Data: Fashion Product Images (small), the `val` split (the `test` split is held back). Val is cut in two by
the parity of the product id: part A chooses the thresholds, part B reports (no threshold saw B). In each
part, 25 % of the catalogue photos get one edited copy each, listed as another seller's product: a crop
(8-20 % off one or two sides), a recolour (brightness, saturation, hue), a watermark (semi-transparent text
across the photo), a text overlay (an opaque price banner), a JPEG recompression (quality 25-50), or a crop
plus a banner. The data's own exact duplicates (the same photo under two product ids) count as copies too.

A pair of images is a copy when they are the same photo (an original and its edit, or identical pixels).
Candidate pairs are each image's 10 nearest neighbours by hash and, with a model, by embedding (as the
command does); a copy pair outside the candidates counts as missed. For each signal (perceptual hash alone,
the model's embedding alone, both with the command's OR rule) the threshold(s) with the highest recall at
precision >= 0.95 on part A are applied to part B; the table reports B's precision and recall, per edit too.

Run: python benchmarks/vision_duplicates.py [--model DIR] [--share 0.25]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageEnhance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

from niaga.config import data_path  # noqa: E402
from niaga.vision import duplicates as dup  # noqa: E402

EDITS = ["crop", "recolour", "watermark", "text overlay", "jpeg", "crop + text"]
SEED = 26
TARGET_PRECISION = 0.95


def edit(image: Image.Image, kind: str, rng: np.random.Generator) -> Image.Image:
    w, h = image.size
    if kind in ("crop", "crop + text"):
        cut = rng.uniform(0.08, 0.2, size=2)
        left, top = (int(w * cut[0]), 0) if rng.random() < 0.5 else (0, int(h * cut[1]))
        image = image.crop((left, top, w - int(w * cut[0] * rng.random()), h - int(h * cut[1] * rng.random())))
        image = image.resize((w, h))  # a re-listing keeps the marketplace's photo size
    if kind == "recolour":
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.8, 1.25))
        image = ImageEnhance.Color(image).enhance(rng.uniform(0.6, 1.5))
    if kind == "watermark":
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for row in range(0, h, 14):
            draw.text((int(rng.integers(-10, 5)), row), "TOKO MURAH", fill=(255, 255, 255, 110))
        image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    if kind in ("text overlay", "crop + text"):
        draw = ImageDraw.Draw(image)
        top = int(rng.integers(0, h - 16))
        draw.rectangle([0, top, w, top + 14], fill=(220, 30, 30))
        draw.text((3, top + 2), f"Rp{int(rng.integers(10, 99))}rb", fill=(255, 255, 255))
    if kind == "jpeg":
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=int(rng.integers(25, 51)))
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return image


def build_part(root: Path, ids: list[str], share: float, rng: np.random.Generator, out: Path) -> pd.DataFrame:
    """The part's photos plus edited copies written to ``out``: image path, listing (the photo it shows), edit."""
    rows = []
    for pid in ids:
        rows.append({"path": str(root / "images" / f"{pid}.jpg"), "listing": pid, "edit": ""})
    chosen = rng.choice(len(ids), size=int(len(ids) * share), replace=False)
    out.mkdir(parents=True, exist_ok=True)
    for n, i in enumerate(chosen):
        kind = EDITS[n % len(EDITS)]
        with Image.open(root / "images" / f"{ids[i]}.jpg") as image:
            copy = edit(image.convert("RGB"), kind, rng)
        path = out / f"copy_{ids[i]}.png"
        copy.save(path)
        rows.append({"path": str(path), "listing": ids[i], "edit": kind})
    frame = pd.DataFrame(rows)
    # the data's own duplicates: one listing for identical pixels
    digest = {}
    for row in frame[frame["edit"] == ""].itertuples():
        with Image.open(row.path) as image:
            key = hashlib.sha1(np.asarray(image.convert("RGB")).tobytes()).hexdigest()
        digest.setdefault(key, row.listing)
        if digest[key] != row.listing:
            frame.loc[frame["listing"] == row.listing, "listing"] = digest[key]
    return frame


def signals(frame: pd.DataFrame, model_dir: str | None, runtime: str) -> tuple[pd.DataFrame, dict]:
    """Candidate pairs with hash distance (and cosine), whether each is a copy, and the edit involved."""
    start = time.perf_counter()
    thumbs, errors = dup.grey_thumbnails(frame["path"].tolist())
    assert not any(errors), [e for e in errors if e][:3]
    hashes = dup.perceptual_hashes(thumbs)
    seconds = {"hash": time.perf_counter() - start}
    embeddings = None
    if model_dir:
        from niaga.modeling import load_model
        from niaga.vision.dataset import load_images
        from niaga.vision.deploy import Runner

        start = time.perf_counter()
        from niaga.vision.pretrain import ContrastivePretrainer

        model = load_model(model_dir, task="vision")
        images, _ = load_images(frame["path"].tolist(), tuple(model.image_size_))
        if isinstance(model, ContrastivePretrainer):  # the self-supervised backbone: its features, no heads
            embeddings = model.transform(images)
        else:
            _, embeddings = Runner(model, runtime).run(images)
        seconds["embed"] = time.perf_counter() - start
    pairs = dup.candidate_pairs(dup.hash_neighbours(hashes),
                                dup.embedding_neighbours(embeddings) if embeddings is not None else None,
                                hashes, embeddings)
    listing = frame["listing"].to_numpy()
    pairs["copy"] = listing[pairs["left"]] == listing[pairs["right"]]
    edits = frame["edit"].to_numpy()
    pairs["edit"] = np.where(edits[pairs["left"]] != "", edits[pairs["left"]], edits[pairs["right"]])
    # every true copy pair, found or not: the recall's denominator
    sizes = frame.groupby("listing").size()
    total = int((sizes * (sizes - 1) // 2).sum())
    per_edit = {k: int(v) for k, v in frame[frame["edit"] != ""].groupby("edit").size().items()}
    if total > sum(per_edit.values()):
        per_edit["identical (in the data)"] = total - sum(per_edit.values())
    return pairs, {"copy_pairs": total, "copy_pairs_per_edit": per_edit, "seconds": seconds}


def rule(pairs: pd.DataFrame, hash_max: float, cos_min: float) -> np.ndarray:
    found = pairs["hash_distance"].to_numpy() <= hash_max
    if "cosine" in pairs:
        found |= pairs["cosine"].to_numpy() >= cos_min
    return found


def measure(pairs: pd.DataFrame, found: np.ndarray, info: dict) -> dict:
    tp = int((found & pairs["copy"]).sum())
    precision = tp / max(int(found.sum()), 1)
    result = {"precision": round(precision, 4), "recall": round(tp / max(info["copy_pairs"], 1), 4), "found": int(found.sum())}
    result["recall_per_edit"] = {}
    for kind, n in info["copy_pairs_per_edit"].items():
        key = "" if kind.startswith("identical") else kind
        hit = int((found & pairs["copy"] & (pairs["edit"] == key)).sum())
        result["recall_per_edit"][kind] = round(hit / max(n, 1), 4)
    return result


def choose(pairs: pd.DataFrame, info: dict, use_hash: bool, use_cos: bool) -> tuple[float, float]:
    """The thresholds with the highest recall at precision >= 0.95 (part A)."""
    hash_grid = np.arange(0, 65) if use_hash else [-1]
    # coarse steps, then fine ones near 1 (a descriptor whose copies sit within 1e-3 of identical needs them)
    cos_grid = np.unique(np.round(np.concatenate([np.arange(0.80, 0.99, 0.005), 1 - np.geomspace(1e-2, 1e-5, 40)]),
                                  6)) if use_cos else [2.0]
    best, choice = -1.0, (hash_grid[0], cos_grid[-1])
    for h in hash_grid:
        for c in cos_grid:
            m = measure(pairs, rule(pairs, h, c), info)
            if m["precision"] >= TARGET_PRECISION and m["recall"] > best:
                best, choice = m["recall"], (float(h), float(c))
    return float(choice[0]), float(choice[1])


def describe(model_dir: str) -> tuple[str, str]:
    """(short name for the table, a sentence on what the model is)."""
    import json

    meta = json.loads((Path(model_dir) / "model.json").read_text())
    if meta["class"].endswith("ContrastivePretrainer"):
        t = meta.get("training", {})
        return ("self-supervised backbone", f"the self-supervised backbone `{model_dir}` (`niaga vision pretrain`, "
                f"{t.get('epochs')} epochs on {t.get('images', 0):,} unlabelled train-split photos: none of these val "
                "photos or their copies)")
    val = meta.get("metrics", {}).get("val", {}).get("article", {})
    accuracy = val.get("accuracy") if isinstance(val, dict) else val
    return ("product classifier", f"the product classifier `{model_dir}` (val articleType accuracy "
            f"{accuracy if accuracy is None else f'{accuracy:.3f}'}): trained to make photos of one class alike, so "
            "on white-background catalogue photos different products of one type are about as close as a copy and "
            "its edit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[],
                        help="a niaga vision model directory, a classifier or a pretrain backbone (adds its embedding "
                             "rows; may be given several times)")
    parser.add_argument("--runtime", default="auto")
    parser.add_argument("--share", type=float, default=0.25)
    parser.add_argument("--work", default="runs/bench-duplicates")
    args = parser.parse_args()

    from niaga.vision.duplicates import default_min_cosine

    root = data_path("images", "fashion_product_images_small")
    splits = pd.read_csv(root / "splits.csv", dtype=str)
    val = splits[splits["split"] == "val"]["id"].tolist()
    parts = {"A (thresholds)": [i for i in val if int(i) % 2 == 0], "B (reported)": [i for i in val if int(i) % 2 == 1]}
    rng = np.random.default_rng(SEED)
    frames = {name: build_part(root, ids, args.share, rng, Path(args.work) / name.split()[0])
              for name, ids in parts.items()}
    frame_b = frames["B (reported)"]
    results, defaults, notes, seconds = {}, {}, [], {}
    for model_dir in [None, *args.model]:
        (pairs_a, info_a), (pairs_b, info_b) = (signals(frames[name], model_dir, args.runtime) for name in parts)
        seconds[model_dir or "hash"] = info_b["seconds"]
        if model_dir is None:
            methods = {"perceptual hash alone": (True, False)}
        else:
            short, sentence = describe(model_dir)
            notes.append(sentence)
            methods = {f"{short}: embedding alone": (False, True),
                       f"{short}: hash + embedding (the command's rule)": (True, True)}
        for method, (use_hash, use_cos) in methods.items():
            h, c = choose(pairs_a, info_a, use_hash, use_cos)
            results[method] = {"model": model_dir, "thresholds": {"max_hash_distance": h if use_hash else None,
                                                                  "min_cosine": c if use_cos else None},
                               "part_a": measure(pairs_a, rule(pairs_a, h, c), info_a),
                               "part_b": measure(pairs_b, rule(pairs_b, h, c), info_b)}
        if model_dir is not None:
            from niaga.modeling import load_model

            cosine = default_min_cosine(load_model(model_dir, task="vision"))
            defaults[f"{short} (hash ≤ 20, cosine ≥ {cosine:g})"] = measure(pairs_b, rule(pairs_b, 20, cosine), info_b)
        else:
            defaults["no model (hash ≤ 20)"] = measure(pairs_b, rule(pairs_b, 20, 2.0), info_b)
    payload = {"images_b": int(len(frame_b)), "copies_b": int((frame_b["edit"] != "").sum()),
               "copy_pairs_b": info_b["copy_pairs"], "per_edit_b": info_b["copy_pairs_per_edit"],
               "models": args.model, "results": results, "command_defaults_b": defaults, "seconds_b": seconds}

    lines = ["## Duplicate and counterfeit listings (`benchmarks/vision_duplicates.py`)", "",
             f"Fashion val, cut in two by product id: part A ({len(frames['A (thresholds)']):,} images) chose "
             f"each signal's thresholds (highest recall at precision ≥ 0.95), part B ({len(frame_b):,} images, "
             f"{payload['copies_b']:,} of them edited copies of its photos, {info_b['copy_pairs']:,} copy pairs with "
             "the data's own identical photos) reports them. Edits: crop, recolour, watermark, text overlay, JPEG "
             "recompression, crop + text, one kind per copy. Protocol: test never used for a choice (B); the "
             "models never saw these copies (the classifier picked its epoch on val photos; the self-supervised "
             "backbone read train photos only). Target (issue 26): recall at precision 0.95, against perceptual "
             "hashing alone.", "",
             "| signal | thresholds (from A) | precision (B) | recall (B) | " +
             " | ".join(f"recall: {k}" for k in info_b["copy_pairs_per_edit"]) + " |",
             "|---|---|---|---|" + "---|" * len(info_b["copy_pairs_per_edit"])]
    for method, r in results.items():
        t = r["thresholds"]
        shown = ", ".join(f"{k} {v:g}" for k, v in t.items() if v is not None)
        b = r["part_b"]
        lines.append(f"| {method} | {shown} | {b['precision']:.3f} | **{b['recall']:.3f}** | "
                     + " | ".join(f"{v:.2f}" for v in b["recall_per_edit"].values()) + " |")
    for name, d in defaults.items():
        lines.append(f"| the command's defaults, {name} | | {d['precision']:.3f} | {d['recall']:.3f} | "
                     + " | ".join(f"{v:.2f}" for v in d["recall_per_edit"].values()) + " |")
    if notes:
        lines += ["", "Embeddings: " + "; ".join(notes) + "."]
    base = results["perceptual hash alone"]["part_b"]["recall"]
    combined = {m: r["part_b"]["recall"] for m, r in results.items() if "hash + embedding" in m}
    if combined:
        best = max(combined, key=combined.get)
        precision = results[best]["part_b"]["precision"]
        # met: more recall than the hash at the thresholds chosen on A, and the precision held on B
        met = combined[best] > base and precision >= TARGET_PRECISION
        lines += ["", f"Verdict: {best} recall {combined[best]:.3f} at precision {precision:.3f} on B, against the "
                  f"hash alone {base:.3f} at {results['perceptual hash alone']['part_b']['precision']:.3f} "
                  f"(thresholds for precision ≥ 0.95 chosen on A): **{'met' if met else 'not met'}**"
                  + ("" if met else " (the precision chosen on A does not hold on B, and crops and text banners stay "
                                    "unfound)") + "."]
    else:
        lines += ["", "Not measured here: the embedding rows (run with `--model DIR`). Verdict: **not met** until "
                  "those rows exist."]
    lines.append("\nSeconds on part B: " + "; ".join(f"{k}: " + ", ".join(f"{n} {v:.1f}" for n, v in sec.items())
                                                  for k, sec in seconds.items()) + ".")
    save("vision-duplicates", payload, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
