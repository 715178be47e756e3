"""The transformer review classifier, on a tiny BERT built here: no network, no downloaded weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone

from niaga.errors import ModelLoadError, NiagaError
from niaga.modeling import load_model, save_model, sha256_file
from niaga.text.classify.transformer import TransformerTextClassifier
from niaga.text import TextNormalizer

POSITIVE = ["bagus", "mantap", "puas", "keren", "rekomendasi"]
NEGATIVE = ["rusak", "kecewa", "jelek", "lambat", "cacat"]
FILLERS = ["barang", "produk", "pengiriman", "penjual", "kualitas", "kemasan", "harga", "warna"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
OTHER_WORDS = ["sangat", "sekali", "banget", "nya", "ini", "yang", "dan", "tapi", "sih", "deh"]


def toy_reviews(n_per_class: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label, words in (("positif", POSITIVE), ("negatif", NEGATIVE)):
        for _ in range(n_per_class):
            parts = [str(rng.choice(FILLERS)), str(rng.choice(OTHER_WORDS)), str(rng.choice(words))]
            if rng.random() < 0.5:
                parts.append(str(rng.choice(OTHER_WORDS)))
            if rng.random() < 0.3:
                parts.insert(0, str(rng.choice(FILLERS)))
            texts.append(" ".join(parts))
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory, offline):
    """A randomly initialized 2-layer BERT and a word-level vocab, saved like a hub checkpoint."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    root = tmp_path_factory.mktemp("tiny-bert")
    vocab = SPECIALS + POSITIVE + NEGATIVE + FILLERS + OTHER_WORDS + list("abcdefghijklmnopqrstuvwxyz")
    vocab_file = root / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # Positional vocab path: `vocab_file` in transformers 4, `vocab` in transformers 5.
    tokenizer = BertTokenizer(str(vocab_file))
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64, pad_token_id=0)
    import torch

    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    checkpoint = root / "checkpoint"
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        model.save_pretrained(checkpoint)
        tokenizer.save_pretrained(checkpoint)
    finally:
        hf_logging.enable_progress_bar()
    return checkpoint


@pytest.fixture(scope="module", autouse=True)
def offline():
    """Nothing may touch the network. huggingface_hub reads the variable at import, so patch its constant too."""
    import huggingface_hub.constants

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("TRANSFORMERS_OFFLINE", "1")
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True, raising=False)
        yield


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """A 32-wide BERT trains several times faster on one thread than on a shared multi-core CPU."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make(checkpoint, **kwargs) -> TransformerTextClassifier:
    # A learning rate far above the paper's 5e-5: the tiny model starts from random weights.
    params = dict(model_name=str(checkpoint), epochs=8, batch_size=8, learning_rate=5e-3, warmup_ratio=0.1,
                  max_length=16, device="cpu", verbose=False, random_state=0)
    params.update(kwargs)
    return TransformerTextClassifier(**params)


@pytest.fixture(scope="module")
def fitted(tiny_bert):
    texts, labels = toy_reviews(30, seed=1)
    return make(tiny_bert).fit(texts, labels)


def test_defaults_follow_the_seed_paper():
    model = TransformerTextClassifier()
    assert model.model_name == "indobenchmark/indobert-base-p1"
    assert (model.epochs, model.batch_size, model.eval_batch_size, model.max_length) == (5, 16, 64, 128)
    assert model.learning_rate == 5e-5
    assert model.normalizer is None and model.device == "auto" and model.verbose is True


def test_learns_a_separable_task(fitted):
    test_texts, test_labels = toy_reviews(15, seed=2)
    assert list(fitted.classes_) == ["negatif", "positif"]
    assert all(isinstance(c, str) for c in fitted.classes_)
    train_texts, train_labels = toy_reviews(30, seed=1)
    train_accuracy = np.mean(fitted.predict(train_texts) == np.asarray(train_labels, dtype=object))
    assert train_accuracy >= 0.95, train_accuracy
    accuracy = np.mean(fitted.predict(test_texts) == np.asarray(test_labels, dtype=object))
    assert accuracy >= 0.9, accuracy
    assert len(fitted.history_) == 8
    assert fitted.history_[-1] < 0.3 < 0.6 < fitted.history_[0], fitted.history_
    assert fitted.model_.config.id2label == {0: "negatif", 1: "positif"}
    assert not fitted.model_.training


def test_predict_proba_shape_and_rows(fitted):
    texts = ["barang bagus banget", "produk rusak dan kecewa", "", None, "kata tak dikenal sama sekali " * 20]
    proba = fitted.predict_proba(texts)
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert (proba >= 0).all()
    assert fitted.predict_proba([]).shape == (0, 2)
    # Length-sorted batching gives the same scores as one text at a time.
    one_by_one = np.vstack([fitted.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(proba, one_by_one, atol=1e-5)
    assert list(fitted.predict(["pengiriman lambat sekali", "kualitas keren"])) == ["negatif", "positif"]


def test_save_and_load_round_trip(fitted, tmp_path):
    texts, _ = toy_reviews(5, seed=3)
    directory = save_model(fitted, tmp_path / "model", labels=fitted.classes_, task="reviews")
    assert (directory / "hf" / "config.json").exists()
    assert not (directory / "model.joblib").exists() and (directory / "hf" / "model.safetensors").exists()
    state = json.loads((directory / "transformer.json").read_text(encoding="utf-8"))
    assert state["classes"] == ["negatif", "positif"]
    loaded = load_model(directory, task="reviews")
    assert isinstance(loaded, TransformerTextClassifier)
    assert list(loaded.classes_) == list(fitted.classes_)
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_allclose(loaded.predict_proba(texts), fitted.predict_proba(texts), atol=1e-6)


def test_round_trip_keeps_the_normalizer(tiny_bert, tmp_path):
    texts, labels = toy_reviews(6, seed=4)
    model = make(tiny_bert, epochs=1, normalizer=TextNormalizer(normalize_slang=False))
    model.fit([t.upper() + " 👍 https://toko.id/x" for t in texts], labels)
    assert model.normalizer_ is not None
    loaded = load_model(save_model(model, tmp_path / "m"))
    assert isinstance(loaded.normalizer, TextNormalizer) and loaded.normalizer.normalize_slang is False
    probe = ["BARANG BAGUS 😍 https://x.id", "rusak"]
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe), atol=1e-6)


def test_clone_and_get_params(fitted, tiny_bert):
    params = fitted.get_params()
    for name in ("model_name", "epochs", "batch_size", "eval_batch_size", "max_length", "learning_rate",
                 "weight_decay", "warmup_ratio", "random_state", "device", "verbose", "normalizer"):
        assert name in params
    copy = clone(fitted)
    assert copy.get_params() == params
    assert not hasattr(copy, "model_") and not hasattr(copy, "classes_")
    copy.set_params(epochs=1)
    assert copy.epochs == 1 and fitted.epochs == 8


def test_three_classes_resize_the_head(tiny_bert):
    texts, labels = toy_reviews(4, seed=5)
    texts = texts + ["harga biasa saja", "warna biasa", "kemasan biasa", "barang biasa"]
    labels = labels + ["netral"] * 4
    model = make(tiny_bert, epochs=1).fit(texts, labels)
    assert list(model.classes_) == ["negatif", "netral", "positif"]
    assert model.predict_proba(texts).shape == (len(texts), 3)


def test_bad_model_name_raises_a_helpful_error(tmp_path):
    texts, labels = toy_reviews(3, seed=6)
    missing = tmp_path / "no-such-model"
    with pytest.raises(NiagaError) as info:
        make(missing).fit(texts, labels)
    message = str(info.value)
    assert "could not load the pretrained weights" in message
    assert "internet" in message and "local directory" in message
    assert str(missing) in message and "not an existing directory" in message


def test_hub_id_offline_says_internet_is_needed():
    texts, labels = toy_reviews(3, seed=6)
    with pytest.raises(NiagaError, match="internet") as info:
        make("niaga-tests/no-such-model-anywhere").fit(texts, labels)
    assert "neither a local directory nor a hub model" in str(info.value)


def test_unfitted_and_invalid(tiny_bert, tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        make(tiny_bert).predict_proba(["bagus"])
    with pytest.raises(ValueError, match="epochs"):
        make(tiny_bert, epochs=0).fit(*toy_reviews(3, seed=7))
    with pytest.raises(ValueError, match="2 distinct labels"):
        make(tiny_bert).fit(["bagus", "mantap"], ["positif", "positif"])
    directory = tmp_path / "broken"
    (directory / "hf").mkdir(parents=True)
    (directory / "transformer.json").write_text(json.dumps({"classes": ["a", "b"], "params": {}}), encoding="utf-8")
    (directory / "model.json").write_text(json.dumps({
        "format": "niaga-model", "format_version": 2, "task": "reviews",
        "class": "niaga.text.classify.transformer.TransformerTextClassifier",
        "artifacts": {"transformer.json": sha256_file(directory / "transformer.json")}}), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="config.json is missing"):
        load_model(directory)


def test_random_state_makes_fits_repeatable_without_touching_global_rng(tiny_bert):
    import torch

    texts, labels = toy_reviews(6, seed=8)
    before = torch.random.get_rng_state()
    first = make(tiny_bert, epochs=1).fit(texts, labels).predict_proba(texts)
    second = make(tiny_bert, epochs=1).fit(texts, labels).predict_proba(texts)
    assert torch.equal(torch.random.get_rng_state(), before)
    np.testing.assert_array_equal(first, second)
