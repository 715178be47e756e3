"""Reading dataset folders and images, the data checks, and the tree-consistent decoding."""

import numpy as np
import pandas as pd
import pytest

from niaga.errors import DataError
from niaga.vision.checks import checks_markdown, parent_maps, run_checks
from niaga.vision.dataset import load_images, read_dataset, read_image, resolve_input
from niaga.vision.hierarchy import Hierarchy


def test_generic_and_fashion_layouts_read_the_same(tiny_data, tmp_path, maker):
    generic = read_dataset(tiny_data)
    fashion = read_dataset(maker.dataset(tmp_path / "fashion", layout="fashion"))
    assert generic.layout == "generic" and fashion.layout == "fashion"
    assert generic.levels == fashion.levels == ["master", "sub", "article"]
    assert generic.heads == ["master", "sub", "article", "gender"]
    assert len(generic.table) == len(fashion.table) == 84
    assert fashion.label_columns["article"] == "articleType"
    assert set(fashion.split("val")["article"]) == set(fashion.split("train")["article"])


def test_bad_dataset_folders_fail_with_one_line(tmp_path):
    with pytest.raises(DataError, match="no such directory"):
        read_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="not a dataset folder"):
        read_dataset(tmp_path / "empty")
    (tmp_path / "nolabels").mkdir()
    pd.DataFrame({"image": ["a.jpg"], "split": ["train"], "colour": ["red"]}).to_csv(
        tmp_path / "nolabels" / "labels.csv", index=False)
    with pytest.raises(DataError, match="no label column"):
        read_dataset(tmp_path / "nolabels")


def bad_files(folder, draw):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "notes.txt").write_text("not a picture")
    good = (folder / "good.jpg")
    draw("Heels", "Men", 1).save(good)
    (folder / "truncated.jpg").write_bytes(good.read_bytes()[:200])
    return folder


def test_read_image_names_the_problem(tmp_path, maker):
    folder = bad_files(tmp_path / "in", maker.draw)
    assert read_image(folder / "good.jpg", (40, 40)).shape == (40, 40, 3)  # letterboxed to the size asked
    for name, reason in [("empty.jpg", "empty file"), ("notes.txt", "not an image"), ("truncated.jpg", "corrupt"),
                         ("gone.jpg", "file not found")]:
        with pytest.raises(ValueError, match=reason):
            read_image(folder / name, (32, 24))
    images, errors = load_images([str(folder / n) for n in ["good.jpg", "empty.jpg"]], (32, 24))
    assert images.shape == (2, 32, 24, 3) and errors[0] == "" and errors[1] == "empty file"
    assert images[1].max() == 0


def test_resolve_input_from_a_folder_and_from_tables(tmp_path, tiny_data, maker):
    frame, table = resolve_input(bad_files(tmp_path / "in", maker.draw))
    assert table is None and frame["image"].tolist() == ["empty.jpg", "good.jpg", "notes.txt", "truncated.jpg"]
    ids = pd.DataFrame({"id": ["1001", "1002"], "note": ["a", "b"]})
    ids.to_csv(tiny_data / "ids.csv", index=False)
    frame, table = resolve_input(tiny_data / "ids.csv")
    assert frame["image"].tolist() == ["images/1001.jpg", "images/1002.jpg"]
    assert all((tiny_data / p).exists() for p in frame["image"]) and list(table.columns) == ["id", "note"]
    with pytest.raises(DataError, match="no image column"):
        pd.DataFrame({"x": [1]}).to_csv(tmp_path / "x.csv", index=False)
        resolve_input(tmp_path / "x.csv")


def test_checks_find_duplicates_unreadable_imbalance_and_two_parents(tmp_path, maker):
    root = maker.dataset(tmp_path / "shop")
    labels = pd.read_csv(root / "labels.csv")
    (root / "images" / "broken.jpg").write_bytes(b"\xff\xd8 nonsense")
    other = "train" if labels["split"].iloc[0] == "val" else "val"
    copy = labels.iloc[[0]].assign(image="images/copy.jpg", split=other)
    (root / "images" / "copy.jpg").write_bytes((root / labels["image"].iloc[0]).read_bytes())
    broken = labels.iloc[[1]].assign(image="images/broken.jpg")
    pd.concat([labels, copy, broken]).to_csv(root / "labels.csv", index=False)
    dataset = read_dataset(root)
    images, errors = load_images(dataset.table["path"].tolist(), (32, 24))
    report = run_checks(dataset.table, images, errors, dataset.levels, dataset.heads)
    assert [u["image"] for u in report["unreadable"]] == ["images/broken.jpg"]
    dup = report["duplicates"]["identical_files"]
    assert dup["groups"] == 1 and dup["groups_across_splits"] == 1
    conflict = report["hierarchy"]["children_with_several_parents"]
    assert [c["class"] for c in conflict] == ["Scarf"] and conflict[0]["majority_parent"] == "Accessories"
    assert report["imbalance"]["article"]["classes"] == 6
    page = checks_markdown(report)
    assert "| article | Scarf | Accessories |" in page and "broken.jpg" in page


def test_hierarchy_decoding_is_consistent_and_parents_are_surer():
    table = pd.DataFrame({"master": ["A", "A", "A", "B", "B"], "sub": ["a1", "a1", "a2", "b1", "a1"],
                          "article": ["x", "x", "y", "z", "x"]})
    maps, conflicts = parent_maps(table, ["master", "sub", "article"])
    assert maps["article"]["x"] == "a1" and [(c["class"], c["majority_parent"]) for c in conflicts] == [("a1", "A")]
    tree = Hierarchy(["master", "sub", "article"], {"master": ["A", "B"], "sub": ["a1", "a2", "b1"],
                                                     "article": ["x", "y", "z"]}, maps)
    rng = np.random.RandomState(0)
    proba = {k: rng.dirichlet(np.ones(n), size=200) for k, n in [("master", 2), ("sub", 3), ("article", 3)]}
    labels, confidence = tree.decode(proba)
    for article, sub, master in zip(labels["article"], labels["sub"], labels["master"]):
        assert maps["article"][article] == sub and maps["sub"][sub] == master
    assert (confidence["master"] >= confidence["sub"] - 1e-9).all()
    assert (confidence["sub"] >= confidence["article"] - 1e-9).all()
    # a confident coarse head overrules a fine head that hesitates between branches
    one = {"master": np.array([[0.05, 0.95]]), "sub": np.array([[0.3, 0.1, 0.6]]),
           "article": np.array([[0.45, 0.1, 0.45]])}
    assert tree.decode(one)[0]["article"][0] == "z"


def test_shared_fashion_and_grocery_folders(shared_data):
    fashion_root = shared_data / "images" / "fashion_product_images_small"
    grocery_root = shared_data / "images" / "grocery_store_dataset"
    if not fashion_root.exists() or not grocery_root.exists():
        pytest.skip("image datasets not in the shared data")
    fashion = read_dataset(fashion_root)
    assert fashion.layout == "fashion" and set(fashion.table["split"]) == {"train", "val"}
    assert fashion.table["article"].nunique() == 86 and fashion.table["image"].str.startswith("images/").all()
    maps, conflicts = parent_maps(fashion.split("train"), fashion.levels)
    assert {c["class"] for c in conflicts} >= {"Wallets", "Backpacks"}
    grocery = read_dataset(grocery_root)
    assert grocery.layout == "grocery" and set(grocery.table["split"]) == {"train", "val", "test"}
    assert len(grocery.catalogue) == 81 and grocery.catalogue["article"].is_unique
    assert all(__import__("pathlib").Path(p).exists() for p in grocery.catalogue["path"].head(5))
