"""The functions the CLI calls: model presets, --param routing, estimator conventions of every source."""

import numpy as np
import pytest
from sklearn.base import clone

from niaga.errors import NiagaError
from niaga.recommend.als import ALSRecommender
from niaga.recommend.blender import Blender
from niaga.recommend.content import ContentRecommender
from niaga.recommend.cooccurrence import CooccurrenceRecommender
from niaga.recommend.popularity import PopularityRecommender
from niaga.recommend.repeat import RepeatRecommender
from niaga.recommend.sasrec import SASRecRecommender
from niaga.recommend.pipeline import MODELS, apply_params, make_model

SOURCES = [PopularityRecommender, RepeatRecommender, CooccurrenceRecommender, ALSRecommender, ContentRecommender,
           SASRecRecommender, Blender]


@pytest.mark.parametrize("cls", SOURCES, ids=lambda c: c.__name__)
def test_every_source_follows_the_estimator_conventions(cls, make_interactions):
    est = cls()
    assert est.task == "recommend"
    params = est.get_params(deep=False)
    assert clone(est).get_params(deep=False).keys() == params.keys()
    before = set(vars(est))
    if cls is SASRecRecommender:
        est.set_params(max_epochs=1, dim=8, inner_dim=8, verbose=False, n_threads=1)
    if cls is ALSRecommender:
        est.set_params(factors=2, iterations=1, n_threads=1)
    data = make_interactions([[0, 1, 2], [1, 2, 3], [2, 3, 0]], n_items=4, fmt="sequences")
    assert est.fit(data) is est
    learned = set(vars(est)) - before
    assert learned and all(name.endswith("_") for name in learned), sorted(learned)


def test_every_model_name_builds_a_blend_for_every_format():
    for name in MODELS:
        for fmt in ("sequences", "invoices", "baskets"):
            assert isinstance(make_model(name, fmt), Blender)
    with pytest.raises(NiagaError, match="unknown; valid"):
        make_model("bert4rec", "sequences")


def test_params_reach_the_right_place():
    model = apply_params(make_model("sasrec", "sequences"),
                         {"sasrec.max_epochs": 3, "window": 5, "weights.content": 0.5, "exclude": "history"})
    sources = dict(model.sources)
    assert sources["sasrec"].max_epochs == 3 and sources["cooccurrence"].window == 5
    assert model.weights["content"] == 0.5 and model.exclude == "history"
    with pytest.raises(NiagaError, match="set by .*say which"):
        apply_params(make_model("sasrec", "sequences"), {"half_life": 2})
    with pytest.raises(NiagaError, match="no source 'bert'"):
        apply_params(make_model("sasrec", "sequences"), {"bert.dim": 2})
    with pytest.raises(NiagaError, match="has no parameter"):
        apply_params(make_model("als", "invoices"), {"als.depth": 2})


def test_time_holdout_and_protocol(data_dir, tmp_path):
    from niaga.recommend.pipeline import evaluate, train

    model, summary = train(data_dir / "retail.csv", tmp_path / "m", model_name="repeat", holdout="time")
    assert summary["holdout"] == "time" and summary["training_interactions"] < summary["interactions"]
    metrics = evaluate(tmp_path / "m", data_dir / "retail.csv", "time", tmp_path / "r", progress=False)
    assert metrics["users"] > 0 and 0 <= metrics["hr@10"] <= 1
    assert "held out" in metrics["context"]["training"]
    assert np.isfinite(metrics["history_removed"]["mrr"])
