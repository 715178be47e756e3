"""Seed 003 reproduced: Table 1 counts -> Table 2 probabilities (3 decimals, as printed) -> the worked example."""

import numpy as np
import pandas as pd
import pytest

from niaga.customers.naive_bayes import CategoricalNaiveBayes
from niaga.customers.promo import seed_rows, seed_table1

CLASSES = ["free shipping", "flash sale", "cashback", "discount", "none"]

# Table 1 as printed (the paper's names; its merged "Kesehatan Lainnya" row split, Lainnya taken from Table 2 x class size).
TABLE1 = [
    ("Usia", "≤20", 113, 2, 5, 12, 4), ("Usia", ">20", 126, 6, 7, 1, 8),
    ("Jenis Kelamin", "Perempuan", 211, 4, 8, 12, 7), ("Jenis Kelamin", "Laki-Laki", 28, 4, 4, 1, 5),
    ("Mengetahui Shopee", "Ya", 239, 8, 12, 13, 12), ("Mengetahui Shopee", "Tidak", 0, 0, 0, 0, 0),
    ("Memiliki Akun Shopee", "Ya", 239, 7, 12, 13, 12), ("Memiliki Akun Shopee", "Tidak", 0, 1, 0, 0, 0),
    ("Sebagai Apa Di Shopee", "Pembeli", 221, 6, 12, 11, 12), ("Sebagai Apa Di Shopee", "Penjual", 18, 2, 0, 2, 0),
    ("Rata-Rata Pembelian", "Jarang", 235, 6, 12, 12, 12), ("Rata-Rata Pembelian", "Biasa", 2, 2, 0, 1, 0),
    ("Rata-Rata Pembelian", "Sering", 2, 0, 0, 0, 0),
    ("Menggunakan Promosi", "Ya", 239, 8, 12, 13, 0), ("Menggunakan Promosi", "Tidak", 0, 0, 0, 0, 12),
    ("Produk", "Elektronik", 10, 4, 0, 0, 1), ("Produk", "Fashion", 85, 1, 4, 4, 5),
    ("Produk", "Makanan/Minuman", 6, 0, 0, 0, 0), ("Produk", "Perawatan&Kecantikan", 95, 3, 5, 6, 3),
    ("Produk", "Kebutuhan Rumah Tangga", 13, 0, 1, 1, 0), ("Produk", "Kesehatan", 2, 0, 0, 1, 0),
    ("Produk", "Lainnya", 28, 0, 2, 1, 3),
    ("Pembayaran", "ShopeePay/ ShopeePayLater", 171, 7, 9, 12, 5), ("Pembayaran", "Alfamart / Indomaret", 25, 1, 0, 1, 2),
    ("Pembayaran", "Transfer Bank", 22, 0, 2, 0, 4), ("Pembayaran", "COD", 19, 0, 1, 0, 1),
    ("Pembayaran", "Kartu Kredit/ Debit Online", 2, 0, 0, 0, 0),
]

# Table 2 as printed: P(value | class) for free shipping, flash sale, cashback, discount, none.
TABLE2 = [
    (0.473, 0.25, 0.417, 0.923, 0.333), (0.527, 0.75, 0.583, 0.077, 0.667),
    (0.883, 0.5, 0.667, 0.923, 0.583), (0.117, 0.5, 0.333, 0.077, 0.417),
    (1, 1, 1, 1, 1), (0, 0, 0, 0, 0),
    (1, 0.875, 1, 1, 1), (0, 0.125, 0, 0, 0),
    (0.925, 0.75, 1, 0.846, 1), (0.075, 0.25, 0, 0.154, 0),
    (0.983, 0.75, 1, 0.923, 1), (0.008, 0.25, 0, 0.077, 0), (0.008, 0, 0, 0, 0),
    (1, 1, 1, 1, 0), (0, 0, 0, 0, 1),
    (0.042, 0.5, 0, 0, 0.083), (0.356, 0.125, 0.333, 0.308, 0.417), (0.025, 0, 0, 0, 0),
    (0.397, 0.375, 0.417, 0.462, 0.25), (0.054, 0, 0.083, 0.077, 0), (0.008, 0, 0, 0.077, 0),
    (0.117, 0, 0.167, 0.077, 0.25),
    (0.715, 0.875, 0.75, 0.923, 0.417), (0.105, 0.125, 0, 0.077, 0.167), (0.092, 0, 0.167, 0, 0.333),
    (0.079, 0, 0.083, 0, 0.083), (0.008, 0, 0, 0, 0),
]

# Gambar 4: <=20, female, knows Shopee, has an account, buyer, rarely, uses promotions, beauty & care, ShopeePay.
EXAMPLE = {"age": "<=20", "gender": "female", "knows_shopee": "yes", "has_account": "yes", "role": "buyer",
           "purchase_frequency": "rarely", "uses_promotion": "yes", "product": "beauty & care",
           "payment": "ShopeePay / PayLater"}


@pytest.fixture(scope="module")
def paper_model():
    return CategoricalNaiveBayes.from_counts(seed_table1())


def test_packaged_table1_is_the_papers_table1():
    packaged = seed_table1(with_paper_names=True)
    printed = pd.DataFrame(TABLE1, columns=["paper_attribute", "paper_value", *CLASSES])
    pd.testing.assert_frame_equal(packaged[["paper_attribute", "paper_value", *CLASSES]], printed, check_dtype=False)
    assert packaged[CLASSES].iloc[:2].sum().tolist() == [239, 8, 12, 13, 12]  # the class sizes, 284 in all


def test_priors_are_the_papers(paper_model):
    prior = dict(zip(paper_model.classes_, paper_model.class_prior_.round(3)))
    assert prior == {"free shipping": 0.842, "flash sale": 0.028, "cashback": 0.042, "discount": 0.046, "none": 0.042}


def test_table2_conditional_probabilities_to_three_decimals(paper_model):
    table = paper_model.conditional_probabilities()
    assert list(table.columns[2:]) == CLASSES
    np.testing.assert_array_equal(table[CLASSES].to_numpy().round(3), np.array(TABLE2, dtype=float))


def test_worked_example_scores(paper_model):
    scores = paper_model.joint_scores(pd.DataFrame([EXAMPLE])).iloc[0]
    assert round(scores["free shipping"], 4) == 0.0908
    assert round(scores["discount"], 4) == 0.0130
    assert round(scores["cashback"], 4) == 0.0037
    assert round(scores["flash sale"], 5) == 0.00057
    assert scores["none"] == 0.0  # P(uses promotion = yes | none) = 0 erases the class
    assert paper_model.predict(pd.DataFrame([EXAMPLE]))[0] == "free shipping"


def test_papers_hand_computation_with_rounded_probabilities(paper_model):
    """The paper multiplies probabilities rounded to 3 decimals: that gives its Table 3 to 8 decimals."""
    table = paper_model.conditional_probabilities().round(3)
    prior = paper_model.class_prior_.round(3)
    scores = {}
    for c, name in enumerate(CLASSES):
        factors = [table.loc[(table.attribute == a) & (table.value == v), name].item() for a, v in EXAMPLE.items()]
        scores[name] = round(float(prior[c] * np.prod(factors)), 8)
    assert scores == {"free shipping": 0.09076653, "flash sale": 0.00056525, "cashback": 0.00365349,
                      "discount": 0.01304899, "none": 0.0}


def test_one_zero_count_erases_a_class_unless_smoothed(paper_model):
    # The example paid by bank transfer, which no "discount" respondent did: with alpha=0 that one zero
    # erases "discount" whatever the other eight attributes say; Laplace smoothing keeps every class alive.
    row = pd.DataFrame([{**EXAMPLE, "payment": "bank transfer"}])
    assert paper_model.joint_scores(row).iloc[0]["discount"] == 0.0
    smoothed = CategoricalNaiveBayes(alpha=1.0).fit_counts(seed_table1())
    assert (smoothed.joint_scores(row).iloc[0] > 0).all()
    assert smoothed.predict(pd.DataFrame([EXAMPLE]))[0] == "free shipping"


def test_rows_rebuilt_from_counts_train_the_same_model(paper_model):
    rows = seed_rows()
    assert len(rows) == 284
    from_rows = CategoricalNaiveBayes().fit(rows.drop(columns="promotion"), rows["promotion"])
    by_rows = from_rows.conditional_probabilities().set_index(["attribute", "value"])
    by_counts = paper_model.conditional_probabilities().set_index(["attribute", "value"])
    # Values with a zero count in every class ("knows Shopee: no") cannot appear in rows; all others match exactly.
    by_counts = by_counts.loc[by_rows.index, sorted(CLASSES)]
    np.testing.assert_allclose(by_rows[sorted(CLASSES)].to_numpy(), by_counts.to_numpy())
    np.testing.assert_allclose(sorted(from_rows.class_prior_), sorted(paper_model.class_prior_))
