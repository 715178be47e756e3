"""Seed 003: which promotion a Shopee user uses, from survey answers, with categorical Naive Bayes.

The paper's 284 survey rows are not public; its Table 1 (every attribute value counted per class) is.
``seed_rows()`` rebuilds 284 rows whose per-class counts equal Table 1 exactly. How the attributes
combine inside a class is not published, so each attribute's values are shuffled independently within
the class (fixed seed): the rows carry Table 1's information and no more, which is precisely what
Naive Bayes assumes. Cross-validated numbers on these rows therefore sit near, not on, the paper's Table 4.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d
from tqdm.auto import tqdm

from niaga.customers.naive_bayes import VALUE, CategoricalNaiveBayes, category_frame
from niaga.data.io import read_table, require_columns, write_table
from niaga.errors import DataError
from niaga.evaluation import classification_metrics, kfold_splits
from niaga.modeling import NiagaModel, write_json

LABEL = "promotion"
FEATURES = ["age", "gender", "knows_shopee", "has_account", "role", "purchase_frequency", "uses_promotion",
            "product", "payment"]
AGE_EDGE = 20  # the paper's bins: <=20, >20
# The paper bins "average purchases" into rarely / normal / often without giving edges; ours, in purchases
# per month: at most 1 is rarely, 2 to 4 normal, more than 4 often.
FREQUENCY_EDGES = (1, 4)
MODEL_KINDS = ("naive-bayes", "logistic", "lightgbm")

# Seed 003, Table 4: Naive Bayes under k-fold cross-validation (accuracy, precision, recall in %).
PAPER_TABLE4 = pd.DataFrame(
    [(2, 85.92, 45.57, 41.08, 0.348), (3, 88.73, 64.42, 45.41, 0.451), (4, 88.03, 56.37, 48.62, 0.453),
     (5, 87.32, 53.43, 46.04, 0.420), (6, 88.38, 57.54, 46.29, 0.439), (7, 87.68, 63.45, 44.54, 0.415),
     (8, 86.97, 63.43, 44.37, 0.407), (9, 88.03, 64.40, 46.20, 0.406), (10, 88.38, 66.37, 48.70, 0.444)],
    columns=["k", "accuracy", "precision", "recall", "kappa"])


def seed_table1(with_paper_names: bool = False) -> pd.DataFrame:
    """Table 1 of seed 003: attribute, value, then the count per promotion class (values in English;
    ``with_paper_names`` adds the paper's Indonesian attribute and value names)."""
    with resources.files("niaga.resources").joinpath("promo_seed003_table1.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={VALUE: str})
    return table if with_paper_names else table.drop(columns=["paper_attribute", "paper_value"])


def seed_rows(counts: pd.DataFrame | None = None, seed: int = 0) -> pd.DataFrame:
    """Rows (features + ``promotion``) whose per-class attribute counts equal the count table exactly."""
    counts = seed_table1() if counts is None else counts
    model = CategoricalNaiveBayes.from_counts(counts)  # validates the table: equal class totals per attribute
    rng = np.random.default_rng(seed)
    blocks = []
    for c, label in enumerate(model.classes_):
        size = int(round(model.class_count_[c]))
        block = {LABEL: [label] * size}
        for i, attribute in enumerate(model.feature_names_in_):
            values = np.repeat(model.categories_[i], np.rint(model.category_count_[i][c]).astype(int))
            block[attribute] = rng.permutation(values)
        blocks.append(pd.DataFrame(block))
    rows = pd.concat(blocks, ignore_index=True)
    return rows[[*model.feature_names_in_, LABEL]].sample(frac=1.0, random_state=seed).reset_index(drop=True)


def bin_values(values: pd.Series, edges: Sequence[float], labels: Sequence[str]) -> pd.Series:
    """Discretization by binning: numbers go to the bin (right-closed) of ``edges``; text stays as it is."""
    numbers = pd.to_numeric(values, errors="coerce")
    binned = pd.cut(numbers, [-np.inf, *edges, np.inf], labels=list(labels)).astype("string")
    return binned.where(numbers.notna(), values.astype("string"))


def discretize(frame: pd.DataFrame) -> pd.DataFrame:
    """The paper's transformation step: numeric age and purchase frequency become its categories."""
    out = frame.copy()
    if "age" in out:
        out["age"] = bin_values(out["age"], [AGE_EDGE], ["<=20", ">20"])
    if "purchase_frequency" in out:
        out["purchase_frequency"] = bin_values(out["purchase_frequency"], FREQUENCY_EDGES, ["rarely", "normal", "often"])
    return out


def read_promo_table(path: str | Path | None, label_col: str = LABEL) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Features, labels and the skipped rows (no label) of a survey table; ``None`` gives the seed rows."""
    if path is None:
        rows = seed_rows()
        return rows[FEATURES], rows[LABEL].to_numpy(dtype=object), rows.iloc[0:0]
    frame = read_table(path)
    require_columns(frame, [label_col], path)
    features = [c for c in frame.columns if c != label_col]
    if not features:
        raise DataError(f"{path}: no attribute columns besides the label {label_col!r}")
    labels = frame[label_col].astype("string").str.strip()
    missing = labels.isna() | (labels == "")
    skipped = frame.loc[missing].assign(row=frame.index[missing] + 2, error="missing label")
    kept = frame.loc[~missing]
    if kept[label_col].nunique() < 2:
        raise DataError(f"{path}: column {label_col!r} needs at least 2 distinct labels to train")
    return discretize(kept[features]).reset_index(drop=True), labels[~missing].to_numpy(dtype=object), skipped


class OneHotClassifier(NiagaModel, ClassifierMixin, BaseEstimator):
    """A stronger model for categorical survey answers: one-hot encoding, then logistic regression or LightGBM."""

    task = "customers"

    def __init__(self, estimator: str = "logistic", C: float = 1.0, class_weight: str | None = None,
                 random_state: int = 0):
        self.estimator = estimator
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def _classifier(self):
        if self.estimator == "logistic":
            return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        if self.estimator == "lightgbm":
            from lightgbm import LGBMClassifier

            # A few hundred rows: small trees and leaves that may hold few rows.
            return LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=7, min_child_samples=3,
                                  class_weight=self.class_weight, random_state=self.random_state, n_jobs=1,
                                  verbose=-1)
        raise ValueError(f"unknown estimator {self.estimator!r}; choose logistic or lightgbm")

    def fit(self, X, y) -> "OneHotClassifier":
        frame = category_frame(X).astype("string").fillna("<missing>")
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if len(np.unique(y)) < 2:
            raise ValueError(f"need at least 2 classes to train, got 1 class: {np.unique(y)}")
        encoder = ColumnTransformer([("onehot", OneHotEncoder(handle_unknown="ignore"), list(frame.columns))])
        self.pipeline_ = make_pipeline(encoder, self._classifier()).fit(frame.astype(object), y)
        self.classes_ = self.pipeline_.classes_
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def predict_proba(self, X) -> np.ndarray:
        frame = category_frame(X, self.feature_names_in_)
        missing = [f for f in self.feature_names_in_ if f not in frame.columns]
        if missing:
            raise ValueError(f"missing attribute column(s) {missing}; the model uses {list(self.feature_names_in_)}")
        return self.pipeline_.predict_proba(frame.astype("string").fillna("<missing>").astype(object))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def make_promo_model(kind: str = "naive-bayes", alpha: float = 0.0, class_weight: str | None = None):
    if kind == "naive-bayes":
        return CategoricalNaiveBayes(alpha=alpha, class_weight=class_weight)
    if kind in ("logistic", "lightgbm"):
        return OneHotClassifier(estimator=kind, class_weight=class_weight)
    raise ValueError(f"unknown promotion model {kind!r}; choose one of {', '.join(MODEL_KINDS)}")


def smote_resample(X: pd.DataFrame, y: np.ndarray, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Oversample every minority class to the majority's size with SMOTE-N (SMOTE for nominal attributes)."""
    from imblearn.over_sampling import SMOTEN

    smallest = int(pd.Series(y).value_counts().min())
    if smallest < 2:
        raise ValueError("SMOTE needs at least 2 rows of every class in the training data")
    sampler = SMOTEN(k_neighbors=min(5, smallest - 1), random_state=seed)
    nominal = X.astype("string").fillna("<missing>").astype(object)
    X_res, y_res = sampler.fit_resample(nominal, np.asarray(y, dtype=object))
    return pd.DataFrame(X_res, columns=X.columns).replace("<missing>", np.nan), np.asarray(y_res, dtype=object)


def fit_promo_model(model, X: pd.DataFrame, y: np.ndarray, smote: bool = False, seed: int = 0):
    if smote:
        X, y = smote_resample(X, y, seed)
    return model.fit(X, y)


def promo_cv(X: pd.DataFrame, y: Sequence, ks: Iterable[int] = range(2, 11), models: dict | None = None,
             smote: bool = False, seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """The paper's Table 4 for each model: k-fold CV (stratified, the same folds for every model) per k.

    Metrics are computed on the pooled out-of-fold predictions (every row predicted once): with 8 rows
    in the smallest class, per-fold macro scores would mostly measure which classes a fold happens to hold.
    """
    y = np.asarray(y, dtype=object)
    models = models or {"naive-bayes": make_promo_model("naive-bayes")}
    classes = sorted(set(y))
    rows = []
    ks = list(ks)
    with tqdm(total=sum(ks) * len(models), desc="promotion CV", disable=not progress) as bar:
        for k in ks:
            folds = kfold_splits(y, n_splits=k, seed=seed)
            for name, estimator in models.items():
                oof = np.empty(len(y), dtype=object)
                for train_idx, test_idx in folds:
                    model = fit_promo_model(clone(estimator), X.iloc[train_idx], y[train_idx], smote, seed)
                    oof[test_idx] = model.predict(X.iloc[test_idx])
                    bar.update()
                m = classification_metrics(y, oof, classes=classes)
                rows.append({"model": name, "k": k, "accuracy": 100 * m["accuracy"],
                             "precision": 100 * m["precision_macro"], "recall": 100 * m["recall_macro"],
                             "kappa": m["cohen_kappa"]})
    return pd.DataFrame(rows)


def table4_markdown(table: pd.DataFrame) -> str:
    """The CV table in the paper's layout: one row per k, accuracy / precision / recall in %, kappa."""
    lines = []
    for name, block in table.groupby("model", sort=False):
        lines += [f"**{name}**", "", "| scenario | accuracy % | precision % | recall % | kappa |",
                  "|---|---|---|---|---|"]
        lines += [f"| {r.k} fold | {r.accuracy:.2f} | {r.precision:.2f} | {r.recall:.2f} | {r.kappa:.3f} |"
                  for r in block.itertuples()]
        lines.append("")
    return "\n".join(lines)


def write_cv_report(table: pd.DataFrame, directory: str | Path, context: dict) -> Path:
    """The CV table as a report: cv.csv, metrics.json (every row, and each model's best k), cv.png (accuracy and
    kappa against k per model) and report.md in the paper's Table 4 layout."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_table(table, directory / "cv.csv", create_parent=True)
    best = {name: block.loc[block["accuracy"].idxmax()].to_dict() for name, block in table.groupby("model", sort=False)}
    write_json({"rows": table.to_dict(orient="records"), "best_k_by_accuracy": best, "context": context},
               directory / "metrics.json")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for name, block in table.groupby("model", sort=False):
        axes[0].plot(block["k"], block["accuracy"], marker="o", label=name)
        axes[1].plot(block["k"], block["kappa"], marker="o", label=name)
    for ax, label in zip(axes, ("accuracy (%)", "Cohen's kappa")):
        ax.set_xlabel("folds (k)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("Promotion models under k-fold CV (pooled out-of-fold predictions)")
    fig.tight_layout()
    fig.savefig(directory / "cv.png", dpi=110)
    plt.close(fig)
    lines = ["# Promotion models: k-fold cross-validation (seed 003, Table 4 layout)", ""]
    lines += [f"- **{k}**: {v}" for k, v in context.items()]
    lines += ["", table4_markdown(table), "![accuracy and kappa against k](cv.png)", ""]
    (directory / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return directory
