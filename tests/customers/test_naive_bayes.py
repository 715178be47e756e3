"""The categorical Naive Bayes as an estimator: missing and unseen values, class weights, bad count tables."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from niaga.customers.naive_bayes import CategoricalNaiveBayes
from niaga.modeling import load_model, save_model

ROWS = pd.DataFrame({"colour": ["red", "red", "red", "blue", "blue", "red", "blue", "blue"],
                     "size": ["s", "s", "m", "m", "l", "s", "l", "l"]})
LABELS = ["a", "a", "a", "a", "b", "a", "b", "b"]


def test_fit_predict_and_probabilities_sum_to_one():
    model = CategoricalNaiveBayes(alpha=1.0).fit(ROWS, LABELS)
    proba = model.predict_proba(ROWS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(model.predict(pd.DataFrame({"colour": ["red", "blue"], "size": ["s", "l"]}))) == ["a", "b"]
    # P(colour=red | a) = 4/5 with counts 4 of 5, smoothed: (4+1)/(5+2)
    table = model.conditional_probabilities().set_index(["attribute", "value"])
    assert table.loc[("colour", "red"), "a"] == pytest.approx(5 / 7)


def test_missing_and_unseen_values_contribute_no_factor():
    model = CategoricalNaiveBayes().fit(ROWS, LABELS)
    only_colour = model.joint_scores(pd.DataFrame({"colour": ["blue"], "size": [None]}))
    unseen_size = model.joint_scores(pd.DataFrame({"colour": ["blue"], "size": ["xxl"]}))
    pd.testing.assert_frame_equal(only_colour, unseen_size)
    assert only_colour.loc[0, "b"] == pytest.approx(3 / 8 * 1.0)  # P(b) * P(blue | b)


def test_balanced_class_weight_makes_the_prior_uniform_and_keeps_likelihoods():
    plain = CategoricalNaiveBayes().fit(ROWS, LABELS)
    balanced = CategoricalNaiveBayes(class_weight="balanced").fit(ROWS, LABELS)
    np.testing.assert_allclose(balanced.class_prior_, [0.5, 0.5])
    pd.testing.assert_frame_equal(plain.conditional_probabilities(), balanced.conditional_probabilities())


def test_a_row_every_class_rules_out_falls_back_to_the_prior():
    model = CategoricalNaiveBayes().fit(ROWS, LABELS)
    # red appears only in class a, size l only in b: both classes score zero
    proba = model.predict_proba(pd.DataFrame({"colour": ["red"], "size": ["l"]}))
    np.testing.assert_allclose(proba[0], model.class_prior_)


def test_count_table_with_inconsistent_class_totals_is_refused():
    counts = pd.DataFrame({"attribute": ["x", "x", "y"], "value": ["1", "2", "1"], "a": [3, 1, 3], "b": [2, 2, 4]})
    with pytest.raises(ValueError, match="'y' adds up to"):
        CategoricalNaiveBayes.from_counts(counts)


def test_estimator_contract_and_round_trip(tmp_path):
    model = CategoricalNaiveBayes(alpha=0.5)
    assert clone(model).get_params() == {"alpha": 0.5, "class_weight": None}
    model.fit(ROWS, LABELS)
    save_model(model, tmp_path / "m", labels=model.classes_)
    loaded = load_model(tmp_path / "m", task="customers")
    np.testing.assert_allclose(loaded.predict_proba(ROWS), model.predict_proba(ROWS))
