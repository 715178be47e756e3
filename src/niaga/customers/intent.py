"""Purchase intent: will an online shopping session end in a purchase? (UCI Online Shoppers Intention)

Pipeline: typed reading of the session table (bad cells reported per row), derived features, ordinal
encoding of the categorical codes (native categorical splits scored no better), optional imbalance
handling (class weights or SMOTE-NC), gradient boosting, and a decision threshold that maximizes buyer-class F1
on out-of-fold predictions of the training data only (scikit-learn's TunedThresholdClassifierCV).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder
from tqdm.auto import tqdm

from niaga.data.io import read_table, require_columns
from niaga.errors import DataError
from niaga.evaluation import classification_metrics, kfold_splits
from niaga.modeling import NiagaModel

LABEL = "Revenue"
NUMERIC = ["Administrative", "Administrative_Duration", "Informational", "Informational_Duration", "ProductRelated",
           "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues", "SpecialDay"]
CATEGORICAL = ["Month", "OperatingSystems", "Browser", "Region", "TrafficType", "VisitorType"]
BOOLEAN = ["Weekend"]
FEATURES = NUMERIC + CATEGORICAL + BOOLEAN
MONTHS = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
TRUE_WORDS = {"true", "yes", "1", "y", "t", "1.0"}
FALSE_WORDS = {"false", "no", "0", "n", "f", "0.0"}
# The codes below are nominal (browser 2 is not "more" than browser 1); "Other" visitors are rare.
IMBALANCE = ("none", "balanced", "smote")


def _float(values: pd.Series) -> pd.Series:
    """Plain float64 with NaN for missing (pandas' nullable Float64 would carry NA into the model)."""
    return pd.Series(values.to_numpy(dtype=float, na_value=np.nan), index=values.index)


def _parse_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float")
    text = values.astype("string").str.strip().str.lower()
    parsed = np.where(text.isin(TRUE_WORDS), 1.0, np.where(text.isin(FALSE_WORDS), 0.0, np.nan))
    return pd.Series(parsed, index=values.index)


def _parse_month(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    numbers = pd.to_numeric(text, errors="coerce")
    named = text.map(MONTHS).astype("float")
    return _float(named.where(named.notna(), numbers.where(numbers.between(1, 12))))


def read_sessions(path: str | Path, label: bool) -> tuple[pd.DataFrame, pd.Series | None, pd.Series, pd.DataFrame]:
    """Typed features, labels (1 = purchase) when ``label``, per-row error text ("" = usable), and the raw frame.

    Blank cells are allowed (the model treats them as missing); text where a number, month or yes/no is
    expected is an error for that row. Negative counts or durations (some copies use -1 for unknown) are missing.
    """
    raw = read_table(path)
    require_columns(raw, FEATURES + ([LABEL] if label else []), path)
    features = pd.DataFrame(index=raw.index)
    problems = pd.Series("", index=raw.index, dtype=object)

    def flag(column: str, parsed: pd.Series, expected: str) -> None:
        given = raw[column].astype("string").str.strip()
        bad = parsed.isna() & given.notna() & (given != "")
        problems[bad] = problems[bad] + f"{column}: expected {expected}, got " + given[bad].str.slice(0, 30) + "; "

    for column in NUMERIC:
        parsed = _float(pd.to_numeric(raw[column], errors="coerce"))
        flag(column, parsed, "a number")
        features[column] = parsed.where(parsed >= 0)
    for column in ("OperatingSystems", "Browser", "Region", "TrafficType"):
        parsed = _float(pd.to_numeric(raw[column], errors="coerce"))
        flag(column, parsed, "an integer code")
        features[column] = parsed
    month = _parse_month(raw["Month"])
    flag("Month", month, "a month name or 1-12")
    features["Month"] = month
    features["VisitorType"] = raw["VisitorType"].astype("string").str.strip()
    weekend = _parse_bool(raw["Weekend"])
    flag("Weekend", weekend, "TRUE/FALSE")
    features["Weekend"] = weekend
    labels = None
    if label:
        labels = _parse_bool(raw[LABEL])
        missing = labels.isna()
        given = raw[LABEL].astype("string").fillna("")
        problems[missing] = (problems[missing] + f"{LABEL}: expected TRUE/FALSE, got '"
                             + given[missing].str.slice(0, 30) + "'; ")
    return features, labels, problems.str.rstrip("; ").astype(str), raw


def add_features(X: pd.DataFrame) -> pd.DataFrame:
    """Derived session features: whether any page had a value, totals, per-page times, value × staying."""
    X = X.copy()
    X["page_value_positive"] = (X["PageValues"] > 0).astype(float)
    X["pages"] = X["Administrative"] + X["Informational"] + X["ProductRelated"]
    X["duration"] = X["Administrative_Duration"] + X["Informational_Duration"] + X["ProductRelated_Duration"]
    X["product_seconds_per_page"] = X["ProductRelated_Duration"] / (X["ProductRelated"] + 1)
    X["page_value_x_stay"] = X["PageValues"] * (1 - X["ExitRates"])
    X["exit_minus_bounce"] = X["ExitRates"] - X["BounceRates"]
    X["page_value_per_product_page"] = X["PageValues"] / (X["ProductRelated"] + 1)
    return X


def fill_missing(X: pd.DataFrame) -> pd.DataFrame:
    """SMOTE-NC cannot interpolate missing values: they become -1, a value no column takes."""
    return X.fillna(-1)


ENGINEERED = ["page_value_positive", "pages", "duration", "product_seconds_per_page", "page_value_x_stay",
              "exit_minus_bounce", "page_value_per_product_page"]


class IntentClassifier(NiagaModel, ClassifierMixin, BaseEstimator):
    """LightGBM on the session features with a buyer-F1 threshold tuned on training folds.

    ``drop``: feature columns left out (the default drops the operating system, browser and region codes,
    which add noise, not signal, in cross-validation). ``imbalance``: "none" (the tuned threshold already
    handles the 15 % buyer rate), "balanced" class weights, or "smote" (SMOTE-NC on the training data).
    """

    task = "customers"

    def __init__(self, n_estimators: int = 400, learning_rate: float = 0.02, num_leaves: int = 15,
                 min_child_samples: int = 30, colsample_bytree: float = 0.7, subsample: float = 0.8,
                 reg_lambda: float = 1.0, imbalance: str = "none",
                 drop: tuple[str, ...] = ("OperatingSystems", "Browser", "Region"), threshold_cv: int = 5, random_state: int = 0):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.subsample = subsample
        self.reg_lambda = reg_lambda
        self.imbalance = imbalance
        self.drop = drop
        self.threshold_cv = threshold_cv
        self.random_state = random_state

    def _pipeline(self):
        from lightgbm import LGBMClassifier

        if self.imbalance not in IMBALANCE:
            raise ValueError(f"imbalance must be one of {IMBALANCE}, got {self.imbalance!r}")
        categorical = [c for c in CATEGORICAL if c not in self.drop]
        numeric = [c for c in NUMERIC + BOOLEAN + ENGINEERED if c not in self.drop]
        encode = ColumnTransformer(
            [("categorical", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                            encoded_missing_value=np.nan), categorical),
             ("numeric", "passthrough", numeric)], verbose_feature_names_out=False).set_output(transform="pandas")
        booster = LGBMClassifier(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                                 num_leaves=self.num_leaves,
                                 min_child_samples=self.min_child_samples, colsample_bytree=self.colsample_bytree,
                                 subsample=self.subsample, subsample_freq=1, reg_lambda=self.reg_lambda,
                                 class_weight="balanced" if self.imbalance == "balanced" else None,
                                 random_state=self.random_state, n_jobs=1, verbose=-1)
        steps = [("features", FunctionTransformer(add_features)), ("encode", encode)]
        if self.imbalance == "smote":
            from imblearn.over_sampling import SMOTENC
            from imblearn.pipeline import Pipeline as ImbPipeline

            steps += [("fill", FunctionTransformer(fill_missing)),
                      ("smote", SMOTENC(categorical_features=list(range(len(categorical))),
                                        random_state=self.random_state)),
                      ("model", booster)]
            return ImbPipeline(steps)
        return Pipeline(steps + [("model", booster)])

    def fit(self, X: pd.DataFrame, y) -> "IntentClassifier":
        y = np.asarray(y).astype(int)
        cv = StratifiedKFold(self.threshold_cv, shuffle=True, random_state=self.random_state)
        self.model_ = TunedThresholdClassifierCV(self._pipeline(), scoring="f1", cv=cv, refit=True,
                                                 random_state=self.random_state).fit(X[FEATURES], y)
        self.threshold_ = float(self.model_.best_threshold_)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray(FEATURES, dtype=object)
        self.n_features_in_ = len(FEATURES)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.estimator_.predict_proba(X[FEATURES])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)


def usable(path: str | Path, log: Callable[[str], None]) -> tuple[pd.DataFrame, np.ndarray]:
    """Labelled rows that parse; the others are reported (row number and reason), never silently dropped."""
    features, labels, problems, _ = read_sessions(path, label=True)
    bad = problems != ""
    if bad.any():
        shown = "; ".join(f"row {i + 2}: {problems[i]}" for i in problems.index[bad][:5])
        log(f"skipped {int(bad.sum())} row(s) that cannot be used: {shown}" + (" ..." if bad.sum() > 5 else ""))
    if (~bad).sum() < 20 or labels[~bad].nunique() < 2:
        raise DataError(f"{path}: need at least 20 usable rows with both purchase and non-purchase sessions")
    return features[~bad].reset_index(drop=True), labels[~bad].to_numpy(dtype=int)


def cross_validate_intent(X: pd.DataFrame, y: np.ndarray, folds: int = 5, seed: int = 0, progress: bool = True,
                          **params) -> dict:
    """Stratified k-fold CV: per fold the threshold is tuned inside the training folds, then applied to the test fold."""
    from sklearn.base import clone

    model = IntentClassifier(random_state=seed, **params)
    splits = kfold_splits(y.astype(str), n_splits=folds, seed=seed)  # labels as text: object ints confuse sklearn
    proba = np.zeros(len(y))
    pred = np.zeros(len(y), dtype=int)
    per_fold = []
    for train_idx, test_idx in tqdm(splits, desc=f"intent {folds}-fold CV", disable=not progress):
        fitted = clone(model).fit(X.iloc[train_idx], y[train_idx])
        proba[test_idx] = fitted.predict_proba(X.iloc[test_idx])[:, 1]
        pred[test_idx] = (proba[test_idx] >= fitted.threshold_).astype(int)
        fold = intent_metrics(y[test_idx], pred[test_idx], proba[test_idx])
        fold["threshold"] = fitted.threshold_
        per_fold.append(fold)
    keys = ["average_precision", "roc_auc", "f1", "precision", "recall", "accuracy", "threshold"]
    summary = {k: float(np.mean([f[k] for f in per_fold])) for k in keys}
    summary.update({f"{k}_std": float(np.std([f[k] for f in per_fold])) for k in keys})
    return {"mean": summary, "folds": per_fold, "oof_proba": proba, "oof_pred": pred}


CLASS_NAMES = ["no purchase", "purchase"]


def label_names(y) -> np.ndarray:
    return np.where(np.asarray(y) == 1, CLASS_NAMES[1], CLASS_NAMES[0])


def intent_metrics(y_true, y_pred, proba) -> dict:
    """The shared metrics plus the buyer class's own F1, precision and recall under flat names."""
    from sklearn.metrics import precision_recall_fscore_support

    metrics = classification_metrics(label_names(y_true), label_names(y_pred), np.column_stack([1 - proba, proba]),
                                     classes=CLASS_NAMES, positive_label=CLASS_NAMES[1])
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=[1], zero_division=0)
    metrics.update({"f1": float(f[0]), "precision": float(p[0]), "recall": float(r[0])})
    return metrics
