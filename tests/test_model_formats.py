"""Every kind of niaga model saves as data (skops, safetensors, LightGBM text, JSON), never as a pickle,
and loads back to the same predictions."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from niaga.modeling import SKOPS_FILE, load_model, save_model

def helper(relative: str):
    """A module of test helpers by path (tests are not a package under --import-mode=importlib)."""
    spec = importlib.util.spec_from_file_location(relative.replace("/", "_"), Path(__file__).parent / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DATA_SUFFIXES = {".skops", ".safetensors", ".txt", ".json", ".yaml", ".npy"}
TEXTS = ["barang bagus sekali mantap", "kecewa barang rusak parah", "pengiriman cepat seller ramah",
         "kualitas jelek tidak sesuai", "suka sekali rekomendasi", "lama sampai kecewa jelek"] * 6
LABELS = ["pos", "neg", "pos", "neg", "pos", "neg"] * 6


def text_models():
    from niaga.social.paper import PaperSVMClassifier
    from niaga.text.classify.neural import NeuralTextClassifier
    from niaga.text.classify.tfidf import TfidfTextClassifier

    yield "tfidf", TfidfTextClassifier(calibration_cv=2).fit(TEXTS, LABELS), TEXTS[:6]
    yield "paper-svm", PaperSVMClassifier(min_df=2).fit(TEXTS, LABELS), TEXTS[:6]
    yield "neural", NeuralTextClassifier(pretrained="none", embedding_dim=8, hidden_size=8, max_epochs=2,
                                         verbose=False).fit(TEXTS, LABELS), TEXTS[:6]


def customer_models():
    from niaga.customers.intent import FEATURES, IntentClassifier
    from niaga.customers.promo import FEATURES as PROMO, LABEL, OneHotClassifier, make_promo_model, seed_rows

    rows = seed_rows()
    yield "naive-bayes", make_promo_model("naive-bayes", alpha=1.0).fit(rows[PROMO], rows[LABEL]), rows[PROMO].head(20)
    yield "onehot-lightgbm", OneHotClassifier(estimator="lightgbm").fit(rows[PROMO], rows[LABEL]), rows[PROMO].head(20)
    data = helper("customers/test_intent.py").sessions()
    yield "intent", IntentClassifier(n_estimators=30, threshold_cv=2).fit(data[FEATURES], data["Revenue"]), \
        data[FEATURES].head(50)


def fraud_model():
    from niaga.fraud.features import batch_features
    from niaga.fraud.model import FraudModel
    from niaga.fraud.schema import normalize

    canonical = normalize(helper("fraud/conftest.py").simulate(n_customers=40, days=20, seed=2))
    features = batch_features(canonical)
    y = canonical.loc[features.index, "label"].to_numpy()
    yield "fraud", FraudModel(n_estimators=30, ae_epochs=2).fit(features, y), features.head(200)


@pytest.mark.parametrize("factory", [text_models, customer_models, fraud_model])
def test_every_model_saves_as_data_and_loads_to_the_same_predictions(factory, tmp_path):
    import skops.io as sio

    for name, model, sample in factory():
        directory = save_model(model, tmp_path / name, labels=model.classes_)
        files = [p for p in directory.rglob("*") if p.is_file() and p.name != "model.json"]
        assert files and {p.suffix for p in files} <= DATA_SUFFIXES, (name, files)
        listed = json.loads((directory / "model.json").read_text())["artifacts"]
        assert sorted(listed) == sorted(p.relative_to(directory).as_posix() for p in files), name
        untrusted = sio.get_untrusted_types(file=directory / SKOPS_FILE)
        assert all(t.startswith(("niaga.", "sklearn.", "numpy.", "scipy.", "lightgbm.", "builtins.", "collections."))
                   for t in untrusted), (name, untrusted)
        loaded = load_model(directory)
        assert type(loaded) is type(model)
        np.testing.assert_allclose(loaded.predict_proba(sample), model.predict_proba(sample), atol=1e-6,
                                   err_msg=name)
