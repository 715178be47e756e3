"""The scorer as a long-running stream: snapshot and restore, resume from a snapshot plus the decisions
logged after it, LightGBM's public API giving the same answers as its internals, honest training slices."""

import numpy as np
import pandas as pd
import pytest

from niaga.fraud.autoencoder import FoldAutoencoders
from niaga.fraud.booster import BoosterPredictor, internals_usable
from niaga.fraud.checkpoint import Checkpoint
from niaga.fraud.features import batch_features
from niaga.fraud.log import DecisionLog
from niaga.fraud.model import SLICES, FraudModel
from niaga.fraud.rules import load_rules
from niaga.fraud.schema import normalize
from niaga.fraud.scorer import FraudScorer

from .conftest import simulate

SMALL = dict(n_estimators=60, learning_rate=0.1, num_leaves=15, min_child_samples=10, ae_epochs=3)


@pytest.fixture(scope="module")
def model():
    canonical = normalize(simulate(seed=21))
    features = batch_features(canonical)
    return FraudModel(**SMALL).fit(features, canonical.loc[features.index, "label"].to_numpy())


@pytest.fixture(scope="module")
def records():
    """A later stream of the same simulated shop, as the dicts a consumer would receive."""
    frame = simulate(n_customers=80, days=12, seed=22)
    frame["TRANSACTION_ID"] = "x" + frame["TRANSACTION_ID"].astype(str)
    frame["TX_DATETIME"] += pd.Timedelta(days=45)
    return frame.to_dict("records")


def outputs(results: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(results)[["transaction_id", "fraud_score", "decision", "reasons"]]


def test_resume_from_a_snapshot_and_the_decisions_logged_after_it(model, records, tmp_path):
    """A consumer snapshots at a checkpoint, logs more decisions, crashes before its next snapshot; a new
    scorer restores the snapshot, takes the logged decisions in again (unscored) and goes on: every answer
    equals an uninterrupted scorer's, and each transaction is logged once."""
    rules = load_rules()
    reference = FraudScorer(model, rules)
    expected = outputs([reference.score(r) for r in records])
    first, second = len(records) // 3, 2 * len(records) // 3
    with DecisionLog(tmp_path / "log.duckdb") as log:
        scorer = FraudScorer(model, rules)
        checkpoint = Checkpoint(scorer, tmp_path / "stream.npz", log)
        assert checkpoint.open().empty and not checkpoint.resumed
        scorer.journal = []
        results = [scorer.score(r) for r in records[:first]]
        checkpoint.commit_journal()  # log, then snapshot
        (tmp_path / "stream.npz").replace(tmp_path / "kept.npz")
        results += [scorer.score(r) for r in records[first:second]]
        checkpoint.commit_journal()
        (tmp_path / "kept.npz").replace(tmp_path / "stream.npz")  # as if killed after logging, before the snapshot
        del scorer

        restarted = FraudScorer(model, rules)
        checkpoint = Checkpoint(restarted, tmp_path / "stream.npz", log)
        done = checkpoint.open()
        assert checkpoint.resumed and len(done) == second and restarted.seq == second
        restarted.journal = []
        results += [restarted.score(r) for r in records[second:]]
        checkpoint.commit_journal()
        logged = log.db.df("SELECT transaction_id, count(*) FROM decisions GROUP BY 1")
    got = outputs(results)
    np.testing.assert_allclose(got["fraud_score"], expected["fraud_score"], atol=1e-12)
    assert got["decision"].tolist() == expected["decision"].tolist()
    assert got["reasons"].tolist() == expected["reasons"].tolist()
    assert len(logged) == len(records) and (logged.iloc[:, 1] == 1).all()
    # a redelivered transaction is recognised, even right after a restart
    assert restarted.score(records[first + 1])["reasons"].startswith("invalid input: transaction_id: duplicate")


def test_lightgbm_public_api_gives_the_same_scores_and_reasons(model, records, monkeypatch):
    """The single-row C API path (LightGBM internals) and the public predict(pred_contrib=True) fallback."""
    assert internals_usable(), "this LightGBM is outside the tested range: the fast path is not exercised"
    rules = load_rules()
    fast = FraudScorer(model, rules)
    assert model.predictor.use_internals
    with_internals = outputs([fast.score(r) for r in records[:600]])
    model.__dict__["_predictor"] = BoosterPredictor(model.booster_, len(model.columns_), use_internals=False)
    try:
        slow = FraudScorer(model, rules)
        public = outputs([slow.score(r) for r in records[:600]])
    finally:
        model.__dict__.pop("_predictor")
    assert (with_internals["decision"] != "approve").any(), "nothing flagged: the reasons are not compared"
    np.testing.assert_allclose(public["fraud_score"], with_internals["fraud_score"], rtol=0, atol=1e-12)
    assert public["decision"].tolist() == with_internals["decision"].tolist()
    assert public["reasons"].tolist() == with_internals["reasons"].tolist()
    monkeypatch.setenv("NIAGA_LIGHTGBM_PUBLIC", "1")
    assert not internals_usable()


def test_each_slice_has_one_job_and_the_autoencoder_error_is_out_of_fold(model):
    bounds = [model.slices_[name] for name in SLICES]
    assert bounds[0][0] == 0 and all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert all(b > a for a, b in bounds), "a slice is empty on this data"
    report = model.fit_report()
    assert report["held_out"]["n"] == bounds[3][1] - bounds[3][0] and 0.5 < report["held_out"]["roc_auc"] <= 1
    assert report["early_stopping"]["trees"] >= 1 and "out-of-fold" in report["autoencoder_error"]

    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(300, 4)), rng.normal(loc=3.0, size=(300, 4))])
    y = np.zeros(600)
    folds = FoldAutoencoders(n_folds=2, epochs=2)
    errors = folds.fit_transform(X, y)
    first, second = folds.models_
    np.testing.assert_allclose(errors[:300], first.score_samples(X[:300]))  # the model that did not see them
    np.testing.assert_allclose(first.mean_, X[300:].mean(axis=0))  # ... trained on the other fold only
    np.testing.assert_allclose(second.mean_, X[:300].mean(axis=0))
    np.testing.assert_allclose(folds.score_samples(X[:5]), first.score_samples(X[:5]))  # the latest period's
