"""LightGBM per typology on per-entity aggregates, stacked on the rules and the entity graph's rings.

One binary booster per typology: accounts for takeover, promo and refund abuse, sellers for brushing and fake
sellers. ``kind="stacked"`` (the default) reads every aggregate plus the ring features and which rules fired,
and lifts each ring member to its ring's mean score (the pipeline then keeps the rules' score as a floor); ``kind="lightgbm"`` reads the per-entity aggregates only
(velocity, sharing degree, refunds, bursts), the baseline the benchmark compares with. The model also carries
its training export's tables (``state/``, Parquet): new devices, addresses, first orders and the graph of the
next export are judged against them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from niaga.abuse.schema import ACCOUNT_TYPOLOGIES, SELLER_TYPOLOGIES
from niaga.errors import ModelLoadError
from niaga.modeling import NiagaModel

RING_COLUMNS = ("ring_size", "ring_created_span_hours", "ring_voucher_share", "ring_new_share", "ring_refund_share",
                "ring_takeover_share", "linked_buyer_share", "ring_made_within_week")
KINDS = ("stacked", "lightgbm")
STATE_DIR = "state"


def entity_matrix(frame: pd.DataFrame, fired: pd.DataFrame | None, kind: str) -> pd.DataFrame:
    """The columns a booster reads: aggregates (without ring features for ``lightgbm``), plus rule hits for
    ``stacked``."""
    columns = [c for c in frame.columns if c != "ring" and (kind == "stacked" or c not in RING_COLUMNS)]
    matrix = frame[columns].astype(float)
    if kind == "stacked" and fired is not None and fired.shape[1]:
        matrix = pd.concat([matrix, fired.astype(float).add_prefix("rule_")], axis=1)
    return matrix


def ring_lift(scores: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Each ring member's score raised to its ring's mean: a ring is scored as a whole."""
    out = np.asarray(scores, float).copy()
    member = ring >= 0
    if member.any():
        frame = pd.DataFrame({"ring": ring[member], "s": out[member]})
        mean = frame.groupby("ring")["s"].transform("mean").to_numpy()
        out[member] = np.maximum(out[member], mean)
    return out


class AbuseModel(NiagaModel, BaseEstimator):
    """Boosters per typology; ``boosters_`` (typology → LightGBM booster), ``columns_`` (typology → feature
    names), ``positives_`` (typology → training positives), ``state_`` (table → frame carried as history)."""

    task = "abuse"
    external_state = ("boosters_", "state_")

    def __init__(self, kind: str = "stacked", n_estimators: int = 300, learning_rate: float = 0.05,
                 num_leaves: int = 15, min_child_samples: int = 5, seed: int = 0):
        self.kind = kind
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed

    def _params(self, y: np.ndarray) -> dict:
        return {"objective": "binary", "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_child_samples": min(self.min_child_samples, max(1, int(y.sum()) // 2)),
                "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "seed": self.seed,
                "verbose": -1, "num_threads": 1}

    def fit(self, matrices: dict[str, pd.DataFrame], labels: dict[str, np.ndarray], state=None,
            rule_scores: dict[str, np.ndarray] | None = None) -> "AbuseModel":
        """``matrices``: typology → entity matrix (``entity_matrix``); ``labels``: typology → 0/1 per row;
        ``rule_scores``: typology → the rules' score per row. With them (``stacked``), each typology keeps what
        wins in 3-fold cross-validation on the training export: the model over the rules' floor, or the rules
        alone (``validation_``)."""
        import lightgbm as lgb

        if self.kind not in KINDS:
            raise ValueError(f"kind: one of {', '.join(KINDS)}")
        self.boosters_, self.columns_, self.positives_, self.validation_ = {}, {}, {}, {}
        for typology, X in matrices.items():
            y = np.asarray(labels[typology], int)
            self.positives_[typology] = int(y.sum())
            if y.sum() < 2 or y.sum() == len(y):
                continue  # nothing to learn from: the rules score this typology
            if self.kind == "stacked" and rule_scores is not None and typology in rule_scores:
                self.validation_[typology] = self._validate(X, y, np.asarray(rule_scores[typology], float))
            self.boosters_[typology] = lgb.train(self._params(y), lgb.Dataset(X.to_numpy(float), y,
                                                                              feature_name=list(X.columns)),
                                                 self.n_estimators)
            self.columns_[typology] = list(X.columns)
        self.state_ = state or {}
        return self

    def _validate(self, X: pd.DataFrame, y: np.ndarray, rules: np.ndarray) -> dict:
        """Out-of-fold average precision of the model over the rules' floor against the rules alone."""
        import lightgbm as lgb
        from sklearn.metrics import average_precision_score
        from sklearn.model_selection import StratifiedKFold

        if y.sum() < 6:  # too few cases to tell: the rules decide, the model only adds above them
            return {"uses": "model", "reason": f"{int(y.sum())} cases: too few to validate"}
        oof = np.zeros(len(y))
        folds = StratifiedKFold(3, shuffle=True, random_state=self.seed)
        for train, test in folds.split(X, y):
            booster = lgb.train(self._params(y[train]), lgb.Dataset(X.iloc[train].to_numpy(float), y[train]),
                                self.n_estimators)
            oof[test] = booster.predict(X.iloc[test].to_numpy(float))
        model_ap = float(average_precision_score(y, np.maximum(oof, rules)))
        rules_ap = float(average_precision_score(y, rules))
        return {"uses": "model" if model_ap >= rules_ap else "rules", "model_ap": round(model_ap, 4),
                "rules_ap": round(rules_ap, 4)}

    def predict_scores(self, matrices: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
        """typology → score (0-1) per row; a typology without a booster is left out."""
        out = {}
        for typology, booster in self.boosters_.items():
            X = matrices.get(typology)
            if X is None:
                continue
            X = X.reindex(columns=self.columns_[typology]).fillna(0.0)
            out[typology] = booster.predict(X.to_numpy(float))
        return out

    def save_artifacts(self, directory: Path) -> None:
        super().save_artifacts(directory)
        for typology, booster in self.boosters_.items():
            booster.save_model(str(Path(directory) / f"booster_{typology}.txt"))
        state = Path(directory) / STATE_DIR
        state.mkdir(exist_ok=True)
        for name, frame in self.state_.items():
            frame.drop(columns=[c for c in frame.columns if c.startswith("_")]).to_parquet(state / f"{name}.parquet",
                                                                                           index=False)

    @classmethod
    def load_artifacts(cls, directory: Path, metadata: dict) -> "AbuseModel":
        import lightgbm as lgb

        model = super().load_artifacts(directory, metadata)
        model.boosters_ = {}
        for typology in (*ACCOUNT_TYPOLOGIES, *SELLER_TYPOLOGIES):
            if typology in model.columns_:
                path = Path(directory) / f"booster_{typology}.txt"
                if not path.exists():
                    raise ModelLoadError(f"{directory}: model.json is there but {path.name} is missing")
                model.boosters_[typology] = lgb.Booster(model_file=str(path))
        model.state_ = {p.stem: pd.read_parquet(p) for p in sorted((Path(directory) / STATE_DIR).glob("*.parquet"))}
        return model
