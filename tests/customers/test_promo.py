"""Seed 003's experiment: rows rebuilt from Table 1, binning, the Table 4 CV layout, SMOTE and a stronger model."""

import numpy as np
import pandas as pd
import pytest

from niaga.customers.promo import (FEATURES, LABEL, OneHotClassifier, discretize, make_promo_model, promo_cv,
                                   read_promo_table, seed_rows, seed_table1, smote_resample, table4_markdown)
from niaga.errors import DataError


def test_seed_rows_reproduce_every_count_of_table1():
    rows = seed_rows()
    table = seed_table1().set_index(["attribute", "value"])
    for attribute in FEATURES:
        counts = pd.crosstab(rows[attribute], rows[LABEL])
        for value, per_class in counts.iterrows():
            assert per_class.to_dict() == table.loc[(attribute, value)].astype(int).to_dict()


def test_discretization_by_binning():
    frame = pd.DataFrame({"age": [17, 20, 21, "<=20", None], "purchase_frequency": [0, 1, 3, 9, "often"]})
    out = discretize(frame)
    assert out["age"].tolist()[:4] == ["<=20", "<=20", ">20", "<=20"] and pd.isna(out["age"][4])
    assert out["purchase_frequency"].tolist() == ["rarely", "rarely", "normal", "often", "often"]


def test_cv_table_has_the_papers_layout_and_shares_folds_between_models():
    rows = seed_rows()
    X, y = rows[FEATURES], rows[LABEL].to_numpy(dtype=object)
    both = promo_cv(X, y, ks=[2, 3], models={"naive-bayes": make_promo_model(), "logistic": make_promo_model("logistic")},
                    progress=False)
    alone = promo_cv(X, y, ks=[2, 3], models={"naive-bayes": make_promo_model()}, progress=False)
    assert list(both.columns) == ["model", "k", "accuracy", "precision", "recall", "kappa"]
    assert both["k"].tolist() == [2, 2, 3, 3]
    pd.testing.assert_frame_equal(both[both.model == "naive-bayes"].reset_index(drop=True), alone)
    assert both["accuracy"].between(0, 100).all() and both["kappa"].between(-1, 1).all()
    assert "| 3 fold |" in table4_markdown(both)


def test_smote_balances_classes_even_when_one_is_tiny():
    X = pd.DataFrame({"a": list("xxxxxxxxyyz") + ["y"], "b": list("ppqqppqqpqpq")})
    y = np.array(["big"] * 9 + ["small"] * 3, dtype=object)
    X_res, y_res = smote_resample(X, y)
    assert pd.Series(y_res).value_counts().to_dict() == {"big": 9, "small": 9}
    assert set(X_res["a"]) <= set(X["a"])  # SMOTE-N makes nominal values, never new ones


def test_one_hot_model_ignores_values_it_never_saw():
    rows = seed_rows()
    model = OneHotClassifier().fit(rows[FEATURES], rows[LABEL])
    odd = rows[FEATURES].head(2).assign(payment=["crypto", None])
    assert model.predict_proba(odd).shape == (2, 5)


def test_survey_table_rows_without_label_are_reported(tmp_path):
    path = tmp_path / "survey.csv"
    pd.DataFrame({"age": [18, 30, 25], "gender": ["female", "male", "male"], "promotion": ["cashback", "", "discount"]}
                 ).to_csv(path, index=False)
    X, y, skipped = read_promo_table(path)
    assert list(y) == ["cashback", "discount"] and X["age"].tolist() == ["<=20", ">20"]
    assert skipped["row"].tolist() == [3] and skipped["error"].tolist() == ["missing label"]
    with pytest.raises(DataError, match="missing column"):
        read_promo_table(path, label_col="promo")
