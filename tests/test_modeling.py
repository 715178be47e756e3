import json
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from niaga.cli import main
from niaga.errors import ModelLoadError
from niaga.modeling import fingerprint, load_model, save_model
from niaga.text import TextNormalizer
from niaga.text.classify.tfidf import TfidfTextClassifier

POS = ["barang bagus sekali", "mantap pengiriman cepat", "kualitas bagus harga murah", "seller ramah barang bagus",
       "suka sekali mantap", "rekomendasi bagus", "cepat sampai mantap", "puas bagus"]
NEG = ["barang rusak parah", "kecewa pengiriman lama", "kualitas jelek mahal", "seller tidak ramah rusak",
       "tidak sesuai kecewa", "jelek sekali", "lama sampai rusak", "kecewa jelek"]


@pytest.fixture(scope="module")
def model():
    texts, labels = POS + NEG, ["pos"] * len(POS) + ["neg"] * len(NEG)
    return TfidfTextClassifier(normalizer=TextNormalizer(normalize_slang=False), calibration_cv=2).fit(texts, labels)


def test_save_load_roundtrip_keeps_predictions_and_metadata(model, tmp_path):
    save_model(model, tmp_path / "m", labels=model.classes_, metrics={"f1_macro": 0.5}, data_sha256="abc", data_rows=16,
               task="reviews")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["task"] == "reviews" and meta["labels"] == ["neg", "pos"]
    assert meta["params"]["C"] == model.C and meta["training_data"] == {"sha256": "abc", "rows": 16}
    assert meta["niaga_version"] and meta["metrics"]["f1_macro"] == 0.5
    assert list(meta["artifacts"]) == ["model.skops"] and len(meta["artifacts"]["model.skops"]) == 64
    loaded = load_model(tmp_path / "m", task="reviews")
    texts = ["barang bagus", "rusak kecewa"]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.metadata_["class"].endswith("TfidfTextClassifier")
    # the normalizer's lexicons travel with the model (saved as arrays, restored as the same sets)
    assert loaded.normalizer_.vocabulary_ == model.normalizer_.vocabulary_
    assert not any(p.suffix in (".joblib", ".pkl") for p in (tmp_path / "m").iterdir())


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
    save_model(model, tmp_path / "m", task="reviews")
    with pytest.raises(ModelLoadError, match="'reviews' model, expected a 'fraud' model"):
        load_model(tmp_path / "m", task="fraud")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    (tmp_path / "m" / "model.json").write_text(json.dumps({**meta, "format_version": 99}))
    with pytest.raises(ModelLoadError, match="upgrade niaga or retrain"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "model.json").write_text(json.dumps({**meta, "class": "os.system"}))
    with pytest.raises(ModelLoadError, match="not a niaga class"):
        load_model(tmp_path / "m")


def test_an_artifact_changed_after_saving_is_refused(model, tmp_path):
    save_model(model, tmp_path / "m", task="reviews")
    artifact = tmp_path / "m" / "model.skops"
    data = bytearray(artifact.read_bytes())
    data[-100] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="model.skops was changed after the model was saved"):
        load_model(tmp_path / "m")
    artifact.unlink()
    with pytest.raises(ModelLoadError, match="model.skops is missing"):
        load_model(tmp_path / "m")


def _malicious_pickle(target) -> bytes:
    """A pickle whose loading calls pathlib.Path(target).touch()."""
    import pathlib

    class Payload:
        def __reduce__(self):
            return (pathlib.Path.touch, (pathlib.Path(target),))
    return pickle.dumps(Payload())


def _pickled_model_dir(directory, target):
    directory.mkdir()
    (directory / "model.joblib").write_bytes(_malicious_pickle(target))
    (directory / "model.json").write_text(json.dumps({
        "format": "niaga-model", "format_version": 1, "task": "reviews",
        "class": "niaga.text.classify.tfidf.TfidfTextClassifier"}))
    return directory


def test_a_pickled_model_is_refused_and_its_code_never_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NIAGA_TRUST_PICKLE", raising=False)
    target = tmp_path / "pwned"
    directory = _pickled_model_dir(tmp_path / "old", target)
    with pytest.raises(ModelLoadError, match="stored as a pickle.*--trust-pickle"):
        load_model(directory, task="reviews")
    assert not target.exists()
    # the CLI: one line, exit 2, nothing written
    assert main(["reviews", "classify", "--model", str(directory), "bagus"]) == 2
    assert "stored as a pickle" in capsys.readouterr().err
    assert not target.exists()
    # a pickle renamed into a format-2 directory is refused too: its sha256 is not the recorded one
    (directory / "model.skops").write_bytes(_malicious_pickle(target))
    meta = json.loads((directory / "model.json").read_text())
    (directory / "model.json").write_text(json.dumps({**meta, "format_version": 2, "artifacts": {"model.skops": "0" * 64}}))
    with pytest.raises(ModelLoadError):
        load_model(directory)
    assert not target.exists()


def test_trusting_a_pickle_is_the_users_explicit_choice(tmp_path, monkeypatch):
    target = tmp_path / "ran"
    directory = _pickled_model_dir(tmp_path / "old", target)
    monkeypatch.setenv("NIAGA_TRUST_PICKLE", "1")
    with pytest.raises(ModelLoadError, match="holds a"):  # the pickle ran: it was trusted, and is not a model
        load_model(directory)
    assert target.exists()


def test_skops_file_with_an_untrusted_type_is_refused(model, tmp_path):
    import collections

    import skops.io as sio

    save_model(model, tmp_path / "m", task="reviews")
    tampered = clone(model)
    tampered.__dict__.update(model.__dict__)
    tampered.extra_ = collections.deque([1, 2])  # a type outside niaga's trusted list
    sio.dump(tampered, tmp_path / "m" / "model.skops")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    from niaga.modeling import sha256_file

    meta["artifacts"]["model.skops"] = sha256_file(tmp_path / "m" / "model.skops")
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelLoadError, match="types niaga does not trust: collections.deque"):
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
    scores = grid.cv_results_["mean_test_score"]
    assert len(set(grid.cv_results_["param_C"])) == 2 and grid.best_score_ == max(scores)
    assert grid.best_params_["C"] == grid.cv_results_["param_C"][int(np.argmax(scores))]
    assert grid.best_estimator_.C == grid.best_params_["C"]  # set_params reached the refitted estimator


def test_cli_trust_pickle_flag_lets_the_user_load_their_old_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NIAGA_TRUST_PICKLE", "")  # recorded, so the flag's setting is undone after the test
    target = tmp_path / "ran"
    directory = _pickled_model_dir(tmp_path / "old", target)
    assert main(["reviews", "classify", "--model", str(directory), "--trust-pickle", "bagus"]) == 2
    assert target.exists() and "holds a" in capsys.readouterr().err
