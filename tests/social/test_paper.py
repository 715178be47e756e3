"""Seed 001's recipe: preprocessing in the paper's order, the DF threshold, TF-IDF from training only, RBF SVM."""

import numpy as np
import pandas as pd
import pytest

from niaga.social.grid import best_pair, grid_search, run_grid
from niaga.social.paper import PaperSVMClassifier, document_frequency_curve, paper_normalizer

TRANSACTION = ["paket sudah sampai terima kasih", "barang sudah dikirim kurir", "sudah transfer pembayaran pesanan",
               "pesanan dibatalkan refund dana", "paket belum sampai kurir lambat", "barang diterima rusak kecewa"]
OTHER = ["ikuti kuis berhadiah hari ini", "promo diskon besar akhir tahun", "berita ekonomi digital indonesia",
         "giveaway voucher belanja gratis", "apakah produk ini ready kak", "diskon promo kuis berhadiah"]


def toy(repeat=4):
    texts = [t + f" kata{i}" for i in range(repeat) for t in TRANSACTION + OTHER]
    labels = (["TRANSACTION"] * 6 + ["NON_TRANSACTION"] * 6) * repeat
    return texts, labels


def test_preprocessing_follows_the_paper():
    text = "Paketnya BELUM sampai!!! cek @jne_care https://t.co/x1 #kecewa 😡 udah 2 hari dan tdk ada kabar"
    out = paper_normalizer().fit().transform([text])[0]
    tokens = out.split()
    assert out == out.lower()
    for gone in ("jne_care", "https", "kecewa", "😡", "2", "!", "dan"):  # cleaned, or a conjunction
        assert gone not in tokens
    assert "tidak" in tokens and "tdk" not in tokens  # dictionary normalization
    assert "paket" in tokens and "paketnya" not in tokens  # ECS stemming
    assert "sampai" in tokens  # the verb "arrive" stays


def test_document_frequency_curve_counts_words_at_each_threshold():
    curve = document_frequency_curve(["a b c", "a b", "a a a"], thresholds=[1, 2, 3, 4])
    assert curve == {1: 3, 2: 2, 3: 1, 4: 0}


def test_df_threshold_and_idf_come_from_training_texts_only():
    texts, labels = toy()
    texts[0] += " langka"
    texts[1] += " langka"  # document frequency 2: under the threshold
    model = PaperSVMClassifier(min_df=3, C=1.0, gamma=0.5).fit(texts, labels)
    vocabulary = set(model.vectorizer_.vocabulary_)
    assert {"kuis", "paket", "kata"} <= vocabulary  # "kuis" in 8 texts; "kata0".."kata3" lose their digits
    assert "langka" not in vocabulary
    idf_before = model.vectorizer_.idf_.copy()
    model.predict(["kuis kuis kuis berhadiah baru"] * 50)
    assert np.array_equal(model.vectorizer_.idf_, idf_before)


def test_featureless_texts_are_counted_and_get_the_fallback_label():
    texts, labels = toy()
    labels[0] = "NON_TRANSACTION"  # make NON_TRANSACTION the majority class
    model = PaperSVMClassifier(min_df=4).fit(texts, labels)
    unseen = ["zzz qqq xxx", "kuis berhadiah promo"]
    assert list(model.featureless(unseen)) == [True, False]
    labels_out, confidence = model.predict_with_confidence(unseen)
    assert labels_out[0] == model.fallback_label_ == "NON_TRANSACTION" and confidence[0] == 1.0
    assert labels_out[1] == "NON_TRANSACTION"


def test_labels_follow_the_svm_decision_function():
    texts, labels = toy()
    model = PaperSVMClassifier(min_df=2).fit(texts, labels)
    queries = ["paket sudah sampai", "kuis berhadiah promo", "transfer pesanan dikirim kurir"]
    features = model.vectorizer_.transform(model.normalizer_.transform(queries))
    assert list(model.predict(queries)) == list(model.svm_.predict(features))
    assert np.allclose(model.predict_proba(queries).sum(axis=1), 1.0)


def test_min_df_too_high_is_a_clear_error():
    texts, labels = toy(repeat=2)
    with pytest.raises(ValueError, match="min_df=99"):
        PaperSVMClassifier(min_df=99).fit(texts, labels)


def test_grid_table_has_the_paper_layout_and_best_pair_is_its_maximum():
    texts, labels = toy()
    normalized = paper_normalizer().fit().transform(texts)
    table = grid_search(normalized, labels, min_df=2, C_values=(0.1, 1.0), gamma_values=(0.2, 0.8, 1.0), folds=3)
    assert list(table.index) == [0.1, 1.0] and list(table.columns) == [0.2, 0.8, 1.0]
    assert ((table >= 0) & (table <= 1)).all().all()
    c, gamma, accuracy = best_pair(table)
    assert accuracy == table.to_numpy().max() and table.loc[c, gamma] == accuracy


def test_best_pair_breaks_ties_in_reading_order():
    table = pd.DataFrame([[0.5, 0.9], [0.9, 0.7]], index=[0.1, 0.2], columns=[0.1, 0.2])
    assert best_pair(table) == (0.1, 0.2, 0.9)


def test_run_grid_reports_featureless_test_texts_separately(tmp_path):
    texts, labels = toy()
    test_texts = ["paket sudah sampai kurir", "kuis berhadiah promo diskon", "zzz qqq"]
    metrics = run_grid(texts, labels, test_texts, ["TRANSACTION", "NON_TRANSACTION", "TRANSACTION"], tmp_path,
                       min_df=4, C_values=(0.5, 1.0), gamma_values=(0.5, 1.0), folds=3)
    assert metrics["test_rows"] == 3 and metrics["test_featureless"] == 1 and metrics["test_featureful"] == 2
    assert metrics["test_featureful_only"]["accuracy"] == 1.0
    for name in ("grid.csv", "grid.png", "df_curve.png", "metrics.json", "report.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert "| C \\ γ | 0.5 | 1 |" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
def test_paper_recipe_on_the_shared_tweets(shared_data):
    from niaga.data.text import load_ecommerce_tweets
    from niaga.evaluation.cv import kfold_splits

    frame = load_ecommerce_tweets()
    texts, labels = frame["text"].tolist(), frame["label"].to_numpy(dtype=object)
    train, test = kfold_splits(labels, 5)[0]
    model = PaperSVMClassifier().fit([texts[i] for i in train], labels[train])
    accuracy = (model.predict([texts[i] for i in test]) == labels[test]).mean()
    assert 150 <= len(model.vectorizer_.vocabulary_) <= 300  # DF ≥ 16 keeps a few hundred words of ~2,500
    assert accuracy > 0.75
