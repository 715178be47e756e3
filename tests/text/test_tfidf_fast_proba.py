"""The TF-IDF classifier's numpy path for calibrated probabilities gives scikit-learn's numbers exactly."""

import numpy as np
import pytest

from niaga.text.classify.tfidf import TfidfTextClassifier

TEXTS = ["barang bagus sekali mantap", "pengiriman cepat seller ramah", "kualitas bagus harga murah puas",
         "barang rusak parah kecewa", "pengiriman lama sekali kecewa", "kualitas jelek mahal rusak",
         "biasa saja tidak istimewa", "lumayan lah sesuai harga", "cukup oke tapi lama"]


@pytest.mark.parametrize("labels", [["pos"] * 3 + ["neg"] * 6, ["pos"] * 3 + ["neg"] * 3 + ["mid"] * 3])
@pytest.mark.parametrize("linear_model", ["svm", "nbsvm", "svm+nbsvm"])
def test_numpy_probabilities_equal_scikit_learns(labels, linear_model):
    model = TfidfTextClassifier(linear_model=linear_model, calibration_cv=2, min_df=1).fit(TEXTS * 3, labels * 3)
    texts = ["barang bagus", "rusak kecewa", "", "lama", "biasa saja harga murah"]
    features = model.vectorizer_.transform(model.normalizer_.transform(texts))
    assert (model.transform_features(texts) != features).nnz == 0
    expected = sum(c.predict_proba(features) for c in model.classifiers_) / len(model.classifiers_)
    np.testing.assert_allclose(model.predict_proba(texts), expected, rtol=0, atol=1e-12)
