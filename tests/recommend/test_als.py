import numpy as np

from niaga.modeling import load_model, save_model
from niaga.recommend.als import ALSRecommender


def two_groups(make_interactions, seed=0):
    """Users 0-19 buy from items 0-9, users 20-39 from items 10-19."""
    rng = np.random.default_rng(seed)
    lists = [list(rng.choice(10, size=5, replace=False) + (10 if u >= 20 else 0)) for u in range(40)]
    return make_interactions(lists, n_items=20)


def test_recommends_from_the_users_own_group(make_interactions):
    data = two_groups(make_interactions)
    model = ALSRecommender(factors=4, iterations=10, n_threads=1).fit(data)
    rows, _ = model.recommend(data.histories.take([0, 25]), k=5, exclude_history=True)
    assert (rows[0] < 10).all() and (rows[1] >= 10).all()
    similar, _ = model.similar_items([3], k=3)
    assert (similar[0] < 10).all()


def test_a_new_users_factors_are_solved_from_the_history_given(make_interactions):
    data = two_groups(make_interactions)
    model = ALSRecommender(factors=4, iterations=10, n_threads=1).fit(data)
    from niaga.recommend.data import Histories

    new = Histories.from_lists(["someone"], [[12, 13]])
    rows, _ = model.recommend(new, k=3, exclude_history=True)
    assert (rows[0] >= 10).all()


def test_saved_as_arrays_and_scores_the_same_after_loading(make_interactions, tmp_path):
    data = two_groups(make_interactions)
    model = ALSRecommender(factors=4, iterations=5, n_threads=1).fit(data)
    save_model(model, tmp_path / "als", task="recommend")
    import skops.io as sio

    assert not [t for t in sio.get_untrusted_types(file=tmp_path / "als" / "model.skops") if "implicit" in t]
    loaded = load_model(tmp_path / "als", task="recommend")
    h = data.histories.take([1, 30])
    assert np.allclose(loaded.score_items(h), model.score_items(h), atol=1e-5)
