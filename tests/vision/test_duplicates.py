"""``niaga vision duplicates``: copies of one listing found by perceptual hash and embedding, grouped, with
what differs, and the counterfeit pattern (several sellers, one far cheaper)."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageDraw, ImageEnhance

from niaga.cli import main
from niaga.errors import DataError
from niaga.vision import duplicates as dup
from niaga.vision.pipeline import duplicates


def photo(seed: int, size: int = 96) -> Image.Image:
    """A distinct 'product photo': random colour fields at three scales (structure at coarse and fine
    frequencies, as photos have)."""
    rng = np.random.default_rng(seed)
    layers = [np.asarray(Image.fromarray(rng.integers(0, 256, size=(n, n, 3), dtype=np.uint8))
                         .resize((size, size), Image.BICUBIC), dtype=np.float32) for n in (4, 12, 32)]
    return Image.fromarray(np.clip(0.5 * layers[0] + 0.3 * layers[1] + 0.2 * layers[2], 0, 255).astype(np.uint8))


def edits(image: Image.Image) -> dict[str, Image.Image]:
    w, h = image.size
    stamped = image.copy()
    ImageDraw.Draw(stamped).rectangle([w // 8, h // 8, w // 8 + w // 5, h // 8 + h // 10], fill=(255, 255, 255))
    return {"resized": image.resize((w * 2, h * 2)),
            "recoloured": ImageEnhance.Brightness(image).enhance(1.15),
            "stamped": stamped,
            "cropped": image.crop((0, 0, w, int(h * 0.85)))}


@pytest.fixture
def listings(tmp_path):
    folder = tmp_path / "listings"
    folder.mkdir()
    rows = []
    for i in range(12):
        original = photo(i)
        original.save(folder / f"item{i:02d}.png")
        rows.append({"image": f"item{i:02d}.png", "seller": f"s{i}", "price": 100_000, "listing": i})
    for kind, image in edits(photo(0)).items():
        image.save(folder / f"item00_{kind}.png")
        rows.append({"image": f"item00_{kind}.png", "seller": "s99" if kind == "stamped" else "s0",
                     "price": 30_000 if kind == "stamped" else 100_000, "listing": 0})
    (folder / "broken.png").write_bytes(b"not an image")
    rows.append({"image": "broken.png", "seller": "s7", "price": 1, "listing": -1})
    table = tmp_path / "listings.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    return folder, table


def test_hash_is_stable_under_resizing_and_far_between_different_photos():
    images = [photo(1), photo(1).resize((200, 200)), photo(2)]
    grey = np.stack([np.asarray(i.convert("L").resize((64, 64), Image.LANCZOS), dtype=np.float32) for i in images])
    hashes = dup.perceptual_hashes(grey)
    assert hashes.shape == (3, 32) and hashes.dtype == np.uint8
    assert dup.hamming(hashes[0], hashes[1]) <= 4
    assert dup.hamming(hashes[0], hashes[2]) > 64


def test_hash_only_groups_light_edits_keeps_other_listings_apart(listings, tmp_path):
    folder, table = listings
    out = tmp_path / "groups.csv"
    written, pairs, info = duplicates(table, out, image_root=folder)
    # input columns kept, in order (the input's image column as image_input, as predict does)
    assert list(written.columns[:4]) == ["image_input", "seller", "price", "listing"]
    assert len(written) == 17 and out.exists() and (tmp_path / "groups.pairs.csv").exists()
    group = written.set_index("image")["group"]
    original = group["item00.png"]
    # re-uploads and light edits join the original; the 11 other listings each stay alone
    assert group["item00_resized.png"] == original and group["item00_recoloured.png"] == original
    others = written[written["listing"].astype(int).between(1, 11)]
    assert others["group_size"].eq(1).all() and others["similarity"].isna().all()
    assert others["group"].nunique() == 11 and original not in set(others["group"])
    broken = written[written["listing"] == "-1"].iloc[0]
    assert broken["error"] and broken["group_size"] == 1
    assert info["signals"] == "perceptual hash" and info["unreadable"] == 1
    row = pairs[(pairs["image"] == "item00.png") & (pairs["copy"] == "item00_resized.png")]
    assert len(row) == 1 and row["differs"].iat[0] == "resized" and row["similarity"].iat[0] >= 0.9


def test_counterfeit_pattern_flags_the_cheap_copy_from_another_seller(listings, tmp_path):
    folder, table = listings
    written, _, info = duplicates(table, tmp_path / "groups.csv", image_root=folder, max_hash_distance=60)
    flagged = written[written["counterfeit_suspect"]]
    assert set(flagged["image"]) == {"item00_stamped.png"}
    assert "sellers list this photo" in flagged["reason"].iat[0] and info["counterfeit_suspects"] == 1
    # the same cheap price alone, in a group of one seller or alone, is not the pattern
    assert not written.loc[written["listing"] == "-1", "counterfeit_suspect"].any()


def test_titles_back_a_borderline_image_pair():
    pairs = pd.DataFrame({"left": [0, 0], "right": [1, 2], "hash_distance": [40, 40], "cosine": [0.92, 0.92],
                          "title_similarity": [0.9, 0.1]})
    assert dup.is_copy(pairs, max_hash_distance=10, min_cosine=0.95).tolist() == [True, False]
    assert dup.is_copy(pairs.drop(columns="title_similarity"), 10, 0.95).tolist() == [False, False]


def test_title_similarity_matches_variant_spellings():
    titles = pd.Series(["Kaos Polos Hitam Pria size L", "kaos polos hitam pria size L!!", "Sepatu Lari Wanita 38"])
    sims = dup.title_similarity(titles, np.array([0, 0]), np.array([1, 2]))
    assert sims[0] > 0.9 and sims[1] < 0.3


def test_with_a_model_embeddings_add_pairs(tiny_model, listings, tmp_path):
    folder, _ = listings
    written, pairs, info = duplicates(folder, tmp_path / "groups.parquet", tiny_model, min_cosine=0.999)
    assert info["signals"] == "perceptual hash + embedding" and "cosine" in pairs
    assert (pairs["similarity"] >= pairs["cosine"].clip(upper=1) - 1e-6).all()


def test_cli_and_bad_input(listings, tmp_path, capsys):
    folder, _ = listings
    out = tmp_path / "dups.csv"
    assert main(["vision", "duplicates", "--input", str(folder), "--output", str(out)]) == 0
    printed = capsys.readouterr()
    assert "groups of copies" in printed.out and "no --model" in printed.err
    assert main(["vision", "duplicates", "--input", str(folder), "--output", str(out),
                 "--max-hash-distance", "999"]) != 0
    with pytest.raises(DataError):
        duplicates(tmp_path / "missing", out)
