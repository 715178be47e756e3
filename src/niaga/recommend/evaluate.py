"""Offline evaluation of recommenders: the splits, the ranking metrics and the report.

Protocols (every user keeps their other interactions in training):

- ``leave-one-out``: each user's last item is the test item (users with at least two). Validation, for
  early stopping and tuning, is the second-to-last item: the same split applied to the training part.
- ``last-invoice``: each repeat customer's last basket (invoice) is held out, its distinct items the
  targets; validation is the basket before it. On data without baskets each item is its own basket.
- ``time``: everything on or after a cut-off date is held out; the targets of a user who bought before and
  after it are the distinct items bought after (default cut-off: the time by which 90 % of interactions
  happened).

Metrics, with full ranking over every catalogue item by default: HR@K (a target in the top K), Recall@K
(share of the targets in the top K), NDCG@K (binary relevance, ideal DCG over min(K, targets)), MRR (1 / rank
of the best-ranked target over the full ranking), catalogue coverage (share of the catalogue in anybody's
top 10) and popularity bias (ARP@10: mean training popularity of the top 10, and its ratio to the
popularity of the items actually bought). Reported twice, labelled: **all items** ranked, and **history
removed** (each user's past items are excluded from the ranking, as the S3-Rec code does; a target the user
had already bought then counts as a miss). Ties are broken by catalogue row, the order the recommendations
are served in. Sampled metrics (each target against N random unseen items) only on request, labelled so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from niaga.errors import DataError
from niaga.recommend import PROTOCOLS
from niaga.recommend.data import Histories

CUTS = (1, 5, 10, 20, 50)
HEADLINE = ("hr@10", "ndcg@10", "recall@20", "mrr", "coverage")


@dataclass
class Split:
    """``train``: every user, test interactions removed; the test users' rows in it and their targets."""

    protocol: str
    train: Histories
    test_rows: np.ndarray
    targets: list  # one array of distinct catalogue rows per test user
    cutoff: float | None = None

    @property
    def n_test(self) -> int:
        return len(self.test_rows)


def split(histories: Histories, protocol: str, cutoff: float | None = None) -> Split:
    """Hold out the test interactions of ``protocol`` (see the module doc)."""
    if protocol not in PROTOCOLS:
        raise DataError(f"--protocol {protocol}: unknown; valid: {', '.join(PROTOCOLS)}")
    n = len(histories.items)
    rows = histories.row_of()
    lengths = histories.lengths
    if protocol == "time":
        if histories.times is None:
            raise DataError("the time protocol needs dated interactions (invoices or dated baskets); this data has "
                            "no times: use leave-one-out")
        if cutoff is None:
            cutoff = float(np.quantile(histories.times, 0.9))
        held = histories.times >= cutoff
    elif protocol == "leave-one-out":
        held = np.zeros(n, dtype=bool)
        last = histories.indptr[1:] - 1
        held[last[lengths >= 2]] = True
    else:
        baskets = histories.baskets if histories.baskets is not None else np.arange(n)
        last = histories.indptr[1:] - 1
        last_basket = np.full(len(histories), -1, dtype=np.int64)
        last_basket[lengths > 0] = baskets[last[lengths > 0]]
        first_basket = np.full(len(histories), -1, dtype=np.int64)
        first_basket[lengths > 0] = baskets[histories.indptr[:-1][lengths > 0]]
        repeat = (lengths > 0) & (last_basket != first_basket)
        held = repeat[rows] & (baskets == last_basket[rows])
    train = histories.keep(~held)
    kept = train.lengths
    held_per_user = np.bincount(rows[held], minlength=len(histories))
    test_rows = np.flatnonzero((held_per_user > 0) & (kept > 0))
    targets = []
    held_rows, held_items = rows[held], histories.items[held]
    order = np.argsort(held_rows, kind="stable")
    bounds = np.searchsorted(held_rows[order], np.stack([test_rows, test_rows + 1]))
    for start, end in zip(bounds[0], bounds[1]):
        targets.append(np.unique(held_items[order[start:end]]).astype(np.int64))
    return Split(protocol, train, test_rows, targets, cutoff)


# -- metrics -------------------------------------------------------------------------------------------

def _target_ranks(scores: np.ndarray, targets: list) -> list[np.ndarray]:
    """0-based rank of each target in its row (ties broken by row); an excluded (-inf) target ranks infinitely low."""
    n_items = scores.shape[1]
    out = []
    for r, items in enumerate(targets):
        row = scores[r]
        t = row[items]
        greater = (row[None, :] > t[:, None]).sum(axis=1)
        index = np.arange(n_items)
        tied_before = ((row[None, :] == t[:, None]) & (index[None, :] < items[:, None])).sum(axis=1)
        ranks = (greater + tied_before).astype(np.float64)
        ranks[~np.isfinite(t)] = np.inf  # excluded from the ranking: never a hit, at any K
        out.append(ranks)
    return out


def _metrics_from_ranks(ranks: list[np.ndarray], cuts=CUTS) -> dict:
    user = np.repeat(np.arange(len(ranks)), [len(r) for r in ranks])
    flat = np.concatenate(ranks).astype(np.float64)
    n_targets = np.bincount(user, minlength=len(ranks)).astype(np.float64)
    best = np.array([r.min() for r in ranks], dtype=np.float64)
    discount = 1.0 / np.log2(np.arange(max(cuts) + 1) + 2.0)
    ideal_table = np.concatenate([[0.0], np.cumsum(discount)])
    out = {}
    for k in cuts:
        hit = flat < k
        dcg = np.bincount(user, weights=np.where(hit, 1.0 / np.log2(flat + 2.0), 0.0), minlength=len(ranks))
        ideal = ideal_table[np.minimum(n_targets, k).astype(np.int64)]
        out[f"hr@{k}"] = float(np.mean(best < k))
        out[f"recall@{k}"] = float(np.mean(np.bincount(user, weights=hit, minlength=len(ranks)) / n_targets))
        out[f"ndcg@{k}"] = float(np.mean(dcg / ideal))
    out["mrr"] = float(np.mean(1.0 / (best + 1.0)))
    return out


def _sampled_ranks(scores: np.ndarray, targets: list, histories: Histories, n_negatives: int,
                   rng: np.random.Generator) -> list[np.ndarray]:
    n_items = scores.shape[1]
    out = []
    for r, items in enumerate(targets):
        seen = np.zeros(n_items, dtype=bool)
        seen[histories.items_of(r)] = True
        seen[items] = True
        pool = np.flatnonzero(~seen)
        negatives = rng.choice(pool, size=min(n_negatives, len(pool)), replace=False)
        neg = scores[r, negatives]
        t = scores[r, items]
        out.append((neg[None, :] >= t[:, None]).sum(axis=1))  # ties count against the target
    return out


def evaluate_scores(score: Callable[[Histories], np.ndarray], data_split: Split, n_items: int,
                    batch_size: int = 512, n_negatives: int = 0, max_users: int | None = None, seed: int = 0,
                    progress: bool = True) -> dict:
    """Metrics of ``score`` (histories → users × items) on the split's test users, all items and history removed."""
    rows = data_split.test_rows
    targets = data_split.targets
    if max_users is not None and len(rows) > max_users:
        pick = np.sort(np.random.default_rng(seed).choice(len(rows), size=max_users, replace=False))
        rows, targets = rows[pick], [targets[i] for i in pick]
    if not len(rows):
        raise DataError(f"no test user under the {data_split.protocol} protocol: every user has a single "
                        f"{'basket' if data_split.protocol == 'last-invoice' else 'interaction'}")
    popularity = np.bincount(data_split.train.items, minlength=n_items).astype(np.float64)
    rng = np.random.default_rng(seed)
    ranks = {"all": [], "removed": []}
    sampled, tops = [], {"all": [], "removed": []}
    for start in tqdm(range(0, len(rows), batch_size), desc="evaluating", unit="batch", disable=not progress,
                      total=math.ceil(len(rows) / batch_size)):
        batch = data_split.train.take(rows[start:start + batch_size])
        batch_targets = targets[start:start + batch_size]
        scores = np.asarray(score(batch), dtype=np.float32)
        if scores.shape != (len(batch), n_items):
            raise ValueError(f"score returned {scores.shape}, expected {(len(batch), n_items)}")
        ranks["all"] += _target_ranks(scores, batch_targets)
        tops["all"].append(_top10(scores))
        if n_negatives:
            sampled += _sampled_ranks(scores, batch_targets, batch, n_negatives, rng)
        scores[batch.row_of(), batch.items] = -np.inf
        ranks["removed"] += _target_ranks(scores, batch_targets)
        tops["removed"].append(_top10(scores))
    target_popularity = float(np.mean([popularity[t].mean() for t in targets]))
    result = {}
    for mode in ("all", "removed"):
        metrics = _metrics_from_ranks(ranks[mode])
        top = np.vstack(tops[mode])
        metrics["coverage"] = float(len(np.unique(top)) / n_items)
        metrics["arp@10"] = float(popularity[top].mean())
        metrics["popularity_bias@10"] = float(metrics["arp@10"] / max(target_popularity, 1e-12))
        result[mode] = metrics
    out = {**result["all"], "history_removed": result["removed"],
           "curve": {"k": list(range(1, 51)),
                     "hr_all": _hr_curve(ranks["all"]), "hr_history_removed": _hr_curve(ranks["removed"]),
                     "ndcg_all": _ndcg_curve(ranks["all"]), "ndcg_history_removed": _ndcg_curve(ranks["removed"])},
           "users": int(len(rows)), "targets_per_user": float(np.mean([len(t) for t in targets])),
           "target_popularity": target_popularity}
    if n_negatives:
        sampled_metrics = _metrics_from_ranks(sampled, cuts=(1, 5, 10))
        out[f"sampled_{n_negatives}"] = {"note": f"each target ranked against {n_negatives} random items the user "
                                                 "never had (sampled metrics: optimistic, for comparison with "
                                                 "papers that report them)", **sampled_metrics}
    return out


def _top10(scores: np.ndarray) -> np.ndarray:
    k = min(10, scores.shape[1])
    return np.argpartition(-scores, k - 1, axis=1)[:, :k]


def _hr_curve(ranks: list[np.ndarray]) -> list[float]:
    best = np.array([r.min() for r in ranks])
    return [round(float(np.mean(best < k)), 5) for k in range(1, 51)]


def _ndcg_curve(ranks: list[np.ndarray]) -> list[float]:
    metrics = _metrics_from_ranks(ranks, cuts=tuple(range(1, 51)))
    return [round(metrics[f"ndcg@{k}"], 5) for k in range(1, 51)]


# -- the report ----------------------------------------------------------------------------------------

def write_report(directory: str | Path, metrics: dict, context: dict, title: str = "Recommendation evaluation") -> Path:
    """metrics.json, hit_rate_at_k.png and report.md (the one a person reads first) in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {**metrics, "context": context}
    (directory / "metrics.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _plot_curves(metrics["curve"], directory / "hit_rate_at_k.png", title)
    removed = metrics["history_removed"]
    lines = [f"# {title}", ""]
    lines += [f"- **{k}**: {v}" for k, v in context.items()]
    lines += ["", f"{metrics['users']:,} test users, {metrics['targets_per_user']:.2f} target items each. Full "
              "ranking over the whole catalogue. *All items*: nothing is removed from the ranking. *History "
              "removed*: each user's past items are excluded (as in the S3-Rec code).", "",
              "| metric | all items | history removed |", "|---|---|---|"]
    for key in ["hr@1", "hr@5", "hr@10", "hr@20", "hr@50", "ndcg@5", "ndcg@10", "ndcg@20", "recall@10",
                "recall@20", "mrr", "coverage", "arp@10", "popularity_bias@10"]:
        lines.append(f"| {key} | {metrics[key]:.4f} | {removed[key]:.4f} |")
    sampled = [k for k in metrics if k.startswith("sampled_")]
    for key in sampled:
        lines += ["", f"**Sampled metrics** ({metrics[key]['note']}): "
                  + ", ".join(f"{m} {metrics[key][m]:.4f}" for m in ("hr@1", "hr@5", "hr@10", "ndcg@10", "mrr"))]
    lines += ["", "Coverage: share of the catalogue in at least one user's top 10. ARP@10: mean number of "
              "training interactions of the top-10 items; popularity bias: ARP@10 over the mean popularity of "
              "the items the users actually bought (1 = as popular as what they bought).", "",
              "![hit rate and NDCG at K](hit_rate_at_k.png)", ""]
    (directory / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return directory


def _plot_curves(curve: dict, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric, label in zip(axes, ("hr", "ndcg"), ("HR@K (share of users)", "NDCG@K")):
        ax.plot(curve["k"], curve[f"{metric}_all"], label="all items")
        ax.plot(curve["k"], curve[f"{metric}_history_removed"], label="history removed", linestyle="--")
        ax.set_xlabel("K (list length, items)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title[:80])
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.86, wspace=0.28)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
