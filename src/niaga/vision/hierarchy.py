"""Predictions consistent with the category tree: an articleType implies its subCategory and masterCategory.

Each level has its own head. A leaf (a finest-level class) is scored by the product of its own probability and
its ancestors' probabilities under their heads; normalized over the leaves this is a distribution ``q`` over
root-to-leaf paths. The prediction is the best path, and a level's confidence is the mass of ``q`` under the
predicted class at that level, so a parent is never less certain than its child. Joint scoring lets the
coarse heads, which are more accurate, overrule a fine head that hesitates between branches.
"""

from __future__ import annotations

import numpy as np


class Hierarchy:
    """The tree over ``levels`` (coarse to fine) with ``classes`` per level and ``parents[child_level][child]``.

    Built from majority-parent maps (``niaga.vision.checks.parent_maps``); a finest-level class whose ancestors
    are unknown keeps only its own score.
    """

    def __init__(self, levels: list[str], classes: dict[str, list[str]], parents: dict[str, dict[str, str]]):
        self.levels = list(levels)
        self.classes = {level: list(classes[level]) for level in self.levels}
        self.parents = {level: dict(parents.get(level, {})) for level in self.levels[1:]}
        leaf = self.levels[-1]
        # ancestors_[level][i]: index at ``level`` of leaf i's ancestor (-1: unknown)
        self.ancestors_ = {leaf: np.arange(len(self.classes[leaf]))}
        names = list(self.classes[leaf])
        for child, parent in reversed(list(zip(self.levels[1:], self.levels))):
            index = {c: i for i, c in enumerate(self.classes[parent])}
            names = [self.parents[child].get(n) if n is not None else None for n in names]
            self.ancestors_[parent] = np.array([index.get(n, -1) if n is not None else -1 for n in names])

    def decode(self, proba: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Labels and confidences per level from each level's class probabilities (rows = images)."""
        leaf = self.levels[-1]
        n = len(proba[leaf])
        score = np.log(np.clip(proba[leaf], 1e-12, 1.0))
        for level in self.levels[:-1]:
            anc = self.ancestors_[level]
            known = anc >= 0
            p = np.log(np.clip(proba[level], 1e-12, 1.0))
            score[:, known] += p[:, anc[known]]
        score -= score.max(axis=1, keepdims=True)
        q = np.exp(score)
        q /= q.sum(axis=1, keepdims=True)
        best = q.argmax(axis=1)
        labels, confidence = {}, {}
        rows = np.arange(n)
        for level in self.levels:
            anc = self.ancestors_[level]
            chosen = anc[best]
            names = np.asarray(self.classes[level], dtype=object)
            if level == leaf:
                labels[level], confidence[level] = names[chosen], q[rows, best]
                continue
            # mass of the paths through the chosen ancestor; a leaf with no known ancestor falls back to the head
            same = anc[None, :] == chosen[:, None]
            mass = (q * same).sum(axis=1)
            head_best = proba[level].argmax(axis=1)
            unknown = chosen < 0
            chosen = np.where(unknown, head_best, chosen)
            mass = np.where(unknown, proba[level][rows, head_best], mass)
            labels[level], confidence[level] = names[chosen], mass
        return labels, confidence

    def parent_of(self, level: str, name: str) -> str | None:
        """The majority parent of class ``name`` at ``level`` (None at the top or when unknown)."""
        return self.parents.get(level, {}).get(name)
