"""Batch and online features agree, use no future information, and reproduce the handbook's own features."""

import numpy as np
import pandas as pd
import pytest

from niaga.fraud.features import (HANDBOOK_NAMES, FeatureConfig, IpCountries, OnlineFeatureState, batch_features,
                                  online_features)
from niaga.fraud.schema import normalize

from .conftest import ecommerce_like


def assert_same(batch: pd.DataFrame, online: pd.DataFrame) -> None:
    assert list(batch.index) == list(online.index) and list(batch.columns) == list(online.columns)
    for column in batch.columns:
        a, b = batch[column].to_numpy(), online[column].to_numpy()
        if a.dtype == object or b.dtype == object:
            assert [None if v is None else v for v in a] == [None if v is None else v for v in b], column
        else:
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-9, equal_nan=True,
                                       err_msg=column)


def test_batch_and_online_give_the_same_values_on_the_same_stream(stream):
    canonical = normalize(stream)
    batch = batch_features(canonical)
    assert_same(batch, online_features(canonical))
    # the stream has same-second transactions of one customer: each sees only those before it in the input
    assert batch["customer_nb_tx_2min"].max() >= 2
    assert batch["terminal_risk_7d"].max() > 0 and batch["terminal_days_since_first_fraud"].notna().any()


def test_batch_and_online_agree_on_ecommerce_fields():
    frame = ecommerce_like()
    table = IpCountries([1e8, 2e9], [1.5e9, 4e9], ["Indonesia", "Japan"])
    canonical = normalize(frame)
    batch = batch_features(canonical, ip_countries=table)
    assert_same(batch, online_features(canonical, ip_countries=table))
    assert batch["device_accounts"].max() == (frame["device_id"] == "DSHARED0001").sum()
    assert set(batch["country"].dropna()) == {"Indonesia", "Japan"} and batch["country"].isna().any()
    first = batch["seconds_since_signup"].to_numpy()
    expected = (canonical.loc[batch.index, "ts"] - canonical.loc[batch.index, "signup_ts"]).to_numpy()
    np.testing.assert_allclose(first, expected)


def test_labels_reach_the_features_only_after_the_delay():
    day = 86400
    frame = pd.DataFrame({"transaction_id": range(5), "customer_id": ["a", "b", "c", "d", "e"],
                          "terminal_id": ["T"] * 5, "amount": [10.0] * 5, "label": [1, 0, 0, 0, 0],
                          "timestamp": pd.Timestamp("2018-01-01") + pd.to_timedelta(
                              [0, 3 * day, 7 * day - 1, 7 * day, 10 * day], unit="s")})
    features = batch_features(normalize(frame), FeatureConfig(label_delay_days=7))
    # the fraud at t=0 is known from t=7 days (inclusive), not a second earlier; the legit one at 3 days from 10
    assert list(features["terminal_risk_30d"]) == [0.0, 0.0, 0.0, 1.0, 0.5]
    assert features["terminal_days_since_last_fraud"].isna().tolist() == [True, True, True, False, False]


def test_no_feature_depends_on_later_transactions(stream):
    canonical = normalize(stream)
    base = batch_features(canonical)
    cut = base.index[len(base) // 2]
    changed = canonical.copy()
    later = base.index[len(base) // 2 + 1:]
    changed.loc[later, "amount"] *= 3
    changed.loc[later, "label"] = 1 - changed.loc[later, "label"]
    again = batch_features(changed)
    earlier = base.index[: len(base) // 2 + 1]
    assert_same(base.loc[earlier], again.loc[earlier])
    assert base.loc[cut:].shape == again.loc[cut:].shape


def test_online_state_uses_investigator_feedback_after_the_delay():
    state = OnlineFeatureState(FeatureConfig(label_delay_days=1))
    names = FeatureConfig().names
    risk = names.index("terminal_risk_1d")
    state.update("t1", 0.0, 10.0, "a", "T")  # no label carried ...
    state.add_label("t1", 1.0)  # ... an investigator resolves it as fraud
    assert state.update("t2", 3600.0, 10.0, "b", "T")[risk] == 0.0
    assert state.update("t3", 86400.0, 10.0, "c", "T")[risk] == 1.0
    with pytest.raises(ValueError, match="before the stream's last time"):
        state.update("t4", 0.0, 10.0, "d", "T")


def test_reproduces_the_handbook_features(shared_data):
    """Our batch features equal the book's features_2018-08.parquet, computed from June–August (the
    30+7-day windows need June). Customer features are checked on a subset of customers, terminal features
    on a subset of terminals (features of one card or terminal depend on its own history only)."""
    from niaga.data import fraud as fraud_data

    tx = fraud_data.load_handbook(["2018-06", "2018-07", "2018-08"])
    reference = fraud_data.load_handbook_reference_features("2018-08").set_index("TRANSACTION_ID")
    for kind, column, keep in (("customer", "CUSTOMER_ID", 300), ("terminal", "TERMINAL_ID", 600)):
        part = tx[tx[column] < keep]
        ours = batch_features(normalize(part))
        ours.index = part.loc[ours.index, "TRANSACTION_ID"].to_numpy()
        ours = ours.loc[ours.index.intersection(reference.index)]
        theirs = reference.loc[ours.index]
        # the book sorts each card's transactions with an unstable sort: same-second pairs may swap
        tx_august = part.set_index("TRANSACTION_ID").loc[ours.index]
        tie = tx_august.duplicated(["CUSTOMER_ID", "TX_DATETIME"], keep=False).to_numpy()
        for name, book_name in HANDBOOK_NAMES.items():
            if name.startswith(kind) or not name.startswith(("customer", "terminal")):
                np.testing.assert_allclose(ours[name].to_numpy()[~tie], theirs[book_name].to_numpy()[~tie],
                                           rtol=1e-9, atol=1e-9, err_msg=name)
        assert len(ours) > 10_000 and tie.sum() < 10


def test_batch_and_online_agree_on_real_streams(shared_data):
    """The first four days of the handbook's stream (every card and terminal), and e-commerce purchases."""
    from niaga.data import fraud as fraud_data

    handbook = fraud_data.load_handbook(["2018-04"])
    canonical = normalize(handbook[handbook["TX_DATETIME"] < "2018-04-05"])
    config = FeatureConfig(label_delay_days=1)  # labels mature inside these four days
    assert_same(batch_features(canonical, config), online_features(canonical, config))
    shop = normalize(fraud_data.load_ecommerce().head(5000))
    table = IpCountries.from_frame(fraud_data.load_ip_countries())
    assert_same(batch_features(shop, ip_countries=table), online_features(shop, ip_countries=table))
