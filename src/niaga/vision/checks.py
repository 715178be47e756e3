"""The data checks chapter 6 asks for, before any training: unreadable images, duplicates, class imbalance and
an inconsistent category tree.

- **Unreadable**: missing, empty, non-image or corrupt files (from the decoding pass), listed with the reason;
  they are left out of training.
- **Duplicates**: byte-identical files and images whose decoded pixels are identical (the same photo saved
  twice); groups that cross splits (a val image also in train flatters val) or carry different labels are
  counted apart. Reported, not removed: the splits are given.
- **Imbalance**: per level, training images per class, the largest / smallest ratio, and classes thin in
  training or absent from val.
- **Hierarchy**: a child (articleType) that sits under more than one parent (subCategory) in the labels. The
  resolution is the majority parent, counted on the training split: the tree a consistent predictor follows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd


def parent_maps(table: pd.DataFrame, levels: list[str]) -> tuple[dict[str, dict[str, str]], list[dict]]:
    """For each level below the top, child -> majority parent (ties: the parent seen first in sorted order),
    and the children found under more than one parent (with counts). Counted on the rows given."""
    maps, conflicts = {}, []
    for parent, child in zip(levels, levels[1:]):
        counts = table.groupby([child, parent]).size()
        mapping = {}
        for name, group in counts.groupby(level=0):
            ranked = sorted(((int(n), p) for (_, p), n in group.items()), key=lambda t: (-t[0], t[1]))
            mapping[name] = ranked[0][1]
            if len(ranked) > 1:
                conflicts.append({"level": child, "class": name, "majority_parent": ranked[0][1],
                                  "parents": {p: n for n, p in ranked}, "rows_resolved": sum(n for n, _ in ranked[1:])})
        maps[child] = mapping
    return maps, conflicts


def resolve_hierarchy(table: pd.DataFrame, levels: list[str], maps: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The labels with every parent re-derived from the finest level through the majority-parent maps."""
    out = table.copy()
    for parent, child in reversed(list(zip(levels, levels[1:]))):
        mapped = out[child].map(maps[child])
        out[parent] = mapped.where(mapped.notna(), out[parent])
    return out


def duplicate_groups(paths: list[str], images: np.ndarray, ok: np.ndarray) -> tuple[list[list[int]], list[list[int]]]:
    """Row groups of byte-identical files, and of images with identical decoded pixels (readable ones only)."""
    by_bytes, by_pixels = {}, {}
    for i, path in enumerate(paths):
        if not ok[i]:
            continue
        try:
            by_bytes.setdefault(hashlib.sha1(Path(path).read_bytes()).hexdigest(), []).append(i)
        except OSError:
            continue
        by_pixels.setdefault(hashlib.sha1(images[i].tobytes()).hexdigest(), []).append(i)
    return ([g for g in by_bytes.values() if len(g) > 1], [g for g in by_pixels.values() if len(g) > 1])


def run_checks(table: pd.DataFrame, images: np.ndarray, errors: list[str], levels: list[str], heads: list[str],
               train_split: str = "train", val_split: str = "val", min_train: int = 20) -> dict:
    """All checks over a dataset frame (image, path, split, labels) and its decoded images; a JSON-able dict."""
    ok = np.array([not e for e in errors])
    report: dict = {"images": int(len(table)), "splits": {str(k): int(v) for k, v in table["split"].value_counts().items()}}
    report["unreadable"] = [{"image": table["image"].iat[i], "split": table["split"].iat[i], "error": errors[i]}
                            for i in np.flatnonzero(~ok)]

    byte_groups, pixel_groups = duplicate_groups(table["path"].tolist(), images, ok)
    finest = levels[-1] if levels else heads[0]

    def describe(groups):
        cross = [g for g in groups if table["split"].iloc[g].nunique() > 1]
        conflict = [g for g in groups if table[finest].iloc[g].nunique() > 1]
        examples = [{"images": table["image"].iloc[g].tolist(), "splits": table["split"].iloc[g].tolist(),
                     finest: table[finest].iloc[g].tolist()} for g in (conflict + cross + groups)[:10]]
        return {"groups": len(groups), "extra_copies": int(sum(len(g) - 1 for g in groups)),
                "groups_across_splits": len(cross), "groups_with_different_labels": len(conflict),
                "examples": examples}

    report["duplicates"] = {"identical_files": describe(byte_groups), "identical_pixels": describe(pixel_groups)}

    train = table[(table["split"] == train_split) & ok]
    val = table[table["split"] == val_split]
    imbalance = {}
    for head in heads:
        counts = train[head].value_counts()
        val_counts = val[head].value_counts() if len(val) else pd.Series(dtype=int)
        imbalance[head] = {
            "classes": int(len(counts)),
            "largest": {"class": str(counts.index[0]), "train": int(counts.iloc[0])} if len(counts) else None,
            "smallest": {"class": str(counts.index[-1]), "train": int(counts.iloc[-1])} if len(counts) else None,
            "ratio": float(counts.iloc[0] / counts.iloc[-1]) if len(counts) else None,
            "thin_in_train": {str(k): int(v) for k, v in counts[counts < min_train].items()},
            "absent_from_val": sorted(set(counts.index) - set(val_counts.index)) if len(val) else [],
            "train_counts": {str(k): int(v) for k, v in counts.items()},
        }
    report["imbalance"] = imbalance

    present = [level for level in levels if level in table.columns]
    maps, conflicts = parent_maps(train, present) if len(present) > 1 else ({}, [])
    resolved = resolve_hierarchy(table, present, maps) if maps else table
    changed = {level: int((resolved[level] != table[level]).sum()) for level in present[:-1]} if maps else {}
    orphans = {}
    for level in present[:-1]:  # a parent class that is nobody's majority parent vanishes from the tree
        kept = set(maps[present[present.index(level) + 1]].values())
        gone = sorted(set(table[level]) - kept)
        if gone:
            orphans[level] = {name: int((table[level] == name).sum()) for name in gone}
    report["hierarchy"] = {"levels": present, "children_with_several_parents": conflicts,
                           "rows_relabelled": changed, "parents_left_without_children": orphans}
    return report


def checks_markdown(report: dict, title: str = "Data checks") -> str:
    """The checks as a page a person reads."""
    lines = [f"# {title}", "", f"{report['images']:,} images; splits: "
             + ", ".join(f"{k} {v:,}" for k, v in report["splits"].items()), ""]
    bad = report["unreadable"]
    lines += ["## Unreadable images", "", f"{len(bad)} unreadable (left out of training)."]
    lines += [f"- `{b['image']}` ({b['split']}): {b['error']}" for b in bad[:20]]
    if len(bad) > 20:
        lines.append(f"- ... and {len(bad) - 20} more (metrics.json / data_checks.json lists all)")
    lines += ["", "## Duplicates", "", "| kind | groups | extra copies | across splits | with different labels |",
              "|---|---:|---:|---:|---:|"]
    for kind, d in report["duplicates"].items():
        lines.append(f"| {kind.replace('_', ' ')} | {d['groups']} | {d['extra_copies']} | {d['groups_across_splits']} "
                     f"| {d['groups_with_different_labels']} |")
    examples = report["duplicates"]["identical_pixels"]["examples"][:5]
    if examples:
        lines += ["", "Examples (identical pixels):"]
        lines += [f"- {', '.join(f'`{i}` ({s}, {c})' for i, s, c in zip(e['images'], e['splits'], list(e.values())[2]))}"
                  for e in examples]
    lines += ["", "## Class imbalance (training split)", "", "| label | classes | largest | smallest | ratio | "
              "classes under 20 training images | absent from val |", "|---|---:|---|---|---:|---:|---|"]
    for head, d in report["imbalance"].items():
        if not d["classes"]:
            continue
        lines.append(f"| {head} | {d['classes']} | {d['largest']['class']} ({d['largest']['train']}) | "
                     f"{d['smallest']['class']} ({d['smallest']['train']}) | {d['ratio']:.1f} | "
                     f"{len(d['thin_in_train'])} | {', '.join(d['absent_from_val'][:8]) or '-'} |")
    h = report["hierarchy"]
    lines += ["", "## Hierarchy", ""]
    if not h["children_with_several_parents"]:
        lines.append("Every class has one parent: the labels form a strict tree.")
    else:
        lines += [f"{len(h['children_with_several_parents'])} classes sit under more than one parent; each is "
                  "resolved to its majority parent in training (counts from the training split):", "",
                  "| level | class | majority parent | parents (training rows) |", "|---|---|---|---|"]
        for c in h["children_with_several_parents"]:
            lines.append(f"| {c['level']} | {c['class']} | {c['majority_parent']} | "
                         + ", ".join(f"{p} {n}" for p, n in c["parents"].items()) + " |")
        lines += ["", "Rows whose parent label changes: " + ", ".join(f"{k} {v}" for k, v in h["rows_relabelled"].items())
                  + ". Evaluation scores against the labels as given, so a consistent prediction counts these "
                  "rows wrong."]
    for level, gone in h["parents_left_without_children"].items():
        lines.append(f"- {level} classes that are no class's majority parent, never predicted: "
                     + ", ".join(f"{k} ({v} rows)" for k, v in gone.items()))
    return "\n".join(lines) + "\n"


def summary_line(report: dict) -> str:
    d = report["duplicates"]["identical_pixels"]
    h = report["hierarchy"]
    return (f"data checks: {report['images']:,} images, {len(report['unreadable'])} unreadable, "
            f"{d['groups']} duplicate groups ({d['groups_across_splits']} across splits), "
            f"{len(h['children_with_several_parents'])} classes with several parents "
            f"({sum(h['rows_relabelled'].values()) if h['rows_relabelled'] else 0} rows resolved to the majority parent)")
