"""The fraud model: LightGBM on the transaction features plus the autoencoder's reconstruction error,
with a sigmoid (Platt) calibration so the score is a fraud probability in 0–1.

Fitting holds out the latest ``validation_fraction`` of the rows (the input is in stream order): the
booster stops early on it and the calibration is fitted on it; then the booster is refitted on all rows
with the chosen number of trees. Platt scaling is monotone, so it keeps the ranking (AUC, AP) unchanged.
"""

from __future__ import annotations

import contextlib
import math
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from tqdm.auto import tqdm

from niaga.fraud.autoencoder import Autoencoder
from niaga.fraud.features import CATEGORICAL, FeatureConfig, IpCountries
from niaga.fraud.metrics import fraud_metrics
from niaga.errors import ModelLoadError
from niaga.modeling import NiagaModel

AE_FEATURE = "autoencoder_error"
BOOSTER_FILE = "booster.txt"


class FraudModel(NiagaModel, ClassifierMixin, BaseEstimator):
    task = "fraud"
    external_state = ("booster_",)  # LightGBM's own text model, booster.txt
    # C handles and lookups rebuilt on first use after loading (bind() rebuilds the row layout)
    transient_state = ("_fast_config", "_fast_out", "_paths", "take_", "category_codes_", "categorical_take_")

    def __init__(self, n_estimators: int = 400, learning_rate: float = 0.1, num_leaves: int = 31,
                 min_child_samples: int = 50, subsample: float = 0.8, colsample_bytree: float = 0.8,
                 reg_lambda: float = 1.0, early_stopping_rounds: int = 50, validation_fraction: float = 0.2,
                 autoencoder: bool = True, ae_epochs: int = 10, features: list | None = None,
                 label_delay_days: float = 7.0, random_state: int = 0, n_jobs: int = 1, verbose: bool = False):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.autoencoder = autoencoder
        self.ae_epochs = ae_epochs
        self.features = features
        self.label_delay_days = label_delay_days
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- feature matrix -------------------------------------------------------------------------------
    def _encode(self, X: pd.DataFrame) -> np.ndarray:
        """Selected features as float64 (categories → training codes, unseen → NaN), without the AE error."""
        columns = []
        for name in self.features_:
            if name in self.categories_:
                codes = {v: float(i) for i, v in enumerate(self.categories_[name])}
                columns.append(X[name].map(lambda v: codes.get(v, math.nan)).to_numpy(dtype=float))
            else:
                columns.append(X[name].to_numpy(dtype=float))
        return np.column_stack(columns) if columns else np.empty((len(X), 0))

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        """The booster's input: the encoded features, plus the autoencoder error as the last column."""
        M = self._encode(X)
        if self.ae_ is not None:
            M = np.column_stack([M, self.ae_.score_samples(M[:, self.numeric_idx_])])
        return M

    def rows_matrix(self, rows: list[list]) -> np.ndarray:
        """The booster input of OnlineFeatureState rows (``feature_names`` order, see ``bind``), no pandas."""
        take = self.take_
        if self.categorical_take_:
            values = [list(take(row)) for row in rows]
            for j, mapping in self.categorical_take_:
                for v in values:
                    v[j] = mapping.get(v[j], math.nan)
        else:
            values = [take(row) for row in rows]
        M = np.array(values, dtype=float).reshape(len(rows), len(self.features_))
        if self.ae_ is not None:
            M = np.column_stack([M, self.ae_.score_samples(M[:, self.numeric_idx_])])
        return M

    def bind(self, feature_names: list[str]) -> "FraudModel":
        """Prepare ``rows_matrix`` (and the one-row fast path) for rows laid out as ``feature_names``."""
        position = {name: i for i, name in enumerate(feature_names)}
        missing = [f for f in self.features_ if f not in position]
        if missing:
            raise ValueError(f"the feature state does not compute {missing}")
        self.take_ = itemgetter(*[position[f] for f in self.features_])
        if len(self.features_) == 1:  # itemgetter of one index returns the value, not a tuple
            index = position[self.features_[0]]
            self.take_ = lambda row: (row[index],)
        self.category_codes_ = {f: {v: float(i) for i, v in enumerate(c)} for f, c in self.categories_.items()}
        self.categorical_take_ = [(j, self.category_codes_[f]) for j, f in enumerate(self.features_)
                                  if f in self.categories_]
        return self

    # -- fit / predict --------------------------------------------------------------------------------
    def _params(self) -> dict:
        return {"objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_data_in_leaf": self.min_child_samples, "bagging_fraction": self.subsample, "bagging_freq": 1,
                "feature_fraction": self.colsample_bytree, "lambda_l2": self.reg_lambda, "seed": self.random_state,
                "num_threads": self.n_jobs, "verbose": -1, "max_cat_to_onehot": 8, "cat_smooth": 10}

    @property
    def feature_config(self) -> FeatureConfig:
        """How the features this model reads are computed (windows and the label delay)."""
        return FeatureConfig(label_delay_days=self.label_delay_days)

    def fit(self, X: pd.DataFrame, y, ip_countries: IpCountries | None = None):
        """``X``: the feature table in stream order (time ascending); ``y``: 1 fraud, 0 legitimate.

        ``ip_countries``: the IP → country table the features were computed with; kept for scoring.
        """
        import lightgbm as lgb

        self.ip_countries_ = ip_countries
        y = np.asarray(y, dtype=float)
        if len(np.unique(y)) < 2:
            raise ValueError("training needs both fraudulent and legitimate transactions")
        wanted = list(self.features) if self.features is not None else list(X.columns)
        self.features_ = [f for f in wanted if f in X.columns and X[f].notna().any()]
        self.categories_ = {f: sorted(map(str, X[f].dropna().unique())) for f in self.features_ if f in CATEGORICAL}
        self.numeric_idx_ = [i for i, f in enumerate(self.features_) if f not in self.categories_]
        self.ae_ = None
        E = self._encode(X)
        n_valid = int(len(y) * self.validation_fraction)
        fit_rows = slice(0, len(y) - n_valid)
        if self.autoencoder:
            self.ae_ = Autoencoder(epochs=self.ae_epochs, random_state=self.random_state, verbose=self.verbose)
            self.ae_.fit(E[fit_rows][:, self.numeric_idx_], y[fit_rows])
            E = np.column_stack([E, self.ae_.score_samples(E[:, self.numeric_idx_])])
        self.columns_ = self.features_ + ([AE_FEATURE] if self.ae_ is not None else [])
        categorical = [i for i, f in enumerate(self.columns_) if f in self.categories_]
        valid = slice(len(y) - n_valid, len(y))
        self.validation_ = {}
        self.calibration_ = (1.0, 0.0)
        rounds = self.n_estimators
        if n_valid and len(np.unique(y[valid])) == 2 and len(np.unique(y[fit_rows])) == 2:
            train_set = lgb.Dataset(E[fit_rows], y[fit_rows], feature_name=self.columns_,
                                    categorical_feature=categorical, free_raw_data=False)
            valid_set = lgb.Dataset(E[valid], y[valid], reference=train_set)
            with self._progress(self.n_estimators, "boosting (early stopping on the latest rows)") as bar:
                booster = lgb.train({**self._params(), "metric": "average_precision"}, train_set, self.n_estimators,
                                    valid_sets=[valid_set],
                                    callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False), bar])
            rounds = max(booster.best_iteration, 1)
            raw = booster.predict(E[valid], num_iteration=rounds, raw_score=True)
            self.calibration_ = self._platt(raw, y[valid])
            self.validation_ = {"trees": rounds, **fraud_metrics(y[valid], raw)}
        full = lgb.Dataset(E, y, feature_name=self.columns_, categorical_feature=categorical)
        with self._progress(rounds, "boosting (all rows)") as bar:
            self.booster_ = lgb.train(self._params(), full, rounds, callbacks=[bar])
        self.classes_ = np.array([0, 1])
        return self

    @contextlib.contextmanager
    def _progress(self, rounds: int, desc: str):
        """A LightGBM callback that advances a progress bar by one boosting round (silent unless verbose)."""
        bar = tqdm(total=rounds, desc=desc, unit="tree", disable=not self.verbose, leave=False)
        try:
            yield lambda env: bar.update(1)
        finally:
            bar.close()

    @staticmethod
    def _platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Slope and intercept of the logistic fit of the label on the raw score (kept increasing)."""
        from sklearn.linear_model import LogisticRegression

        fit = LogisticRegression(C=1e4).fit(raw.reshape(-1, 1), y)
        slope = float(fit.coef_[0, 0])
        return (slope, float(fit.intercept_[0])) if slope > 0 else (1.0, 0.0)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        slope, intercept = self.calibration_
        return 1.0 / (1.0 + np.exp(-(slope * np.asarray(raw) + intercept)))

    def raw_score_matrix(self, M: np.ndarray) -> np.ndarray:
        """Raw scores; one row goes through LightGBM's single-row fast path (no per-call set-up)."""
        if len(M) == 1:
            return np.array([self._single_row(M[0])])
        # one thread: faster for the small batches of real-time scoring (thread start-up dominates)
        return self.booster_.predict(M, raw_score=True, num_threads=1)

    def _single_row(self, x: np.ndarray) -> float:
        """LightGBM's C API for one row (LGBM_BoosterPredictForMatSingleRowFast): the Python predict builds
        a predictor on every call, which costs more than the whole real-time budget per transaction."""
        import ctypes

        from lightgbm.basic import _LIB, _safe_call

        fast = self.__dict__.get("_fast_config")
        if fast is None:
            fast = ctypes.c_void_p()
            _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                self.booster_._handle, ctypes.c_int(1), ctypes.c_int(0), ctypes.c_int(-1),  # raw score, all trees
                ctypes.c_int(1), ctypes.c_int32(len(self.columns_)), ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(fast)))  # data type 1: float64
            self.__dict__["_fast_config"] = fast
            self.__dict__["_fast_out"] = (ctypes.c_int64(0), np.zeros(1))
        out_len, out = self.__dict__["_fast_out"]
        x = np.ascontiguousarray(x, dtype=np.float64)
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFast(
            fast, x.ctypes.data_as(ctypes.c_void_p), ctypes.byref(out_len), out.ctypes.data_as(ctypes.c_void_p)))
        return float(out[0])

    def save_artifacts(self, directory: Path) -> None:
        super().save_artifacts(directory)
        self.booster_.save_model(str(Path(directory) / BOOSTER_FILE))

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "FraudModel":
        import lightgbm as lgb

        model = super().load_artifacts(directory, metadata)
        path = Path(directory) / BOOSTER_FILE
        if not path.exists():
            raise ModelLoadError(f"{directory}: model.json is there but {BOOSTER_FILE} is missing")
        model.booster_ = lgb.Booster(model_file=str(path))
        return model

    def __del__(self):
        fast = self.__dict__.get("_fast_config")
        if fast is not None:
            from lightgbm.basic import _LIB

            _LIB.LGBM_FastConfigFree(fast)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.calibrate(self.raw_score_matrix(self.matrix(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, M: np.ndarray) -> np.ndarray:
        """Per row and column, how much it moved the raw score along the row's paths in the trees (the
        "path" attribution: each split adds the change of the node value to its feature). The rows sum,
        plus the trees' root values, to the raw score. Computed for all trees at once in numpy, it costs
        a fraction of a millisecond per row where LightGBM's exact SHAP values (pred_contrib) cost milliseconds."""
        paths = self.__dict__.get("_paths")
        if paths is None:
            paths = self.__dict__["_paths"] = _TreePaths(self.booster_.dump_model()["tree_info"])
        return paths.contributions(np.asarray(M, dtype=float), len(self.columns_))

    def top_reasons(self, M: np.ndarray, shown: list[list], k: int) -> list[list[str]]:
        """Per row of ``M``: the ``k`` features that pushed the score up most, as "name=value (+contribution)".

        ``shown[i]`` holds row i's values in ``columns_`` order, for display (categories as text).
        """
        if not len(M) or k <= 0:
            return [[] for _ in range(len(M))]
        out = []
        for row, values in zip(self.contributions(M), shown):
            best = np.argsort(-row)[:k]
            out.append([f"{self.columns_[j]}={_show(values[j])} (+{row[j]:.2f})" for j in best if row[j] > 0])
        return out


class _TreePaths:
    """The booster's trees as flat arrays, to follow many rows down all trees at once.

    Mirrors LightGBM's decision rules (tree.h): numerical — NaN counts as 0 unless missing values have
    their own branch; a missing value (NaN, or zero for missing_type Zero) goes the default way; else
    ``x <= threshold`` goes left. Categorical — NaN (when missing values have a branch) and negative values
    go right; a category in the split's set goes left.
    """

    def __init__(self, trees: list[dict]):
        feature, threshold, default_left, nan_missing, zero_missing, categorical = [], [], [], [], [], []
        left, right, value, leaf, categories = [], [], [], [], {}
        roots = []

        def add(node: dict) -> int:
            i = len(value)
            for column in (feature, threshold, default_left, nan_missing, zero_missing, categorical, left, right):
                column.append(0)
            value.append(node.get("leaf_value", node.get("internal_value", 0.0)))
            leaf.append("leaf_value" in node)
            if "leaf_value" in node:
                return i
            feature[i] = node["split_feature"]
            default_left[i] = node["default_left"]
            nan_missing[i] = node["missing_type"] == "NaN"
            zero_missing[i] = node["missing_type"] == "Zero"
            if node["decision_type"] == "==":
                categorical[i] = 1
                categories[i] = [int(v) for v in str(node["threshold"]).split("||")]
                threshold[i] = 0.0
            else:
                threshold[i] = float(node["threshold"])
            left[i] = add(node["left_child"])
            right[i] = add(node["right_child"])
            return i

        for tree in trees:
            roots.append(add(tree["tree_structure"]))
        self.roots = np.array(roots)
        self.feature, self.threshold = np.array(feature), np.array(threshold, dtype=float)
        self.default_left, self.nan_missing = np.array(default_left, bool), np.array(nan_missing, bool)
        self.zero_missing, self.categorical = np.array(zero_missing, bool), np.array(categorical, bool)
        self.left, self.right = np.array(left), np.array(right)
        self.value, self.leaf = np.array(value, dtype=float), np.array(leaf, bool)
        top = max([max(c) for c in categories.values()], default=0) + 1
        self.category_row = np.full(len(value), -1)
        self.category_sets = np.zeros((max(len(categories), 1), top + 1), dtype=bool)
        for k, (node, members) in enumerate(categories.items()):
            self.category_row[node] = k
            self.category_sets[k, members] = True

    def contributions(self, X: np.ndarray, n_columns: int) -> np.ndarray:
        n_rows = len(X)
        node = np.tile(self.roots, n_rows)
        row = np.repeat(np.arange(n_rows), len(self.roots))
        out = np.zeros(n_rows * n_columns)
        active = np.flatnonzero(~self.leaf[node])
        while len(active):
            nd, r = node[active], row[active]
            f = self.feature[nd]
            x = X[r, f]
            nan = np.isnan(x)
            x0 = np.where(nan & ~self.nan_missing[nd], 0.0, x)
            missing = (self.zero_missing[nd] & (np.abs(x0) <= 1e-35)) | (self.nan_missing[nd] & nan)
            go_left = np.where(missing, self.default_left[nd], x0 <= self.threshold[nd])
            cat = self.categorical[nd]
            if cat.any():
                code = np.where(nan[cat], -1, np.nan_to_num(x0[cat], nan=-1)).astype(np.int64)
                top = self.category_sets.shape[1] - 1
                member = self.category_sets[self.category_row[nd[cat]], np.clip(code, 0, top)]
                go_left[cat] = (code >= 0) & (code < top) & member
            child = np.where(go_left, self.left[nd], self.right[nd])
            out += np.bincount(r * n_columns + f, self.value[child] - self.value[nd], minlength=len(out))
            node[active] = child
            active = active[~self.leaf[child]]
        return out.reshape(n_rows, n_columns)


def _show(value) -> str:
    if isinstance(value, float):
        return "NA" if math.isnan(value) else f"{value:.4g}"
    return str(value)
