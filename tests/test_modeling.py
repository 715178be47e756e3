import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from niaga.errors import ModelLoadError
from niaga.modeling import fingerprint, load_model, save_model
from niaga.reviews.tfidf import TfidfTextClassifier
from niaga.text import TextNormalizer

POS = ["barang bagus sekali", "mantap pengiriman cepat", "kualitas bagus harga murah", "seller ramah barang bagus",
       "suka sekali mantap", "rekomendasi bagus", "cepat sampai mantap", "puas bagus"]
NEG = ["barang rusak parah", "kecewa pengiriman lama", "kualitas jelek mahal", "seller tidak ramah rusak",
       "tidak sesuai kecewa", "jelek sekali", "lama sampai rusak", "kecewa jelek"]


@pytest.fixture(scope="module")
def model():
    texts, labels = POS + NEG, ["pos"] * len(POS) + ["neg"] * len(NEG)
    return TfidfTextClassifier(normalizer=TextNormalizer(normalize_slang=False), calibration_cv=2).fit(texts, labels)


def test_save_load_roundtrip_keeps_predictions_and_metadata(model, tmp_path):
    save_model(model, tmp_path / "m", labels=model.classes_, metrics={"f1_macro": 0.5}, data_sha256="abc", data_rows=16)
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["task"] == "reviews" and meta["labels"] == ["neg", "pos"]
    assert meta["params"]["C"] == model.C and meta["training_data"] == {"sha256": "abc", "rows": 16}
    assert meta["niaga_version"] and meta["metrics"]["f1_macro"] == 0.5
    loaded = load_model(tmp_path / "m", task="reviews")
    texts = ["barang bagus", "rusak kecewa"]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.metadata_["class"].endswith("TfidfTextClassifier")


def test_load_rejects_foreign_and_incompatible_directories(model, tmp_path):
    with pytest.raises(ModelLoadError, match="no such directory"):
        load_model(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="not a niaga model"):
        load_model(tmp_path / "empty")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "model.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelLoadError, match="not a niaga model"):
        load_model(tmp_path / "foreign")
    save_model(model, tmp_path / "m")
    with pytest.raises(ModelLoadError, match="'reviews' model, expected a 'fraud' model"):
        load_model(tmp_path / "m", task="fraud")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    (tmp_path / "m" / "model.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(ModelLoadError, match="upgrade niaga or retrain"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "model.json").write_text(json.dumps({**meta, "class": "os.system"}))
    with pytest.raises(ModelLoadError, match="not a niaga class"):
        load_model(tmp_path / "m")


def test_fingerprint_depends_on_content_and_order():
    assert fingerprint(["a", "b"], ["x", "y"]) == fingerprint(["a", "b"], ["x", "y"])
    assert fingerprint(["a", "b"], ["x", "y"]) != fingerprint(["b", "a"], ["x", "y"])
    assert fingerprint(["a", "b"], ["x", "y"]) != fingerprint(["a", "b"], ["x", "z"])


def test_estimator_contract_clone_and_grid_search():
    est = TfidfTextClassifier(normalizer=TextNormalizer(normalize_slang=False), C=0.7, calibration_cv=2)
    copy = clone(est)
    assert copy.get_params()["C"] == 0.7 and not hasattr(copy, "classes_")
    grid = GridSearchCV(est, {"C": [0.1, 1.0]}, cv=2, scoring="accuracy")
    grid.fit(POS + NEG, ["pos"] * len(POS) + ["neg"] * len(NEG))
    assert grid.best_params_["C"] in (0.1, 1.0) and grid.best_score_ >= 0.5
