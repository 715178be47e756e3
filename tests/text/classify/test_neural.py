"""The neural review classifier on a made-up, clearly separable task: it must learn it, and behave as an estimator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone

from niaga.modeling import load_model, save_model
from niaga.text.classify.neural import NeuralTextClassifier

POSITIVE = ["bagus", "mantap", "puas", "keren", "rapi", "cepat", "original", "memuaskan", "suka", "recommended"]
NEGATIVE = ["jelek", "rusak", "kecewa", "lambat", "palsu", "cacat", "buruk", "robek", "parah", "menyesal"]
FILLER = ["barangnya", "produk", "pengiriman", "seller", "paket", "kualitas", "harga", "warna", "ukuran", "toko",
          "sampai", "sudah", "dan", "ini", "yang", "banget", "sekali", "kak", "min", "pokoknya"]


def make_reviews(n: int, seed: int) -> tuple[list[str], list[str]]:
    """Half positive, half negative: two or three sentiment words among neutral filler, in random order."""
    rng = np.random.RandomState(seed)
    texts, labels = [], []
    for i in range(n):
        label = "positif" if i % 2 == 0 else "negatif"
        words = list(rng.choice(POSITIVE if label == "positif" else NEGATIVE, size=rng.randint(2, 4)))
        words += list(rng.choice(FILLER, size=rng.randint(3, 7)))
        rng.shuffle(words)
        text = " ".join(words)
        texts.append(text.capitalize() + ("!!" if rng.rand() < 0.3 else ""))
        labels.append(label)
    return texts, labels


def small_model(**params) -> NeuralTextClassifier:
    settings = dict(pretrained="none", embedding_dim=16, hidden_size=16, batch_size=16, max_epochs=15, patience=15,
                    learning_rate=1e-2, validation_fraction=0.0, verbose=False, n_jobs=1, random_state=0)
    settings.update(params)
    return NeuralTextClassifier(**settings)


@pytest.fixture(scope="module")
def toy():
    train = make_reviews(80, seed=1)
    test = make_reviews(40, seed=2)
    return train, test


@pytest.fixture(scope="module")
def fitted(toy):
    (X, y), _ = toy
    return small_model().fit(X, y)


def test_learns_a_separable_task(fitted, toy):
    _, (X_test, y_test) = toy
    accuracy = np.mean(fitted.predict(X_test) == np.asarray(y_test, dtype=object))
    assert accuracy >= 0.9, accuracy
    assert fitted.history_[-1]["train_loss"] < fitted.history_[0]["train_loss"]


def test_cnn_learns_it_too(toy):
    (X, y), (X_test, y_test) = toy
    model = small_model(architecture="cnn", num_filters=16, kernel_sizes=(2, 3)).fit(X, y)
    assert np.mean(model.predict(X_test) == np.asarray(y_test, dtype=object)) >= 0.9


def test_probabilities(fitted, toy):
    _, (X_test, _) = toy
    proba = fitted.predict_proba(X_test + ["", None, "kata yang tidak pernah terlihat"])
    assert list(fitted.classes_) == ["negatif", "positif"]
    assert proba.shape == (len(X_test) + 3, len(fitted.classes_))
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert fitted.predict_proba([]).shape == (0, 2)
    # batching and ordering by length must not change a text's result
    one_by_one = np.vstack([fitted.predict_proba([t]) for t in X_test[:5]])
    np.testing.assert_allclose(one_by_one, proba[:5], atol=1e-5)


def test_clone_and_get_params(fitted):
    params = fitted.get_params()
    copy = clone(fitted)
    assert copy.get_params() == params
    assert not hasattr(copy, "module_")
    copy.set_params(**params)
    assert copy.get_params() == params
    assert NeuralTextClassifier(**params).get_params() == params


def test_save_and_load_round_trip(fitted, toy, tmp_path):
    _, (X_test, _) = toy
    save_model(fitted, tmp_path / "neural", labels=fitted.classes_, task="reviews")
    loaded = load_model(tmp_path / "neural", task="reviews")
    assert isinstance(loaded, NeuralTextClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(X_test), fitted.predict_proba(X_test))
    assert list(loaded.classes_) == list(fitted.classes_)


def test_same_random_state_same_model(toy):
    (X, y), (X_test, _) = toy
    state = torch.get_rng_state()
    first = small_model(max_epochs=3).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)  # torch's global random state is left alone
    second = small_model(max_epochs=3).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X_test), second.predict_proba(X_test))
    other = small_model(max_epochs=3, random_state=1).fit(X, y)
    assert not np.array_equal(first.predict_proba(X_test), other.predict_proba(X_test))


def test_early_stopping_keeps_the_best_epoch(toy):
    (X, y), _ = toy
    model = small_model(validation_fraction=0.25, max_epochs=30, patience=2).fit(X, y)
    scores = [r["val_f1_macro"] for r in model.history_]
    best = max(range(len(scores)), key=lambda i: (scores[i], -model.history_[i]["val_loss"]))
    assert model.best_epoch_ == best + 1  # the best F1; among equal F1 the lowest validation loss
    # it stopped early: exactly `patience` epochs without progress after the best one, well before max_epochs
    assert len(model.history_) == model.best_epoch_ + 2 < 30
    assert max(scores) >= 0.9


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="2 distinct labels"):
        small_model().fit(["bagus", "mantap"], ["positif", "positif"])
    with pytest.raises(ValueError, match="architecture"):
        small_model(architecture="gru").fit(["bagus", "mantap", "jelek", "rusak"], ["p", "p", "n", "n"])


def test_pretraining_corpus_never_holds_texts_of_a_held_out_fold(shared_data):
    """Cross-validation on a shared dataset: its own texts leave the corpus, only the training fold returns."""
    from niaga.data.text import load_prdect_id
    from niaga.text.classify.embeddings import pretraining_corpus

    texts = load_prdect_id("emotion")["text"].astype(str).tolist()
    train, held_out = texts[: len(texts) // 2], set(texts[len(texts) // 2:]) - set(texts[: len(texts) // 2])
    corpus, description = pretraining_corpus(train)
    assert not held_out & set(corpus) and not set(train) & set(corpus)
    assert "left out, as the training data's source: prdect_id" in description
    assert pretraining_corpus(texts[len(texts) // 2:])[0] == corpus  # every fold: one corpus, cached once
    mine = ["ulasan saya sendiri yang baru"]
    assert pretraining_corpus(train + mine)[0] == corpus + mine  # a user's own texts go in
    # texts from elsewhere keep the whole shared corpus, PRDECT-ID included
    full, _ = pretraining_corpus(["kalimat baru yang tidak ada di data"])
    assert held_out <= set(full)
