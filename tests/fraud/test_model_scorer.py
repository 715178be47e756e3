"""The model (LightGBM + autoencoder + calibration) and the real-time scorer, including bad input."""

import numpy as np
import pandas as pd
import pytest

from niaga.errors import ModelLoadError
from niaga.fraud.autoencoder import Autoencoder
from niaga.fraud.features import batch_features
from niaga.fraud.model import AE_FEATURE, FraudModel
from niaga.fraud.rules import load_rules
from niaga.fraud.schema import normalize
from niaga.fraud.scorer import FraudScorer
from niaga.modeling import load_model, save_model

from .conftest import simulate

SMALL = dict(n_estimators=60, learning_rate=0.1, num_leaves=15, min_child_samples=10, ae_epochs=3)


@pytest.fixture(scope="module")
def trained():
    frame = simulate(seed=1)
    canonical = normalize(frame)
    features = batch_features(canonical)
    y = canonical.loc[features.index, "label"].to_numpy()
    return FraudModel(**SMALL).fit(features, y), features, y


def test_autoencoder_error_is_higher_for_unusual_rows():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(2, 6))
    usual = rng.normal(size=(1500, 2)) @ mixing + rng.normal(scale=0.05, size=(1500, 6))  # rows on a plane
    unusual = rng.normal(size=(200, 6)) * usual.std(axis=0)  # same spread, off the plane
    ae = Autoencoder(epochs=20, hidden=16, bottleneck=3, batch_size=128, learning_rate=1e-2).fit(usual)
    assert np.median(ae.score_samples(unusual)) > 3 * np.median(ae.score_samples(usual[:200]))
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_model_scores_are_calibrated_probabilities_that_rank_frauds_higher(trained):
    model, features, y = trained
    proba = model.predict_proba(features)[:, 1]
    assert ((proba > 0) & (proba < 1)).all()
    assert proba[y == 1].mean() > 5 * proba[y == 0].mean()
    assert AE_FEATURE in model.columns_ and "terminal_risk_7d" in model.columns_
    assert "device_accounts" not in model.columns_  # absent from this data: left out, not a column of NaN
    assert model.calibration_[0] > 0  # increasing: the calibration keeps the ranking


def test_model_saves_and_loads_with_the_same_scores(trained, tmp_path):
    model, features, _ = trained
    save_model(model, tmp_path / "m", labels=["legit", "fraud"])
    loaded = load_model(tmp_path / "m", task="fraud")
    np.testing.assert_array_equal(loaded.predict_proba(features.head(300)), model.predict_proba(features.head(300)))
    with pytest.raises(ModelLoadError, match="expected a 'reviews' model"):
        load_model(tmp_path / "m", task="reviews")


def test_micro_batches_give_exactly_what_one_at_a_time_gives(trained):
    model, _, _ = trained
    frame = simulate(n_customers=30, days=20, seed=7)
    canonical = normalize(frame)
    batched = FraudScorer(model, load_rules()).score_frame(canonical, batch_size=256)
    one_by_one = FraudScorer(model, load_rules())
    singles = pd.DataFrame([one_by_one.score(r) for r in frame.to_dict("records")])  # already in time order
    np.testing.assert_allclose(batched["fraud_score"].to_numpy(), singles["fraud_score"].to_numpy(), atol=1e-6)
    assert batched["decision"].tolist() == singles["decision"].tolist()
    assert batched["reasons"].tolist() == singles["reasons"].tolist()
    flagged = batched[batched["decision"] != "approve"]
    assert len(flagged) and flagged["reasons"].str.contains(r"\(\+\d", regex=True).any()


def test_bad_input_gets_a_decision_and_a_reason_never_an_exception(trained):
    model, _, _ = trained
    frame = pd.DataFrame({
        "TRANSACTION_ID": [1, 2, 3, 4, 5, 6, 6, 8],
        "TX_DATETIME": ["2018-04-01 10:00", "2018-04-01 10:01", "garbage", "2018-04-01 10:03", "2018-04-01 10:04",
                        "2018-04-01 10:05", "2018-04-01 10:06", "2018-04-01 10:07"],
        "CUSTOMER_ID": [1, 2, 3, None, 5, 6, 7, 99999],
        "TERMINAL_ID": [1, 2, 3, 4, None, 6, 7, 88888],
        "TX_AMOUNT": [10.0, -3.0, 5.0, 5.0, 5.0, None, 5.0, 20.0]})
    scored = FraudScorer(model, load_rules()).score_frame(normalize(frame))
    assert len(scored) == len(frame) and scored["decision"].notna().all()
    reasons = scored["reasons"].tolist()
    assert reasons[1] == "invalid input: amount: negative -3.0"
    assert reasons[2] == "invalid input: timestamp: cannot parse 'garbage'"
    assert reasons[3] == "invalid input: customer_id: missing"
    assert reasons[4] == "invalid input: terminal_id: missing"
    assert reasons[5] == "invalid input: amount: missing"
    assert reasons[6] == "invalid input: transaction_id: duplicate of row 7"
    assert scored["fraud_score"].isna().tolist() == [False, True, True, True, True, True, True, False]
    assert set(scored["decision"][1:7]) == {"review"}
    # a card and a terminal never seen before are scored from an empty history
    assert 0 <= scored["fraud_score"][7] <= 1

    scorer = FraudScorer(model, load_rules())
    first = scorer.score({"transaction_id": "a", "timestamp": "2018-04-02 09:00", "customer_id": 1,
                          "terminal_id": 3, "amount": 12.5})
    assert 0 <= first["fraud_score"] <= 1 and first["decision"] in {"approve", "challenge", "review", "block"}
    again = scorer.score({"transaction_id": "a", "timestamp": "2018-04-02 09:01", "customer_id": 1,
                          "terminal_id": 3, "amount": 12.5})
    assert again["reasons"].startswith("invalid input: transaction_id: duplicate")
    # older than the state's latest: scored from the history up to its time, flagged, not added to the state
    clock = scorer.until
    late = scorer.score({"transaction_id": "b", "timestamp": "2018-04-01 09:00", "customer_id": 1,
                         "terminal_id": 3, "amount": 1})
    assert late["reasons"].startswith("out of order: 2018-04-01 09:00:00 is before the state's latest transaction "
                                      "(2018-04-02 09:00:00)") and 0 <= late["fraud_score"] <= 1
    assert scorer.until == clock and "b" in scorer.seen
    assert scorer.score({"transaction_id": "c", "timestamp": "2018-04-03", "customer_id": 1, "terminal_id": 3,
                         "amount": "lots"})["reasons"] == "invalid input: amount: not a number 'lots'"


@pytest.mark.parametrize("kind", ["cards", "shop"])
def test_reason_contributions_add_up_to_the_raw_score(trained, kind):
    """The reasons' SHAP values (LightGBM's TreeSHAP, missing values and categories included) plus the
    expected value give the booster's raw score, one row at a time (C API) and in batches (public API)."""
    from niaga.fraud.features import IpCountries

    from .conftest import ecommerce_like

    if kind == "cards":
        model, features, _ = trained
    else:
        canonical = normalize(ecommerce_like(800))
        features = batch_features(canonical, ip_countries=IpCountries([1e8, 2e9], [1.5e9, 4e9], ["ID", "JP"]))
        y = canonical.loc[features.index, "label"].to_numpy()
        model = FraudModel(**SMALL).fit(features, y)
        assert model.categories_  # country, source, browser, sex are categorical splits
    M = model.matrix(features.head(400))
    M[np.random.default_rng(0).random(M.shape) < 0.1] = np.nan
    contributions = model.contributions(M)
    assert contributions.shape == (len(M), len(model.columns_) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_score_matrix(M), atol=1e-9)
    one = np.vstack([model.contributions(M[i:i + 1]) for i in range(20)])
    np.testing.assert_allclose(one, contributions[:20], atol=1e-12)
