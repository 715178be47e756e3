"""The blender: one model that merges sources, hides what should not be shown again, says why, and falls back.

Merging. Each source scores every item for the user; each row is min-max scaled to [0, 1] (a source's
scale means nothing to the others) and the blend is the weighted sum. ``weights`` are given, or tuned
(``tune=True``) on a validation split: the sources are fitted without each user's last item / basket, the
weights chosen by coordinate search on NDCG@10 of the served lists, then the sources refitted on everything.

Hiding. ``exclude``: "history" never shows an item the user already has; "none" shows anything;
"auto" (default) hides a past item unless it is re-bought: an item that at least ``rebuy_threshold`` of its
buyers bought in two or more baskets (or twice in a sequence) is a consumable and may come back. On
Online Retail, where re-buying is the strongest signal, most items are; on the Amazon sequences, where no
user reviews an item twice, none is. ``rebuy_items`` and ``never_again`` list ids that override the rule.

Reasons. Every item keeps the source that gave it the largest weighted share of its score, and that
source's reason: "because you bought X", "bought together with X", "popular in your segment (loyal)",
"you bought this before (3 times)".

Fallbacks, never errors. A user with no history (unknown id) gets the popularity source: in their segment
when one is given, else what sells now. An item nobody bought yet (in the catalogue through its
attributes) is reached through content similarity; an unknown item id gets popular items. The output says
which fallback served.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import clone

from niaga.modeling import SKOPS_FILE, dump_skops
from niaga.recommend.base import RecommenderBase, mask_history, top_k
from niaga.recommend.data import Histories, Interactions
from niaga.recommend.popularity import PopularityRecommender

EXCLUDE = ("auto", "history", "none")
WEIGHT_GRID = (0.0, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 4.0)


@dataclass
class Recommendation:
    item: str
    score: float
    source: str
    reason: str
    name: str = ""  # the item's display name, when the data has one


@dataclass
class Served:
    """One user's list, and the fallback that served it ("" when the user's own history did)."""

    user: str
    items: list[Recommendation] = field(default_factory=list)
    fallback: str = ""


def minmax_rows(scores: np.ndarray) -> np.ndarray:
    """Each row scaled to [0, 1]; a constant row (no opinion) becomes 0."""
    scores = np.asarray(scores, dtype=np.float32)
    low = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - low
    return np.divide(scores - low, span, out=np.zeros_like(scores), where=span > 0)


class Blender(RecommenderBase):
    """Weighted blend of named sources with exclusion rules, reasons and fallbacks (see the module doc).

    ``sources``: list of (name, estimator). ``weights``: {name: weight} (missing names weigh 1).
    Learned state: ``sources_`` (fitted, same names), ``weights_``, ``n_items_``, ``item_ids_``,
    ``item_names_``, ``rebuy_`` (items that may be shown again), ``fallback_`` (a popularity source),
    the serving histories ``users_``, ``user_indptr_``, ``user_items_``, ``user_baskets_``, ``user_times_``,
    ``user_segments_``, and ``tuning_`` (validation NDCG@10 per weight setting tried, when tuned).
    """

    source_name = "blend"
    transient_state = ("_user_rows", "_item_rows")

    def __init__(self, sources=(("popularity", PopularityRecommender()),), weights: dict | None = None,
                 exclude: str = "auto", rebuy_threshold: float = 0.05, rebuy_items=(), never_again=(),
                 tune: bool = False, tune_users: int = 2000,
                 together_sources=("cooccurrence", "content", "als", "sasrec"),
                 random_state: int = 0, verbose: bool = True):
        self.sources = sources
        self.weights = weights
        self.exclude = exclude
        self.rebuy_threshold = rebuy_threshold
        self.rebuy_items = rebuy_items
        self.never_again = never_again
        self.tune = tune
        self.tune_users = tune_users
        self.together_sources = together_sources
        self.random_state = random_state
        self.verbose = verbose

    # -- fitting -------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        names = [name for name, _ in self.sources]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"sources need distinct names, got {names}")
        if self.exclude not in EXCLUDE:
            raise ValueError(f"exclude must be one of {EXCLUDE}, got {self.exclude!r}")
        unknown = set(self.weights or {}) - set(names)
        if unknown:
            raise ValueError(f"weights name unknown source(s) {sorted(unknown)}; sources: {names}")

    def fit(self, interactions: Interactions, y=None):
        self._check_params()
        catalogue = interactions.catalogue
        self.n_items_ = len(catalogue)
        self.item_ids_ = np.asarray(catalogue.ids, dtype=str)
        self.item_names_ = (np.asarray(catalogue.names, dtype=str) if catalogue.names is not None
                            else np.full(self.n_items_, "", dtype=str))
        self.weights_ = {name: float((self.weights or {}).get(name, 1.0)) for name, _ in self.sources}
        self.rebuy_ = self._rebuy_mask(interactions)
        self.tuning_ = []
        fitted = {}
        if self.tune:
            fitted = self._tune(interactions)
        self.sources_ = [(name, fitted[name] if name in fitted else clone(source).fit(interactions))
                         for name, source in self.sources]
        popularity = [s for _, s in self.sources_ if isinstance(s, PopularityRecommender)]
        self.fallback_ = popularity[0] if popularity else PopularityRecommender(mode="recent").fit(interactions)
        self.set_histories(interactions.histories)
        return self

    def _rebuy_mask(self, interactions: Interactions) -> np.ndarray:
        n = self.n_items_
        if self.exclude == "none":
            mask = np.ones(n, dtype=bool)
        elif self.exclude == "history":
            mask = np.zeros(n, dtype=bool)
        else:
            h = interactions.histories
            units = h.baskets if h.baskets is not None else np.arange(len(h.items))
            pairs = np.unique(np.stack([h.row_of(), h.items.astype(np.int64), units]), axis=1)
            user_item = pairs[0] * n + pairs[1]
            keys, times_bought = np.unique(user_item, return_counts=True)
            items = keys % n
            buyers = np.bincount(items, minlength=n)
            rebuyers = np.bincount(items[times_bought >= 2], minlength=n)
            mask = rebuyers >= self.rebuy_threshold * np.maximum(buyers, 1)
            mask &= buyers > 0
        lookup = {item: i for i, item in enumerate(self.item_ids_.tolist())}
        for item in self.rebuy_items or ():
            if str(item) in lookup:
                mask[lookup[str(item)]] = True
        for item in self.never_again or ():
            if str(item) in lookup:
                mask[lookup[str(item)]] = False
        return mask

    def set_histories(self, histories: Histories) -> "Blender":
        """The histories served from (the whole data, also when training held the last items out)."""
        self.users_ = np.asarray(histories.users, dtype=str)
        self.user_indptr_ = histories.indptr.astype(np.int64)
        self.user_items_ = histories.items.astype(np.int32)
        self.user_baskets_ = histories.baskets
        self.user_times_ = histories.times
        self.user_segments_ = histories.segments
        self.__dict__.pop("_user_rows", None)
        return self

    def _tune(self, interactions: Interactions) -> dict:
        """Weights by coordinate search on validation NDCG@10 (the last item / basket of the training data).

        A source whose fit never trains on the last item (SASRec, which validates on it) is fitted once, on all
        the training data, and its scores of the validation queries are used as they are; the others are
        fitted without the validation items for tuning and again on everything afterwards. Returns the
        sources fitted on everything."""
        import dataclasses

        from niaga.recommend.evaluate import split

        protocol = "leave-one-out" if interactions.format == "sequences" else "last-invoice"
        valid = split(interactions.histories, protocol)
        if len(valid.test_rows) < 10:
            return {}
        reusable = {name: clone(source).fit(interactions) for name, source in self.sources
                    if protocol == "leave-one-out" and source.fit_hides_last_item()}
        rng = np.random.default_rng(self.random_state)
        pick = np.sort(rng.choice(len(valid.test_rows), size=min(self.tune_users, len(valid.test_rows)),
                                  replace=False))
        rows, targets = valid.test_rows[pick], [valid.targets[i] for i in pick]
        train = dataclasses.replace(interactions, histories=valid.train)
        queries = valid.train.take(rows)
        names = [name for name, _ in self.sources]
        parts = {name: minmax_rows((reusable[name] if name in reusable else clone(source).fit(train)).score_items(queries))
                 for name, source in self.sources}
        excluded = np.zeros((len(rows), self.n_items_), dtype=bool)
        excluded[queries.row_of(), queries.items] = True
        excluded &= ~self.rebuy_[None, :]
        gold = np.zeros((len(rows), self.n_items_), dtype=bool)
        for r, t in enumerate(targets):
            gold[r, t] = True
        ideal = np.array([np.sum(1.0 / np.log2(np.arange(min(10, len(t))) + 2.0)) for t in targets])

        def ndcg(weights: dict) -> float:
            blend = sum(weights[n] * parts[n] for n in names if weights[n])
            if np.isscalar(blend):
                return 0.0
            blend = np.where(excluded, -np.inf, blend)
            top, _ = top_k(blend, 10)
            hits = np.take_along_axis(gold, top, axis=1)
            return float(np.mean((hits / np.log2(np.arange(2, 12))).sum(axis=1) / ideal))

        best = dict(self.weights_)
        best_score = ndcg(best)
        self.tuning_.append({"weights": dict(best), "valid_ndcg@10": round(best_score, 5)})
        for _ in range(2):  # two passes of coordinate search; the first source's weight stays as the scale
            for name in names[1:]:
                for value in WEIGHT_GRID:
                    trial = {**best, name: value}
                    score = ndcg(trial)
                    if score > best_score + 1e-6:
                        best, best_score = trial, score
                        self.tuning_.append({"weights": dict(trial), "valid_ndcg@10": round(score, 5)})
        self.weights_ = best
        return reusable

    # -- scoring -------------------------------------------------------------------------------------
    def _parts(self, histories: Histories) -> dict[str, np.ndarray]:
        return {name: minmax_rows(source.score_items(histories)) for name, source in self.sources_
                if self.weights_.get(name, 0.0) > 0}

    def score_items(self, histories: Histories) -> np.ndarray:
        self._check_fitted()
        parts = self._parts(histories)
        if not parts:
            return np.zeros((len(histories), self.n_items_), dtype=np.float32)
        return sum(self.weights_[name] * part for name, part in parts.items()).astype(np.float32)

    def item_similarity(self, items: np.ndarray) -> np.ndarray:
        self._check_fitted()
        return sum(self.weights_.get(name, 0.0) * minmax_rows(source.item_similarity(items))
                   for name, source in self.sources_).astype(np.float32)

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "sources_")

    # -- serving -------------------------------------------------------------------------------------
    def _user_row(self, user: str) -> int:
        rows = self.__dict__.get("_user_rows")
        if rows is None:
            rows = self._user_rows = {u: i for i, u in enumerate(self.users_.tolist())}
        return rows.get(str(user), -1)

    def item_row(self, item: str) -> int:
        rows = self.__dict__.get("_item_rows")
        if rows is None:
            rows = self._item_rows = {u: i for i, u in enumerate(self.item_ids_.tolist())}
        return rows.get(str(item), -1)

    def label(self, row: int) -> str:
        name = str(self.item_names_[row]).strip() if row >= 0 else ""
        item = str(self.item_ids_[row]) if row >= 0 else ""
        if name:
            return f"{name} ({item})"
        return f"item {item}" if item.isdigit() else item  # "item 123", but "herbs" is its own name

    def histories_of(self, users, segments=None) -> Histories:
        """The stored histories of ``users`` (empty for unknown ones), with their segments."""
        rows = [self._user_row(u) for u in users]
        lists, baskets, times, segs = [], [], [], []
        for i, r in enumerate(rows):
            span = slice(self.user_indptr_[r], self.user_indptr_[r + 1]) if r >= 0 else slice(0, 0)
            lists.append(self.user_items_[span])
            baskets.append(self.user_baskets_[span] if self.user_baskets_ is not None else np.zeros(0, np.int64))
            times.append(self.user_times_[span] if self.user_times_ is not None else np.zeros(0))
            given = segments[i] if segments is not None and segments[i] else ""
            stored = self.user_segments_[r] if r >= 0 and self.user_segments_ is not None else ""
            segs.append(given or stored)
        h = Histories.from_lists(users, lists, times if self.user_times_ is not None else None, segs)
        if self.user_baskets_ is not None:
            h.baskets = np.concatenate(baskets).astype(np.int64) if baskets else np.zeros(0, np.int64)
        return h

    def recommend_users(self, users, k: int = 10, segments=None, batch_size: int = 256) -> list[Served]:
        """Each user's top ``k`` with source and reason; unknown users get the fallback (see the module doc)."""
        self._check_fitted()
        users = [str(u) for u in users]
        out = []
        for start in range(0, len(users), batch_size):
            chunk = users[start:start + batch_size]
            segs = None if segments is None else list(segments[start:start + batch_size])
            out += self._serve(self.histories_of(chunk, segs), k)
        return out

    def _serve(self, histories: Histories, k: int) -> list[Served]:
        lengths = histories.lengths
        served = [Served(user=str(u)) for u in histories.users]
        known = np.flatnonzero(lengths > 0) if any(w > 0 for w in self.weights_.values()) else np.zeros(0, int)
        if len(known):
            batch = histories.take(known)
            parts = self._parts(batch)
            names = list(parts)
            blend = sum(self.weights_[n] * parts[n] for n in names) if names else \
                np.zeros((len(known), self.n_items_), dtype=np.float32)
            blend = np.asarray(blend, dtype=np.float32)
            mask_history(blend, batch, allowed=self.rebuy_)
            rows, scores = top_k(blend, k)
            sources = dict(self.sources_)
            for b, u in enumerate(known):
                picked = rows[b][np.isfinite(scores[b])]
                if not len(picked):
                    continue
                shares = np.stack([self.weights_[n] * parts[n][b, picked] for n in names])
                owner = shares.argmax(axis=0)
                history = batch.items_of(b)
                segment = batch.segments[b] if batch.segments is not None else ""
                reasons = [None] * len(picked)
                for j, name in enumerate(names):
                    where = np.flatnonzero(owner == j)
                    if len(where):
                        for w, reason in zip(where, sources[name].explain(history, picked[where], segment)):
                            reasons[w] = reason
                served[u].items = [self._rec(r, round(float(s), 4), names[o],
                                                  self._reason(reason)) for r, s, o, reason in
                                   zip(picked, scores[b][:len(picked)], owner, reasons)]
        for u in np.flatnonzero(lengths == 0):
            self._fallback(served[u], histories, u, k)
        for u in known:  # a history whose every candidate was excluded: fill with popular items
            if len(served[u].items) < k:
                self._fill(served[u], histories, u, k)
        return served

    def _rec(self, row: int, score: float, source: str, reason: str) -> Recommendation:
        return Recommendation(str(self.item_ids_[row]), score, source, reason, str(self.item_names_[row]).strip())

    def _reason(self, reason: tuple[str, int]) -> str:
        text, anchor = reason
        return text.replace("{anchor}", self.label(anchor)) if anchor >= 0 else text

    def _fallback(self, served: Served, histories: Histories, u: int, k: int) -> None:
        segment = histories.segments[u] if histories.segments is not None else ""
        scores = self.fallback_.score_items(histories.take([u]))
        rows, values = top_k(scores, k)
        reason = self.fallback_.explain([], rows[0][:1], segment)[0][0]
        served.fallback = f"no history for user {served.user!r}: {reason}"
        served.items = [self._rec(r, round(float(s), 4), "fallback-popularity",
                                       f"{reason} (no purchase history yet)") for r, s in zip(rows[0], values[0])]

    def _fill(self, served: Served, histories: Histories, u: int, k: int) -> None:
        have = {self.item_row(r.item) for r in served.items}
        scores = self.fallback_.score_items(histories.take([u]))[0]
        allowed = np.ones(self.n_items_, dtype=bool)
        allowed[histories.items_of(u)] = False
        allowed |= self.rebuy_
        allowed[list(have)] = False
        order = [r for r in np.argsort(-scores, kind="stable") if allowed[r]][: k - len(served.items)]
        segment = histories.segments[u] if histories.segments is not None else ""
        reason = self.fallback_.explain([], order[:1], segment)[0][0] if order else ""
        served.items += [self._rec(r, 0.0, "fallback-popularity", reason) for r in order]

    def together(self, item: str, k: int = 10) -> Served:
        """Items to show beside ``item``: bought together first, then similar, then (fallback) popular."""
        self._check_fitted()
        row = self.item_row(item)
        served = Served(user="")
        taken = {row}
        sources = dict(self.sources_)
        if row >= 0:
            for name in self.together_sources:
                if name not in sources or len(served.items) >= k:
                    continue
                source = sources[name]
                sims = np.asarray(source.item_similarity(np.array([row])), dtype=np.float32)
                sims[0, list(taken)] = -np.inf
                rows, values = top_k(sims, k)
                keep = [(r, v) for r, v in zip(rows[0], values[0]) if np.isfinite(v) and v > 0][: k - len(served.items)]
                if not keep:
                    continue
                reasons = source.pair_reasons(row, np.array([r for r, _ in keep]))
                served.items += [self._rec(r, round(float(v), 4), name,
                                                text.replace("{anchor}", self.label(row))) for (r, v), text in
                                 zip(keep, reasons)]
                taken |= {r for r, _ in keep}
            cold = float(self.fallback_.counts_[row]) == 0
            if not served.items:
                served.fallback = f"item {item!r} has no purchases and no attributes to compare: popular items"
            elif cold:
                served.fallback = f"item {item!r} has no purchases yet: items similar in attributes (content)"
        else:
            served.fallback = f"item {item!r} is not in the catalogue: popular items"
        if len(served.items) < k:
            scores = self.fallback_.item_similarity(np.array([max(row, 0)]))[0].copy()
            scores[list(taken - {-1})] = -np.inf
            rows, values = top_k(scores[None, :], k - len(served.items))
            reason = self.fallback_.explain([], rows[0][:1])[0][0]
            served.items += [self._rec(r, round(float(v), 4), "fallback-popularity", reason)
                             for r, v in zip(rows[0], values[0]) if np.isfinite(v)]
        return served

    # -- saving: each source's external state (a torch network) beside model.skops ------------------------
    def save_artifacts(self, directory: Path) -> None:
        shallow = copy.copy(self)
        stripped = []
        for name, source in getattr(self, "sources_", []):
            if source.external_state:
                source.save_external(directory, prefix=f"{name}-")
                source = copy.copy(source)
                for attr in source.external_state:
                    source.__dict__.pop(attr, None)
            stripped.append((name, source))
        if hasattr(self, "sources_"):
            shallow.sources_ = stripped
            if any(s is self.fallback_ for _, s in self.sources_):
                shallow.fallback_ = dict(stripped)[next(n for n, s in self.sources_ if s is self.fallback_)]
        dump_skops(shallow, Path(directory) / SKOPS_FILE)

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "Blender":
        model = super().load_artifacts(directory, metadata)
        for name, source in model.sources_:
            if source.external_state:
                source.load_external(directory, prefix=f"{name}-")
        return model
