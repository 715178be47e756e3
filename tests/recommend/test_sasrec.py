"""SASRec on a tiny cyclic catalogue: it must learn "the next item", save as safetensors and load the same."""

import numpy as np
import pytest

from niaga.modeling import load_model, save_model
from niaga.recommend.sasrec import SASRecRecommender

FAST = dict(dim=16, inner_dim=32, max_len=8, n_layers=1, dropout=0.1, attention_dropout=0.1, learning_rate=5e-3,
            batch_tokens=256, max_epochs=12, eval_every=3, patience=10, n_threads=1, verbose=False)


def cycles(make_interactions, n_users=60, n_items=12, seed=0):
    rng = np.random.default_rng(seed)
    lists = []
    for _ in range(n_users):
        start, length = int(rng.integers(n_items)), int(rng.integers(4, 9))
        lists.append([(start + t) % n_items for t in range(length)])
    return make_interactions(lists, n_items=n_items, fmt="sequences")


@pytest.fixture(scope="module")
def trained(make_interactions):
    data = cycles(make_interactions)
    return SASRecRecommender(**FAST).fit(data), data


def test_learns_the_next_item(trained):
    model, data = trained
    from niaga.recommend.data import Histories

    queries = Histories.from_lists(["a", "b"], [[3, 4, 5], [10, 11]])
    rows, _ = model.recommend(queries, k=1)
    assert rows[:, 0].tolist() == [6, 0]
    assert model.best_epoch_ >= 3 and model.history_[-1]["valid_hr@10"] > 0.5


def test_history_and_epochs_are_recorded(trained):
    model, _ = trained
    assert [h["epoch"] for h in model.history_] == [3, 6, 9, 12]
    assert model.train_seconds_ > 0 and model.fit_hides_last_item()


def test_saved_as_safetensors_and_scores_the_same(trained, tmp_path):
    model, data = trained
    save_model(model, tmp_path / "s", task="recommend")
    assert (tmp_path / "s" / "sasrec.safetensors").exists()
    loaded = load_model(tmp_path / "s", task="recommend")
    h = data.histories.take([0, 1, 2])
    assert np.allclose(loaded.score_items(h), model.score_items(h), atol=1e-4)


def test_sampled_softmax_and_bf16_train(make_interactions):
    data = cycles(make_interactions, seed=1)
    model = SASRecRecommender(**{**FAST, "max_epochs": 3, "negatives": 5, "bf16": True}).fit(data)
    assert np.isfinite(model.history_[-1]["loss"])


def test_an_empty_history_gets_no_opinion(trained):
    model, _ = trained
    from niaga.recommend.data import Histories

    assert not model.score_items(Histories.from_lists(["new"], [[]])).any()


def test_bad_parameters_are_refused(make_interactions):
    with pytest.raises(ValueError, match="divisible"):
        SASRecRecommender(dim=10, n_heads=3).fit(cycles(make_interactions))
