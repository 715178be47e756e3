"""The blender: merging, hiding what should not come back, reasons, fallbacks, tuning, saving."""

import numpy as np
import pytest
import scipy.sparse as sp

from niaga.modeling import load_model, save_model
from niaga.recommend.blender import Blender, minmax_rows
from niaga.recommend.content import ContentRecommender
from niaga.recommend.cooccurrence import CooccurrenceRecommender
from niaga.recommend.popularity import PopularityRecommender
from niaga.recommend.repeat import RepeatRecommender


def shop(make_interactions):
    """Item 0 is a consumable (re-bought in later baskets by most buyers); item 1 a durable (bought once);
    items 2/3 always go together; item 5 has attributes only (cold)."""
    lists, baskets = [], []
    for u in range(12):
        lists.append([0, 1, 2, 3, 0, 2, 3])
        baskets.append([0, 0, 1, 1, 2, 2, 2])
    lists.append([4])
    baskets.append([0])
    attributes = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 0], [1, 0], [0, 1], [0, 1]], dtype=np.float32))
    names = ["milk", "kettle", "phone", "charger", "cup", "kettle stand"]
    return make_interactions(lists, n_items=6, baskets=baskets, names=names, attributes=attributes)


def blend(**params):
    return Blender([("repeat", RepeatRecommender()), ("cooccurrence", CooccurrenceRecommender(min_count=1)),
                    ("content", ContentRecommender(names=False)), ("popularity", PopularityRecommender())],
                   weights={"content": 0.01, "popularity": 0.01}, **params)


def test_consumables_come_back_durables_do_not(make_interactions):
    model = blend().fit(shop(make_interactions))
    assert model.rebuy_.tolist()[:2] == [True, False]
    served = model.recommend_users(["u0"], k=6)[0]
    items = [r.item for r in served.items]
    assert "i0" in items and "i1" not in items
    assert next(r for r in served.items if r.item == "i0").reason.startswith("you bought this before")
    never = blend(exclude="history").fit(shop(make_interactions)).recommend_users(["u0"], k=6)[0]
    assert not {"i0", "i1", "i2", "i3"} & {r.item for r in never.items}
    listed = blend(never_again=["i0"]).fit(shop(make_interactions)).recommend_users(["u0"], k=6)[0]
    assert "i0" not in [r.item for r in listed.items]


def test_reasons_name_the_item_behind_them(make_interactions):
    model = blend(exclude="history").fit(shop(make_interactions))
    served = model.recommend_users(["u12"], k=3)[0]  # bought only the cup
    assert served.fallback == ""
    first = served.items[0]
    assert first.source in {"content", "cooccurrence", "popularity"} and first.reason
    cross = model.together("i2", k=2)
    assert cross.items[0].item == "i3" and cross.items[0].source == "cooccurrence"
    assert "bought together with phone (i2)" in cross.items[0].reason and "lift" in cross.items[0].reason


def test_unknown_user_and_unknown_item_fall_back_and_say_so(make_interactions):
    model = blend().fit(shop(make_interactions))
    new = model.recommend_users(["someone-new"], k=3)[0]
    assert "no history" in new.fallback and all(r.source == "fallback-popularity" for r in new.items)
    assert len(new.items) == 3
    missing = model.together("no-such-item", k=2)
    assert "not in the catalogue" in missing.fallback and len(missing.items) == 2
    cold = model.together("i5", k=1)  # never bought, shares its attribute with the kettle and the cup
    assert "no purchases yet" in cold.fallback and cold.items[0].source == "content"
    assert cold.items[0].item in {"i1", "i4"}


def test_segment_context_for_an_unknown_user(make_interactions):
    data = make_interactions([[0]] * 25 + [[1]] * 25, segments=["loyal"] * 25 + ["lost"] * 25)
    model = Blender([("popularity", PopularityRecommender())]).fit(data)
    served = model.recommend_users(["new"], k=1, segments=["lost"])[0]
    assert served.items[0].item == "i1" and "popular in your segment (lost)" in served.fallback


def test_tuning_gives_weight_to_the_informative_source(make_interactions):
    rng = np.random.default_rng(0)
    lists, baskets = [], []
    for u in range(80):  # each user's next basket is the partner of an item of their last basket
        a = int(rng.integers(0, 10)) * 2
        lists.append([a, a + 1, int(rng.integers(20, 30)), a + 1, a])
        baskets.append([0, 0, 0, 1, 1])
    data = make_interactions(lists, n_items=30, baskets=baskets)
    model = Blender([("popularity", PopularityRecommender()), ("cooccurrence", CooccurrenceRecommender())],
                    weights={"cooccurrence": 0.0}, tune=True).fit(data)
    assert model.weights_["cooccurrence"] > 0
    assert model.tuning_[-1]["valid_ndcg@10"] > model.tuning_[0]["valid_ndcg@10"]


def test_saved_and_loaded_blend_serves_the_same(make_interactions, tmp_path):
    model = blend().fit(shop(make_interactions))
    save_model(model, tmp_path / "b", task="recommend")
    loaded = load_model(tmp_path / "b", task="recommend")
    before = [(r.item, r.reason) for r in model.recommend_users(["u3"], k=4)[0].items]
    assert [(r.item, r.reason) for r in loaded.recommend_users(["u3"], k=4)[0].items] == before


def test_minmax_rows_and_bad_params():
    scaled = minmax_rows(np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]]))
    assert scaled.tolist() == [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="exclude"):
        Blender(exclude="sometimes")._check_params()
    with pytest.raises(ValueError, match="unknown source"):
        Blender(weights={"als": 1.0})._check_params()
