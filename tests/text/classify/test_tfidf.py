import numpy as np
import pytest

from niaga.text.classify.tfidf import TfidfTextClassifier
from niaga.text import TextNormalizer


def test_probabilities_are_calibrated_rows_and_predict_agrees():
    texts = ["bagus mantap"] * 5 + ["rusak kecewa"] * 5 + ["biasa saja"] * 5
    labels = ["pos"] * 5 + ["neg"] * 5 + ["neu"] * 5
    model = TfidfTextClassifier(normalizer=TextNormalizer(normalize_slang=False), calibration_cv=3).fit(texts, labels)
    proba = model.predict_proba(["bagus mantap", "rusak", "", None])
    assert proba.shape == (4, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert list(model.predict(["bagus mantap", "rusak kecewa"])) == ["pos", "neg"]
    assert list(model.classes_) == ["neg", "neu", "pos"]


def test_refuses_labels_with_a_single_example():
    with pytest.raises(ValueError, match="at least 2 examples"):
        TfidfTextClassifier(normalizer=TextNormalizer(normalize_slang=False)).fit(["a b", "c d", "e f"], ["x", "x", "y"])


def test_quality_guard_on_prdect_sentiment(shared_data):
    """A regression guard, not the benchmark: a grouped 80/20 split of PRDECT-ID sentiment."""
    from niaga.data.text import load_prdect_id
    from niaga.evaluation import classification_metrics, kfold_splits

    frame = load_prdect_id("sentiment")
    texts, labels = frame["text"].tolist(), np.asarray(frame["label"].tolist(), dtype=object)
    train, test = kfold_splits(labels, 5, groups=[t.lower().strip() for t in texts])[0]
    model = TfidfTextClassifier().fit([texts[i] for i in train], labels[train])
    metrics = classification_metrics(labels[test], model.predict([texts[i] for i in test]))
    assert metrics["f1_macro"] >= 0.94


@pytest.mark.parametrize("linear_model", ["svm", "nbsvm", "svm+nbsvm"])
def test_each_linear_model_learns_a_toy_task(linear_model):
    texts = ["bagus mantap", "mantap sekali", "bagus puas"] * 3 + ["rusak kecewa", "jelek rusak", "kecewa sekali"] * 3
    labels = ["pos"] * 9 + ["neg"] * 9
    model = TfidfTextClassifier(normalizer=TextNormalizer(normalize_slang=False), linear_model=linear_model,
                                calibration_cv=3).fit(texts, labels)
    assert list(model.predict(["puas bagus", "kecewa jelek"])) == ["pos", "neg"]
    with pytest.raises(ValueError, match="linear_model"):
        TfidfTextClassifier(linear_model="forest").fit(texts, labels)
