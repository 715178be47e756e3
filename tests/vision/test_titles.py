"""Listing titles as a signal of duplicate listings: the title layer (``niaga.text.titles``) and
``niaga vision duplicates`` on tables with titles, with and without images."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from niaga.cli import main
from niaga.text.titles import TitleMatcher, codes_conflict, describe_title_difference, strip_seller_noise
from niaga.vision import duplicates as dup
from niaga.vision import pipeline

from .test_duplicates import edits, photo

pytestmark = pytest.mark.usefixtures("shared_data")  # the slang lexicons the normalizer reads

# (original, seller copies of it): one product each
COPIES = [
    ("Kabel Data USB Type C Fast Charging 1 Meter Hitam",
     ["[READY STOCK] kabel data usb type c fast charging 1 meter hitam !!!",
      "KABEL DATA Type C USB Fast Charging 1 Meter Hitam COD 🔥"]),
    ("Sepatu Lari Pria Ringan Anti Slip Ukuran 42",
     ["Sepatu Lari Pria Ringan Anti Slip Ukuran 42 PROMO termurah", "sepatu lari pria ringan anti slp ukuran 42"]),
    ("Botol Minum Anak yang Lucu 500ml untuk Sekolah",
     ["Botol Minum Anak yg Lucu 500 ml utk Sekolah ORIGINAL"]),
]
# look-alikes that differ in a number or model code: different products, never joined to the original
VARIANTS = [("Apple iPhone 11 128GB Garansi Resmi", "Apple iPhone 12 128GB Garansi Resmi"),
            ("Botol Minum Anak yang Lucu 500ml untuk Sekolah", "Botol Minum Anak yang Lucu 1L untuk Sekolah")]
UNRELATED = ["Tas Ransel Laptop 15 inch Anti Air", "Kipas Angin Meja Mini USB Portable", "Gitar Akustik Pemula Senar"]


def test_noise_goes_numbers_and_codes_stay():
    text, noise = strip_seller_noise("[READY STOCK] iPhone 11 128 GB (COD) ORIGINAL termurah!!!")
    assert {"ready stock", "cod", "original", "termurah"} <= set(noise)
    assert "11" in text and "128gb" in text and "ready" not in text and "cod" not in text
    # a bracket with product content keeps it
    assert "500ml" in strip_seller_noise("Botol (500 ml) PROMO")[0]
    assert codes_conflict(frozenset({"11"}), frozenset({"12"}))
    assert not codes_conflict(frozenset({"11"}), frozenset()) and not codes_conflict(frozenset({"1l"}), frozenset({"1l"}))


def titles_frame() -> pd.DataFrame:
    rows = []
    for product, (original, copies) in enumerate(COPIES):
        rows += [{"title": t, "product": product} for t in [original] + copies]
    rows += [{"title": variant, "product": 10 + i} for i, (_, variant) in enumerate(VARIANTS)]
    rows += [{"title": VARIANTS[0][0], "product": 20}]
    rows += [{"title": t, "product": 30 + i} for i, t in enumerate(UNRELATED)]
    rows += [{"title": "", "product": -1}]  # a bad row: kept, never joined
    return pd.DataFrame(rows)


def test_copies_score_above_the_threshold_and_variants_below():
    frame = titles_frame()
    matcher = TitleMatcher(neighbours=5).fit(frame["title"].tolist())
    pairs = matcher.pairs()
    n = len(frame)
    assert len(pairs) <= n * 5 and (pairs["left"] < pairs["right"]).all()  # neighbours, not all n^2 pairs
    product = frame["product"].to_numpy()
    same = product[pairs["left"]] == product[pairs["right"]]
    joined = pairs["title_similarity"].to_numpy() >= dup.MIN_TITLE
    assert same.sum() == sum(len(c) * (len(c) + 1) // 2 for _, c in COPIES)  # every copy pair is a candidate
    assert joined[same].all(), pairs[same & ~joined]
    assert not joined[~same].any(), pairs[~same & joined]
    # the number guard: the iPhone 11 / 12 titles are alike as text, and scored apart
    i11, i12 = int(np.flatnonzero(product == 20)[0]), int(np.flatnonzero(product == 10)[0])
    cosine, score = matcher.cosine([i11], [i12])[0], matcher.score([i11], [i12])[0]
    assert cosine > 0.8 and score < dup.MIN_TITLE
    empty = int(np.flatnonzero(product == -1)[0])
    assert empty not in set(pairs["left"]) | set(pairs["right"])


def test_what_differs_names_the_sellers_edits():
    def differs(a, b):
        m = TitleMatcher().fit([a, b])
        return m.differences([0], [1])[0]

    assert differs("Kaos Polos Hitam", "Kaos Polos Hitam") == "title: identical"
    assert differs("Kaos Polos Hitam", "KAOS POLOS HITAM!!") == "title: case or punctuation"
    assert differs("Kaos Polos Hitam", "PROMO Hitam Kaos Polos COD") == "title: promo words added; word order"
    assert differs("Kaos Polos Hitam Katun", "Kaos Polos Hitam") == "title: words dropped (katun)"
    assert "numbers differ (11, 12)" in differs("iPhone 11 Pro", "iPhone 12 Pro")
    assert describe_title_difference("a", "b", "", "").startswith("title: ")


def test_titles_table_without_images_through_the_cli(tmp_path, capsys):
    frame = titles_frame().assign(seller=lambda d: [f"s{i}" for i in range(len(d))], price="100000")
    frame.loc[2, "price"] = "20000"  # a copy far cheaper than its group: the counterfeit pattern
    source, out = tmp_path / "listings.csv", tmp_path / "groups.csv"
    frame.to_csv(source, index=False)
    assert main(["vision", "duplicates", "--input", str(source), "--output", str(out)]) == 0
    printed = capsys.readouterr()
    assert "groups of copies" in printed.out and "titles" in printed.err
    written = pd.read_csv(out, keep_default_na=False)
    pairs = pd.read_csv(tmp_path / "groups.pairs.csv")
    # every row and column kept, in order, then the outputs
    assert len(written) == len(frame) and list(written.columns[:4]) == ["title", "product", "seller", "price"]
    assert list(written.columns[4:]) == ["group", "group_size", "similarity", "counterfeit_suspect", "reason", "error"]
    groups = written.groupby("product")["group"].nunique()
    assert (groups == 1).all()  # each product's copies in one group
    by_product = written.drop_duplicates("product").set_index("product")["group"]
    assert by_product.nunique() == len(by_product)  # and no two products joined
    empty = written[written["title"] == ""].iloc[0]
    assert empty["error"] == "empty title" and empty["group_size"] == 1
    assert written["counterfeit_suspect"].astype(str).eq("True").sum() == 1
    assert {"line", "copy_line", "title", "copy", "similarity", "title_similarity", "differs"} <= set(pairs.columns)
    assert pairs["differs"].str.startswith("title: ").all() and (pairs["title_similarity"] >= dup.MIN_TITLE).all()
    # options: another title column by name, and a clear error on a bad threshold or a missing column
    frame.rename(columns={"title": "nama_produk"}).to_csv(source, index=False)
    assert main(["vision", "duplicates", "--input", str(source), "--output", str(out), "--title-col", "nama_produk"]) == 0
    assert main(["vision", "duplicates", "--input", str(source), "--output", str(out), "--title-col", "judul"]) != 0
    assert main(["vision", "duplicates", "--input", str(source), "--output", str(out),
                 "--min-title-similarity", "1.5"]) != 0


def test_titles_join_loosely_alike_images_only(tmp_path):
    """Near-duplicate titles join a pair whose images are loosely alike (an overlay beyond the hash threshold), and
    never two different photos; different numbers in the titles keep alike photos' listings apart."""
    folder = tmp_path / "img"
    folder.mkdir()
    original = photo(0)
    original.save(folder / "a.png")
    edits(original)["stamped"].save(folder / "a_stamp.png")
    photo(1).save(folder / "b.png")
    photo(2).save(folder / "c.png")
    grey = np.stack([np.asarray(Image.open(folder / f).convert("L").resize((64, 64), Image.LANCZOS), dtype=np.float32)
                     for f in ("a.png", "a_stamp.png")])
    hashes = dup.perceptual_hashes(grey)
    distance = int(dup.hamming(hashes[0], hashes[1]))
    limit = int(np.ceil(distance * 0.6))  # the overlay is beyond the image threshold, within twice it
    assert limit < distance <= 2 * limit < 100  # other photos are ~120 bits away
    title = "Kemeja Flanel Pria Lengan Panjang Size XL"
    table = pd.DataFrame({"image": ["a.png", "a_stamp.png", "b.png", "c.png"],
                          "title": [title, f"PROMO {title.lower()} COD", title, "Kemeja Flanel Pria Size XL"]})
    table.to_csv(tmp_path / "t.csv", index=False)
    written, pairs, info = pipeline.duplicates(tmp_path / "t.csv", tmp_path / "out.csv", image_root=folder,
                                           max_hash_distance=limit)
    group = written.set_index("image_input")["group"]
    assert group["a.png"] == group["a_stamp.png"]
    assert group["b.png"] != group["a.png"] and group["c.png"] != group["a.png"]  # same title, another photo
    row = pairs.iloc[0]
    assert len(pairs) == 1 and row["signal"] == "title + loosely alike image" and "title: promo words added" in row["differs"]
    assert info["signals"] == "perceptual hash + titles" and info["title_pairs"] == 1
    # the same crop under a title naming another size is another variant: not joined
    table.loc[1, "title"] = title.replace("XL", "42")
    table.loc[0, "title"] = title.replace("XL", "40")
    table.to_csv(tmp_path / "t.csv", index=False)
    written, pairs, _ = pipeline.duplicates(tmp_path / "t.csv", tmp_path / "out.csv", image_root=folder,
                                        max_hash_distance=limit)
    assert written["group"].nunique() == 4 and pairs.empty
