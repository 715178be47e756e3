import numpy as np
import scipy.sparse as sp

from niaga.recommend.content import ContentRecommender


def test_a_cold_item_is_reached_through_its_attributes(make_interactions):
    # items 0-3 bought; item 4 never bought but shares both attributes with item 1
    attributes = sp.csr_matrix(np.array([[1, 0, 0, 1], [0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 1, 0]],
                                        dtype=np.float32))
    data = make_interactions([[0, 1], [2, 3], [1, 2]], n_items=5, attributes=attributes)
    model = ContentRecommender(names=False).fit(data)
    rows, scores = model.similar_items([1], k=1)
    assert rows[0, 0] == 4 and scores[0, 0] > 0.99
    user = data.histories.take([0])
    top, _ = model.recommend(user, k=1, exclude_history=True)
    assert top[0, 0] == 4
    text, anchor = model.explain(user.items, np.array([4]))[0]
    assert anchor == 1 and "similar to" in text


def test_names_go_through_the_text_layer(make_interactions):
    names = ["Casing HP Samsung Galaxy", "Charger Samsung Galaxy 25W", "Kopi Bubuk Arabika", "Kopi Arabika Gayo",
             "Casing HP Samsung Galaxy A"]
    data = make_interactions([[0, 1], [2, 3]], n_items=5, names=names)
    model = ContentRecommender().fit(data)
    assert model.normalizer_ is not None
    rows, _ = model.similar_items([2], k=1)
    assert rows[0, 0] == 3
    rows, _ = model.similar_items([0], k=1)
    assert rows[0, 0] == 4


def test_no_features_means_no_opinion(make_interactions):
    data = make_interactions([[0, 1]], n_items=2)
    model = ContentRecommender().fit(data)
    assert not model.score_items(data.histories).any()
