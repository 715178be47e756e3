"""Deterministic, sticky assignment of users to the arms of an experiment.

A user's arm is a function of (salt, experiment, user) only: the same user gets the same arm on every
request, on every server, without storing anything, and two experiments split users independently (the
experiment's name is part of the hash). The hash is SHA-256, whose first 8 bytes give a uniform number in
[0, 1) that the cumulative split cuts into arms, as GrowthBook's and Optimizely's SDKs do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from niaga.errors import DataError

DEFAULT_ARMS = ("control", "treatment")
MAX_ARMS = 20


@dataclass(frozen=True)
class Split:
    """Arms and their shares (any positive numbers: 50,50 or 0.9,0.1 or 1,1,1)."""

    arms: tuple[str, ...] = DEFAULT_ARMS
    weights: tuple[float, ...] = ()

    def __post_init__(self):
        if not 2 <= len(self.arms) <= MAX_ARMS:
            raise DataError(f"arms: give 2 to {MAX_ARMS} arm names, got {len(self.arms)}")
        if len(set(self.arms)) != len(self.arms) or any(not a.strip() for a in self.arms):
            raise DataError(f"arms: names must be distinct and non-empty, got {list(self.arms)}")
        if self.weights and len(self.weights) != len(self.arms):
            raise DataError(f"split: {len(self.weights)} shares for {len(self.arms)} arms")
        if self.weights and (any(not w >= 0 for w in self.weights) or sum(self.weights) <= 0):
            raise DataError(f"split: shares must be non-negative numbers with a positive sum, got {list(self.weights)}")

    @property
    def shares(self) -> np.ndarray:
        weights = np.asarray(self.weights or [1.0] * len(self.arms), dtype=float)
        return weights / weights.sum()

    @classmethod
    def parse(cls, arms: str | None = None, split: str | None = None) -> "Split":
        """From the text forms ``control,treatment`` and ``50,50``."""
        names = tuple(a.strip() for a in arms.split(",")) if arms else DEFAULT_ARMS
        try:
            weights = tuple(float(w) for w in split.split(",")) if split else ()
        except ValueError:
            raise DataError(f"split: give numbers separated by commas such as 50,50, got {split!r}") from None
        return cls(names, weights)


def bucket(experiment: str, user: str, salt: str = "") -> float:
    """The user's uniform number in [0, 1) for this experiment."""
    digest = hashlib.sha256(f"{salt}:{experiment}:{user}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def assign(experiment: str, user: str, split: Split = Split(), salt: str = "") -> str:
    """The arm of ``user`` in ``experiment``: always the same for the same inputs."""
    edges = np.cumsum(split.shares)
    index = int(np.searchsorted(edges, bucket(experiment, str(user), salt), side="right"))
    return split.arms[min(index, len(split.arms) - 1)]


def assign_many(experiment: str, users, split: Split = Split(), salt: str = "") -> np.ndarray:
    """``assign`` for many users at once (the same arms)."""
    edges = np.cumsum(split.shares)
    buckets = np.fromiter((bucket(experiment, str(u), salt) for u in users), dtype=float)
    index = np.minimum(np.searchsorted(edges, buckets, side="right"), len(split.arms) - 1)
    return np.asarray(split.arms, dtype=object)[index]
