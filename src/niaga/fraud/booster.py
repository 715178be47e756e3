"""LightGBM predictions for the scorer: raw scores and SHAP contributions, for one row or many.

Many rows (replay, micro-batches) go through the public ``Booster.predict`` (``raw_score=True``;
``pred_contrib=True`` for the reasons of flagged rows). One row (the real-time ``FraudScorer.score``) goes
through LightGBM's C API single-row predictor (``LGBM_BoosterPredictForMatSingleRowFast``, reached through
the internals ``lightgbm.basic._LIB`` and ``Booster._handle``), which skips the per-call set-up of the
public predict. Those internals are not a public API: they are used only with a LightGBM version in
``TESTED_LIGHTGBM`` (the range pinned in pyproject.toml), and otherwise, or with ``NIAGA_LIGHTGBM_PUBLIC=1``,
every prediction goes through the public predict, which gives the same scores and the same contributions
(a test compares both paths). The contributions are LightGBM's TreeSHAP values (log-odds): per row, they
plus the expected value (the last column) add up to the raw score.
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

#: LightGBM versions whose C API the single-row path was tested with: [lowest, first untested)
TESTED_LIGHTGBM = ((4, 3), (4, 8))
PUBLIC_ENV = "NIAGA_LIGHTGBM_PUBLIC"
RAW_SCORE, CONTRIB = 1, 3  # LightGBM's C_API_PREDICT_RAW_SCORE, C_API_PREDICT_CONTRIB


def internals_usable() -> bool:
    """Whether the C API single-row path may be used: a tested LightGBM, its symbols present, not refused."""
    if os.environ.get(PUBLIC_ENV, "").strip().lower() in ("1", "true", "yes"):
        return False
    try:
        import lightgbm
        from lightgbm.basic import _LIB
    except ImportError:
        return False
    try:
        version = tuple(int(part) for part in lightgbm.__version__.split(".")[:2])
    except ValueError:
        return False
    lowest, untested = TESTED_LIGHTGBM
    return lowest <= version < untested and all(
        hasattr(_LIB, name) for name in ("LGBM_BoosterPredictForMatSingleRowFastInit",
                                         "LGBM_BoosterPredictForMatSingleRowFast", "LGBM_FastConfigFree"))


class BoosterPredictor:
    """Raw scores and SHAP contributions of one LightGBM booster over ``n_columns`` float64 columns."""

    def __init__(self, booster, n_columns: int, use_internals: bool | None = None):
        self.booster = booster
        self.n_columns = n_columns
        self.use_internals = internals_usable() if use_internals is None else use_internals
        self._fast: dict[int, tuple] = {}

    # -- public API -----------------------------------------------------------------------------------
    def raw(self, M: np.ndarray) -> np.ndarray:
        """Raw scores (log-odds) of the rows of ``M``."""
        if len(M) == 1 and self.use_internals:
            return self._single(M[0], RAW_SCORE)[:1].copy()
        # one thread: faster for the small batches of real-time scoring (thread start-up dominates)
        return self.booster.predict(M, raw_score=True, num_threads=1)

    def contributions(self, M: np.ndarray) -> np.ndarray:
        """SHAP values, shape (rows, n_columns + 1): one per column, then the expected value."""
        if len(M) == 1 and self.use_internals:
            return self._single(M[0], CONTRIB).reshape(1, -1).copy()
        # TreeSHAP costs about a millisecond a row: worth the threads (rows are split among them)
        threads = 1 if len(M) < 4 else min(len(M) // 2, os.cpu_count() or 1)
        return np.asarray(self.booster.predict(M, pred_contrib=True, num_threads=threads)).reshape(len(M), -1)

    # -- LightGBM internals ---------------------------------------------------------------------------
    def _single(self, x: np.ndarray, kind: int) -> np.ndarray:
        """One row through the C API's fast single-row predictor (prepared once per kind)."""
        from lightgbm.basic import _LIB, _safe_call

        fast = self._fast.get(kind)
        if fast is None:
            handle = ctypes.c_void_p()
            _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                self.booster._handle, ctypes.c_int(kind), ctypes.c_int(0), ctypes.c_int(-1),  # all trees
                ctypes.c_int(1), ctypes.c_int32(self.n_columns), ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(handle)))  # data type 1: float64
            width = self.n_columns + 1 if kind == CONTRIB else 1
            fast = self._fast[kind] = (handle, ctypes.c_int64(0), np.zeros(width))
        handle, out_len, out = fast
        x = np.ascontiguousarray(x, dtype=np.float64)
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFast(
            handle, x.ctypes.data_as(ctypes.c_void_p), ctypes.byref(out_len), out.ctypes.data_as(ctypes.c_void_p)))
        return out

    def close(self) -> None:
        if self._fast:
            from lightgbm.basic import _LIB

            for handle, _, _ in self._fast.values():
                _LIB.LGBM_FastConfigFree(handle)
            self._fast = {}

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 (interpreter shutdown: modules may already be gone)
            pass
