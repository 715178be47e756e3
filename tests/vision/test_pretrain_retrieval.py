"""Self-supervised pretraining, the retrieval head, the approximate index and the shipped model's install."""

import json

import numpy as np
import pandas as pd
import torch

from niaga.cli import main
from niaga.modeling import load_model, save_model
from niaga.vision.pretrain import nt_xent, random_views
from niaga.vision.retrieval import RetrievalHead
from niaga.vision.search import VisualIndex, precision_at_k

TINY_PRETRAIN = ["--param", "widths=[8,16]", "--param", "blocks=[1,1]", "--param", "batch_size=16",
                 "--param", "view_size=[20,16]", "--param", "n_jobs=1", "--param", "verbose=false"]


def test_views_are_edited_copies_of_the_images_at_the_view_size():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 32, 24)
    a, b = random_views(x, (20, 16), generator), random_views(x, (20, 16), generator)
    assert a.shape == (6, 3, 20, 16) and float(a.min()) >= 0 and float(a.max()) <= 1
    assert not torch.allclose(a, b)  # two draws, two different edits


def test_the_loss_is_low_and_the_pretext_solved_when_views_agree():
    z = torch.randn(32, 8)
    same, accuracy = nt_xent(z, z + 0.01 * torch.randn(32, 8), temperature=0.1)
    unrelated, chance = nt_xent(z, torch.randn(32, 8), temperature=0.1)
    assert accuracy == 1.0 and chance < 0.3
    assert float(same) < float(unrelated)


def test_pretrain_command_saves_a_backbone_that_fine_tuning_loads(tiny_data, tmp_path, capsys, maker):
    out = tmp_path / "backbone"
    assert main(["vision", "pretrain", "--data", str(tiny_data), "--out", str(out), "--epochs", "2",
                 *TINY_PRETRAIN]) == 0
    printed = capsys.readouterr().out
    assert "pretrained a" in printed and "unlabelled images" in printed
    meta = json.loads((out / "model.json").read_text())
    assert meta["class"] == "niaga.vision.pretrain.ContrastivePretrainer"
    assert meta["sources"][0]["what"].startswith("generic dataset, splits train")
    train_images = int((pd.read_csv(tiny_data / "labels.csv")["split"] == "train").sum())
    assert meta["training_data"]["rows"] == train_images  # val stays unseen
    backbone = load_model(out)
    X = np.stack([np.asarray(maker.draw("Tshirt", "Men", i)) for i in range(4)])
    vectors = backbone.transform(X)
    assert vectors.shape == (4, 16) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)

    from niaga.vision.model import ProductClassifier

    y = pd.DataFrame({"article": ["Tshirt", "Shirt"] * 2, "gender": ["Men", "Women"] * 2})
    fine = ProductClassifier(**{**maker.tiny, "epochs": 1}, pretrained=str(out)).fit(X, y)
    assert fine.pretrained_loaded_ > 0


def test_pretrain_refuses_folders_without_images(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    assert main(["vision", "pretrain", "--data", str(empty), "--out", str(tmp_path / "o"), "--epochs", "1"]) == 2
    assert "could be read as an image" in capsys.readouterr().err


def test_the_retrieval_head_brings_same_class_items_closer_on_unseen_rows():
    rng = np.random.default_rng(0)
    n, classes = 900, 6
    label = rng.integers(0, classes, n)
    # the class lives in 4 of 32 dimensions; the other 28 are noise (as features shaped for other heads)
    X = rng.normal(0, 1.0, (n, 32)).astype(np.float32)
    X[:, :4] += rng.normal(0, 2.0, (classes, 4))[label]
    fit, held = np.arange(600), np.arange(600, n)
    head = RetrievalHead(dim=8, hidden=32, epochs=20, batch_size=128, learning_rate=1e-2).fit(
        X[fit], label[fit].astype(str))
    items = pd.DataFrame({"label": label[held].astype(str)})

    def p10(vectors):
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        index = VisualIndex(vectors, items)
        return precision_at_k(index, vectors, items["label"].tolist(), "label", 10,
                              exclude_rows=np.arange(len(held)))["precision_at_10"]

    assert p10(head.transform(X[held])) > p10(X[held]) + 0.05


def test_the_head_saves_as_data_and_reloads_to_the_same_vectors(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    y = pd.DataFrame({"article": np.where(X[:, 0] > 0, "a", "b"), "colour": np.where(X[:, 1] > 0, "red", "")})
    head = RetrievalHead(dim=4, hidden=8, epochs=3).fit(X, y)
    assert set(head.classes_) == {"article", "colour"} and head.classes_["colour"] == ["red"]
    save_model(head, tmp_path / "head", task="vision")
    assert not list((tmp_path / "head").glob("*.pkl"))
    np.testing.assert_allclose(load_model(tmp_path / "head").transform(X), head.transform(X), rtol=1e-6)


def test_a_large_catalogue_gets_an_approximate_index_that_finds_the_exact_neighbours(tmp_path):
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(2_000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    items = pd.DataFrame({"image": [f"{i}.jpg" for i in range(len(vectors))]})
    exact = VisualIndex(vectors, items)
    approximate = VisualIndex(vectors, items, approximate_from=1_000)
    assert exact.kind.startswith("exact") and approximate.kind.startswith("approximate")
    queries = vectors[:100] + rng.normal(0, 0.05, (100, 16)).astype(np.float32)
    _, want = exact.search(queries, 10)
    _, got = approximate.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got)])
    assert recall >= 0.95
    approximate.save(tmp_path / "index")
    again = VisualIndex.load(tmp_path / "index")
    assert again.kind == approximate.kind and json.loads((tmp_path / "index" / "index.json").read_text())[
        "index"].startswith("approximate")
    np.testing.assert_array_equal(again.search(queries, 10)[1], got)


def test_trained_models_search_through_their_head(tiny_model, tiny_data, tmp_path, capsys):
    meta = json.loads((tiny_model / "index" / "index.json").read_text())
    assert meta["projection"] and (tiny_model / "retrieval" / "model.json").exists()
    index = VisualIndex.load(tiny_model / "index")
    assert isinstance(index.projection, RetrievalHead)
    assert main(["vision", "retrieval", "--model", str(tiny_model), "--data", str(tiny_data),
                 "--param", "epochs=5"]) == 0
    assert "re-indexed" in capsys.readouterr().out


def test_the_main_job_installs_a_packaged_model_with_this_machines_catalogue(tiny_model, tiny_data, tmp_path,
                                                                             capsys):
    from niaga.main_job import install_shipped
    from niaga.vision.pipeline import load_search

    shipped = tmp_path / "shipped"
    assert main(["vision", "package", "--model", str(tiny_model), "--data", str(tiny_data),
                 "--out", str(shipped)]) == 0
    assert "packaged" in capsys.readouterr().out
    meta = json.loads((shipped / "model.json").read_text())
    assert not (shipped / "index").exists() and (shipped / "retrieval" / "model.json").exists()
    assert meta["shipped"]["data"]["sha256"]["labels.csv"] and meta["shipped"]["figures"]["val_accuracy (selection)"]
    assert load_model(shipped).predict(np.zeros((1, *load_model(shipped).image_size_, 3), np.uint8)).shape[0] == 1
    out = tmp_path / "runs" / "vision-products"
    install_shipped(shipped, out, tiny_data, log=lambda _: None)
    model, _, index = load_search(out)
    assert len(index) == len(pd.read_csv(tiny_data / "labels.csv")) and index.projection is not None
    assert index.items["path"].str.startswith(str(tiny_data)).all()  # this machine's files, not the builder's
    install_shipped(shipped, tmp_path / "no-catalogue", None, log=lambda _: None)
    assert not (tmp_path / "no-catalogue" / "index").exists()
