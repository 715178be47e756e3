"""The fraud model: LightGBM on the transaction features plus the autoencoder's reconstruction error,
with a sigmoid (Platt) calibration so the score is a fraud probability in 0–1.

Fitting splits the rows (in stream order, i.e. by time) into four slices, each with one job, so that no
figure is measured on rows that shaped it: the earliest rows train the booster (``training``); the next
``early_stopping_fraction`` choose the number of trees; the next ``calibration_fraction`` fit the Platt
calibration; the latest ``held_out_fraction`` are scored by that booster and calibration to give the
held-out figures (``held_out_``), which nothing was fitted on. Then the booster is refitted on all rows
with the chosen number of trees (the saved model). Platt scaling is monotone: it keeps the ranking.

The autoencoder error of a training-slice row comes from an autoencoder that did not see it
(``FoldAutoencoders``: one per time fold, each trained on the other folds' legitimate rows); every later
row, and every row scored later, gets the error of the one trained on the latest folds, which did not see
it either (an earlier period).
"""

from __future__ import annotations

import contextlib
import math
from itertools import chain
from operator import itemgetter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from tqdm.auto import tqdm

from niaga.errors import ModelLoadError
from niaga.fraud.autoencoder import FoldAutoencoders
from niaga.fraud.booster import BoosterPredictor
from niaga.fraud.features import CATEGORICAL, FeatureConfig, IpCountries
from niaga.fraud.metrics import fraud_metrics
from niaga.modeling import NiagaModel

AE_FEATURE = "autoencoder_error"
BOOSTER_FILE = "booster.txt"
SLICES = ("training", "early_stopping", "calibration", "held_out")


class FraudModel(NiagaModel, ClassifierMixin, BaseEstimator):
    task = "fraud"
    external_state = ("booster_",)  # LightGBM's own text model, booster.txt
    # the predictor (C handles) and lookups are rebuilt on first use after loading (bind() rebuilds the layout)
    transient_state = ("_predictor", "take_", "category_codes_", "categorical_take_")

    def __init__(self, n_estimators: int = 400, learning_rate: float = 0.1, num_leaves: int = 31,
                 min_child_samples: int = 50, subsample: float = 0.8, colsample_bytree: float = 0.8,
                 reg_lambda: float = 1.0, early_stopping_rounds: int = 50, early_stopping_fraction: float = 0.1,
                 calibration_fraction: float = 0.1, held_out_fraction: float = 0.1, autoencoder: bool = True,
                 ae_epochs: int = 10, ae_folds: int = 2, features: list | None = None, label_delay_days: float = 7.0,
                 random_state: int = 0, n_jobs: int = 1, verbose: bool = False):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.early_stopping_fraction = early_stopping_fraction
        self.calibration_fraction = calibration_fraction
        self.held_out_fraction = held_out_fraction
        self.autoencoder = autoencoder
        self.ae_epochs = ae_epochs
        self.ae_folds = ae_folds
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
        take, width = self.take_, len(self.features_)
        if self.categorical_take_:
            values = [list(take(row)) for row in rows]
            for j, mapping in self.categorical_take_:
                for v in values:
                    v[j] = mapping.get(v[j], math.nan)
            M = np.array(values, dtype=float).reshape(len(rows), width)
        else:  # numbers only: one flat pass, faster than a nested list
            M = np.fromiter(chain.from_iterable(map(take, rows)), dtype=float, count=len(rows) * width
                            ).reshape(len(rows), width)
        if self.ae_ is not None:
            M = np.column_stack([M, self.ae_.score_samples(M[:, self.numeric_idx_])])
        return M

    def bind(self, feature_names: list[str]) -> "FraudModel":
        """Prepare ``rows_matrix`` (and the one-row fast path) for rows laid out as ``feature_names``."""
        position = {name: i for i, name in enumerate(feature_names)}
        missing = [f for f in self.features_ if f not in position]
        if missing:
            raise ValueError(f"the feature state does not compute {missing}: retrain the model with this niaga")
        self.take_ = itemgetter(*[position[f] for f in self.features_])
        if len(self.features_) == 1:  # itemgetter of one index returns the value, not a tuple
            index = position[self.features_[0]]
            self.take_ = lambda row: (row[index],)
        self.category_codes_ = {f: {v: float(i) for i, v in enumerate(c)} for f, c in self.categories_.items()}
        self.categorical_take_ = [(j, self.category_codes_[f]) for j, f in enumerate(self.features_)
                                  if f in self.categories_]
        return self

    # -- fit ------------------------------------------------------------------------------------------
    def _params(self) -> dict:
        return {"objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_data_in_leaf": self.min_child_samples, "bagging_fraction": self.subsample, "bagging_freq": 1,
                "feature_fraction": self.colsample_bytree, "lambda_l2": self.reg_lambda, "seed": self.random_state,
                "num_threads": self.n_jobs, "verbose": -1, "max_cat_to_onehot": 8, "cat_smooth": 10}

    @property
    def feature_config(self) -> FeatureConfig:
        """How the features this model reads are computed (windows and the label delay)."""
        return FeatureConfig(label_delay_days=self.label_delay_days)

    def _slices(self, n: int) -> dict[str, tuple[int, int]]:
        """Row ranges (stream order) of the four slices; the later three may be empty on tiny data."""
        sizes = [int(n * f) for f in (self.early_stopping_fraction, self.calibration_fraction, self.held_out_fraction)]
        start = n - sum(sizes)
        bounds = np.cumsum([0, start] + sizes).tolist()
        return {name: (bounds[i], bounds[i + 1]) for i, name in enumerate(SLICES)}

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
        self.slices_ = self._slices(len(y))
        rows = {name: slice(*bounds) for name, bounds in self.slices_.items()}
        two_classes = {name: len(np.unique(y[r])) == 2 for name, r in rows.items()}
        E = self._encode(X)
        self.ae_ = None
        self.autoencoder_note_ = "no autoencoder"
        training = rows["training"]
        if self.autoencoder:
            legit_per_fold = np.array_split(y[training] == 0, max(self.ae_folds, 2))
            if self.ae_folds >= 2 and min(int(part.sum()) for part in legit_per_fold) >= 2:
                self.ae_ = FoldAutoencoders(self.ae_folds, self.ae_epochs, random_state=self.random_state,
                                            verbose=self.verbose)
                error = np.empty(len(y))
                error[training] = self.ae_.fit_transform(E[training][:, self.numeric_idx_], y[training])
                error[training.stop:] = self.ae_.score_samples(E[training.stop:, self.numeric_idx_])
                E = np.column_stack([E, error])
                self.autoencoder_note_ = (f"out-of-fold: {self.ae_folds} time folds of the training slice, each "
                                          "row's error from the autoencoder trained on the other folds; later "
                                          "slices and new data: the autoencoder of the latest folds (an earlier "
                                          "period)")
            else:
                self.autoencoder_note_ = "left out: too few legitimate rows in a time fold"
        self.columns_ = self.features_ + ([AE_FEATURE] if self.ae_ is not None else [])
        categorical = [i for i, f in enumerate(self.columns_) if f in self.categories_]
        params = self._params()

        def dataset(r, **kwargs):
            return lgb.Dataset(E[r], y[r], feature_name=self.columns_, categorical_feature=categorical,
                               free_raw_data=False, **kwargs)

        self.calibration_ = (1.0, 0.0)
        self.early_stopping_, self.held_out_ = {}, {}
        rounds = self.n_estimators
        if two_classes["training"]:
            train_set = dataset(training)
            with self._progress(self.n_estimators, "boosting (training slice)") as bar:
                if two_classes["early_stopping"]:
                    booster = lgb.train({**params, "metric": "average_precision"}, train_set, self.n_estimators,
                                        valid_sets=[dataset(rows["early_stopping"], reference=train_set)],
                                        callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False),
                                                   bar])
                    rounds = max(booster.best_iteration, 1)
                    self.early_stopping_ = {"trees": rounds, "average_precision": float(
                        booster.best_score["valid_0"]["average_precision"])}
                else:
                    booster = lgb.train(params, train_set, rounds, callbacks=[bar])
            if two_classes["calibration"]:
                raw = booster.predict(E[rows["calibration"]], num_iteration=rounds, raw_score=True)
                self.calibration_ = self._platt(raw, y[rows["calibration"]])
            if self.slices_["held_out"][1] > self.slices_["held_out"][0]:
                held_out = rows["held_out"]
                raw = booster.predict(E[held_out], num_iteration=rounds, raw_score=True)
                p = self.calibrate(raw)
                self.held_out_ = {**fraud_metrics(y[held_out], raw), "mean_score": float(p.mean()),
                                  "fraud_rate": float(y[held_out].mean()),
                                  "brier": float(np.mean((p - y[held_out]) ** 2))}
        with self._progress(rounds, "boosting (all rows)") as bar:
            self.booster_ = lgb.train(params, dataset(slice(0, len(y))), rounds, callbacks=[bar])
        self.classes_ = np.array([0, 1])
        return self

    def fit_report(self) -> dict:
        """What each slice was used for (row ranges in stream order), the early stopping, the held-out figures."""
        return {"slices": {name: {"rows": [a, b], "use": use} for (name, (a, b)), use in zip(self.slices_.items(), (
                    "trains the booster", "chooses the number of trees (early stopping on average precision)",
                    "fits the Platt calibration", "held-out figures: scored by the booster and calibration "
                    "fitted before it, nothing fitted on it"))},
                "early_stopping": self.early_stopping_, "calibration": list(self.calibration_),
                "held_out": self.held_out_, "autoencoder_error": self.autoencoder_note_,
                "final_booster": f"refitted on all rows with {self.booster_.num_trees()} trees"}

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

    # -- predict --------------------------------------------------------------------------------------
    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        slope, intercept = self.calibration_
        return 1.0 / (1.0 + np.exp(-(slope * np.asarray(raw) + intercept)))

    @property
    def predictor(self) -> BoosterPredictor:
        """Raw scores and SHAP contributions (LightGBM internals for one row when usable, else public)."""
        predictor = self.__dict__.get("_predictor")
        if predictor is None:
            predictor = self.__dict__["_predictor"] = BoosterPredictor(self.booster_, len(self.columns_))
        return predictor

    def raw_score_matrix(self, M: np.ndarray) -> np.ndarray:
        return self.predictor.raw(M)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.calibrate(self.raw_score_matrix(self.matrix(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, M: np.ndarray) -> np.ndarray:
        """SHAP values (LightGBM's TreeSHAP, log-odds) per row and column, the expected value last: each row
        adds up to the raw score."""
        return self.predictor.contributions(np.asarray(M, dtype=float))

    def top_reasons(self, M: np.ndarray, shown: list[list], k: int) -> list[list[str]]:
        """Per row of ``M``: the ``k`` features that pushed the score up most, as "name=value (+SHAP value)".

        ``shown[i]`` holds row i's values in ``columns_`` order, for display (categories as text).
        """
        if not len(M) or k <= 0:
            return [[] for _ in range(len(M))]
        out = []
        for row, values in zip(self.contributions(M)[:, :-1], shown):
            best = np.argsort(-row, kind="stable")[:k]
            out.append([f"{self.columns_[j]}={_show(values[j])} (+{row[j]:.2f})" for j in best if row[j] > 0])
        return out

    # -- files ----------------------------------------------------------------------------------------
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


def _show(value) -> str:
    if isinstance(value, float):
        return "NA" if math.isnan(value) else f"{value:.4g}"
    return str(value)
