"""The estimator: fit / predict on tiny images, save and load, resume, pretrained weights, ONNX, search."""

import json

import numpy as np
import pytest
from sklearn.base import clone

from niaga.errors import NiagaError
from niaga.modeling import load_model, save_model, save_torch_weights
from niaga.vision.dataset import load_images, read_dataset
from niaga.vision.deploy import Runner, onnx_available
from niaga.vision.model import ProductClassifier
from niaga.vision.search import VisualIndex, precision_at_k
from niaga.vision import train as train_module


@pytest.fixture(scope="module")
def tiny_arrays(tiny_data):
    dataset = read_dataset(tiny_data)
    table = dataset.table
    images, errors = load_images(table["path"].tolist(), (32, 24))
    assert not any(errors)
    train, val = (table["split"] == "train").to_numpy(), (table["split"] == "val").to_numpy()
    heads = dataset.heads
    return images[train], table[train][heads].reset_index(drop=True), images[val], table[val][heads].reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(tiny_model):
    """The model the CLI trained (conftest), loaded: fit with validation data, saved, exported."""
    return load_model(tiny_model, task="vision")


def test_estimator_contract_and_consistent_predictions(fitted, tiny_arrays, maker):
    X, y, Xv, yv = tiny_arrays
    assert clone(fitted).get_params() == fitted.get_params() and not hasattr(clone(fitted), "module_")
    assert fitted.task == "vision" and fitted.image_size_ == (32, 24)
    pred = fitted.predict(Xv)
    assert list(pred.columns) == ["master", "master_confidence", "sub", "sub_confidence", "article",
                                  "article_confidence", "gender", "gender_confidence"]
    tree = fitted.hierarchy_
    for row in pred.itertuples():
        assert tree.parent_of("article", row.article) == row.sub and tree.parent_of("sub", row.sub) == row.master
    assert (pred["master_confidence"] >= pred["article_confidence"] - 1e-4).all()
    proba = fitted.predict_proba(Xv)  # scikit-learn's shape: the finest level, columns in its classes_ order
    assert fitted.finest_level_ == "article" and isinstance(proba, np.ndarray)
    assert proba.shape == (len(Xv), len(fitted.classes_["article"]))
    np.testing.assert_allclose(proba, fitted.predict_proba_levels(Xv)["article"])
    assert tree.parent_of("article", "Scarf") == "Accessories"  # the two noisy rows resolved to the majority
    assert (pred["article"] == yv["article"]).mean() > 0.5  # learns in 8 tiny epochs (chance 1/6)
    assert fitted.history_[-1]["val_score"] > 0 and fitted.training_["epochs"] == 8
    assert fitted.get_params()["epochs"] == 8 and list(fitted.get_params()["widths"]) == [8, 16]
    emb = fitted.embed(Xv)
    assert emb.shape == (len(Xv), 16) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)


def test_save_and_load_keep_predictions_and_write_no_pickle(fitted, tiny_arrays, tmp_path):
    _, _, Xv, _ = tiny_arrays
    out = save_model(fitted, tmp_path / "m", task="vision")
    names = {p.name for p in out.iterdir()}
    assert {"model.json", "model.skops", "network.safetensors"} <= names
    assert not any(n.endswith((".pkl", ".joblib", ".pickle", ".pt")) for n in names)
    loaded = load_model(out, task="vision")
    assert loaded.predict(Xv).equals(fitted.predict(Xv)) and loaded.weights_id_ == fitted.weights_id_
    with pytest.raises(NiagaError, match="expected a 'reviews' model"):
        load_model(out, task="reviews")


def test_an_interrupted_training_resumes_to_the_same_model(tiny_arrays, maker, tmp_path, monkeypatch):
    X, y, _, _ = tiny_arrays
    params = {**maker.tiny, "epochs": 3}
    whole = ProductClassifier(**params).fit(X, y)
    original, calls = train_module.save_checkpoint, []

    def interrupted(*args, **kwargs):
        original(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ProductClassifier(**params).fit(X, y, checkpoint_dir=tmp_path / "ck")
    state = json.loads((tmp_path / "ck" / "checkpoint.json").read_text())
    assert state["epoch"] == 2
    resumed = ProductClassifier(**params).fit(X, y, checkpoint_dir=tmp_path / "ck", resume=True)
    assert [h["epoch"] for h in resumed.history_] == [1, 2, 3]
    assert resumed.weights_id_ == whole.weights_id_
    with pytest.raises(ValueError, match="other data or parameters"):
        ProductClassifier(**{**params, "learning_rate": 0.01}).fit(X, y, checkpoint_dir=tmp_path / "ck", resume=True)


def test_pretrained_weights_load_and_the_frozen_backbone_stays(fitted, tiny_arrays, maker, tmp_path):
    X, y, _, _ = tiny_arrays
    weights = tmp_path / "pretrained.safetensors"
    save_torch_weights(fitted.module_, weights)
    # another label set (no gender head, master only): the backbone transfers, the heads do not all match
    model = ProductClassifier(**{**maker.tiny, "epochs": 2, "pretrained": str(weights), "freeze_fraction": 0.99})
    model.fit(X, y[["master"]])
    assert model.pretrained_loaded_ > 10
    before = fitted.module_.state_dict()
    after = model.module_.state_dict()
    assert all(np.allclose(before[k].numpy(), after[k].numpy()) for k in before if k.startswith(("stem.", "trunk.")))
    assert not np.allclose(before["heads.master.weight"].numpy(), after["heads.master.weight"].numpy())
    with pytest.raises(NiagaError, match="no tensor matches"):
        ProductClassifier(**{**maker.tiny, "widths": (4, 8), "pretrained": str(weights)}).fit(X, y)


@pytest.mark.skipif(not onnx_available(), reason="onnx / onnxruntime not installed")
def test_onnx_float_matches_torch_and_int8_is_measured(fitted, tiny_arrays):
    _, _, Xv, _ = tiny_arrays
    info = fitted.deployment_
    assert set(info["runtimes"]) == {"torch", "onnx", "onnx-int8", "onnx-int8-static"}
    assert info["fastest"] in info["runtimes"] and Runner(fitted).runtime_ == info["fastest"]
    torch_proba, torch_emb = Runner(fitted, "torch").run(Xv)
    onnx_proba, onnx_emb = Runner(fitted, "onnx").run(Xv, batch_size=7)  # batches of any size
    for head in fitted.classes_:
        np.testing.assert_allclose(onnx_proba[head], torch_proba[head], atol=1e-4)
    np.testing.assert_allclose(onnx_emb, torch_emb, atol=1e-4)
    for name in ("onnx-int8", "onnx-int8-static"):
        int8 = Runner(fitted, name)
        assert int8.runtime_ == name and int8.run(Xv)[0]["article"].shape == torch_proba["article"].shape


def test_search_index_is_exact_and_scores_precision(fitted, tiny_arrays, tmp_path):
    _, _, Xv, yv = tiny_arrays
    emb = fitted.embed(Xv)
    index = VisualIndex(emb, yv.assign(image=[f"{i}.jpg" for i in range(len(yv))]), fitted.weights_id_)
    scores, rows = index.search(emb[:3], 5)
    assert rows[:, 0].tolist() == [0, 1, 2] and np.all(np.diff(scores, axis=1) <= 1e-6)
    loaded = VisualIndex.load(index.save(tmp_path / "index"))
    assert loaded.weights_id == fitted.weights_id_ and np.array_equal(loaded.search(emb[:3], 5)[1], rows)
    brute = np.argsort(-(emb[:3] @ emb.T), axis=1)[:, :5]
    assert np.array_equal(rows, brute)
    p = precision_at_k(index, emb, yv["article"].tolist(), "article", k=3, exclude_rows=np.arange(len(yv)))
    assert 0 <= p["precision_at_3"] <= 1 and p["queries"] == len(yv)


def test_the_command_budget_keeps_a_measured_reserve_for_export_and_indexing(tiny_arrays, maker):
    from niaga.vision.pipeline import _reserve_seconds

    X, _, _, _ = tiny_arrays
    model = ProductClassifier(**maker.tiny)
    small, large = (_reserve_seconds(model, X, ["master", "article"], n) for n in (0, 200_000))
    assert 20 <= small < large < 3600


@pytest.mark.skipif(not onnx_available(), reason="onnx / onnxruntime not installed")
def test_int8_serves_only_where_its_labels_agree_with_float_on_99_percent(fitted, tiny_arrays, monkeypatch):
    """docs/vision.md: an int8 model is used only when its labels agree with float on >= 99 % of the sample."""
    import copy

    from niaga.vision import deploy

    _, _, Xv, _ = tiny_arrays
    speeds = {"torch": 1.0, "onnx": 2.0, "onnx-int8": 100.0, "onnx-int8-static": 50.0}  # int8 the fastest
    monkeypatch.setattr(deploy, "images_per_second", lambda runner, *a, **k: speeds[runner.runtime_])
    honest = deploy.prepare_deployment(copy.deepcopy(fitted), Xv)  # no calibration images: dynamic int8 only
    agreements = {n: r["label_agreement_with_onnx_float"] for n, r in honest["runtimes"].items()}
    assert agreements["onnx"] == 1.0
    assert honest["fastest"] == ("onnx-int8" if agreements["onnx-int8"] >= 0.99 else "onnx")

    run = deploy.Runner.run

    def int8_gets_it_wrong(self, images, *args, **kwargs):
        proba, embeddings = run(self, images, *args, **kwargs)
        if self.runtime_.startswith("onnx-int8"):  # every head's most probable class moves one column on
            proba = {h: np.roll(p, 1, axis=1) for h, p in proba.items()}
        return proba, embeddings

    monkeypatch.setattr(deploy.Runner, "run", int8_gets_it_wrong)
    wrong = deploy.prepare_deployment(copy.deepcopy(fitted), Xv)
    assert wrong["runtimes"]["onnx-int8"]["label_agreement_with_onnx_float"] < 0.99
    assert wrong["fastest"] == "onnx"  # the fastest that agrees
