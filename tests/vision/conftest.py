"""Tiny synthetic product photos made with PIL: the class is drawn (shape, colour), so a tiny CNN learns it."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw

# article -> (sub, master, shape, colour); one articleType ("Scarf") also appears under a second parent
TREE = {
    "Tshirt": ("Topwear", "Apparel", "square", (200, 40, 40)),
    "Shirt": ("Topwear", "Apparel", "square", (40, 40, 200)),
    "Jeans": ("Bottomwear", "Apparel", "bar", (40, 40, 200)),
    "Heels": ("Shoes", "Footwear", "triangle", (200, 40, 40)),
    "Sneaker": ("Shoes", "Footwear", "triangle", (40, 160, 40)),
    "Scarf": ("Accessories", "Accessories", "circle", (200, 160, 40)),
}
GENDERS = {"Men": (250, 250, 250), "Women": (235, 225, 245)}
TINY = {"widths": (8, 16), "blocks": (1, 1), "epochs": 8, "batch_size": 8, "learning_rate": 0.1,
        "validate_from": 0.0, "verbose": False, "n_jobs": 1}
TINY_PARAMS = ["--param", "widths=[8,16]", "--param", "blocks=[1,1]", "--param", "batch_size=8",
               "--param", "learning_rate=0.1", "--param", "n_jobs=1", "--param", "verbose=false"]


def draw(article: str, gender: str, seed: int, size=(24, 32)) -> Image.Image:
    """A product photo: a coloured shape on a plain background, jittered in place and size."""
    rng = np.random.RandomState(seed)
    _, _, shape, colour = TREE[article]
    width, height = size
    image = Image.new("RGB", size, GENDERS[gender])
    d = ImageDraw.Draw(image)
    cx, cy = width / 2 + rng.randint(-2, 3), height / 2 + rng.randint(-2, 3)
    r = 7 + rng.randint(0, 3)
    colour = tuple(int(np.clip(c + rng.randint(-20, 21), 0, 255)) for c in colour)
    if shape == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif shape == "bar":
        d.rectangle([cx - 3, cy - r - 4, cx + 3, cy + r + 4], fill=colour)
    elif shape == "triangle":
        d.polygon([(cx - r, cy + r), (cx + r, cy + r), (cx, cy - r)], fill=colour)
    else:
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    return image


def make_dataset(root: Path, per_class: int = 14, layout: str = "generic") -> Path:
    """A dataset folder in the generic layout (labels.csv) or the fashion one (styles.csv + splits.csv)."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    rows, n = [], 0
    for article, (sub, master, _, _) in TREE.items():
        for i in range(per_class):
            gender = "Men" if i % 2 else "Women"
            n += 1
            name = f"images/{1000 + n}.jpg"
            draw(article, gender, n).save(root / name, quality=95)
            split = "val" if i % 3 == 0 else "train"
            rows.append({"id": str(1000 + n), "image": name, "split": split, "master": master, "sub": sub,
                         "article": article, "gender": gender})
    frame = pd.DataFrame(rows)
    # label noise like the fashion data's: two Scarf rows under another parent
    scarf = frame.index[frame["article"] == "Scarf"][:2]
    frame.loc[scarf, ["sub", "master"]] = ["Topwear", "Apparel"]
    if layout == "fashion":
        styles = frame.rename(columns={"master": "masterCategory", "sub": "subCategory", "article": "articleType"})
        styles[["id", "gender", "masterCategory", "subCategory", "articleType"]].assign(
            productDisplayName="x").to_csv(root / "styles.csv", index=False)
        styles[["id", "image", "articleType", "split"]].to_csv(root / "splits.csv", index=False)
    else:
        frame.drop(columns="id").to_csv(root / "labels.csv", index=False)
    return root


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("vision") / "shop")


@pytest.fixture(scope="session")
def tiny_model(tiny_data, tmp_path_factory) -> Path:
    """A model trained once through the CLI for the tests that only use one."""
    from niaga.cli import main

    out = tmp_path_factory.mktemp("vision-model") / "model"
    assert main(["vision", "train", "--data", str(tiny_data), "--out", str(out), "--epochs", "8", *TINY_PARAMS]) == 0
    return out


@pytest.fixture(scope="session")
def maker():
    """The helpers above, for tests that make their own variants (test modules cannot import conftest)."""
    return type("Maker", (), {"dataset": staticmethod(make_dataset), "draw": staticmethod(draw), "tiny": TINY,
                              "tiny_params": TINY_PARAMS})
