import numpy as np
import pytest

from niaga.recommend.cooccurrence import CooccurrenceRecommender

# six baskets over items 0..3: {0,1} together in 3 baskets, item 0 in 4, item 1 in 3, 6 baskets in all
BASKETS = [[0, 1], [0, 1], [0, 1, 2], [0, 3], [2, 3], [3]]


def fitted(make_interactions, **params):
    data = make_interactions(BASKETS, baskets=[[b] * len(items) for b, items in enumerate(BASKETS)])
    return CooccurrenceRecommender(min_count=1, **params).fit(data), data


def test_support_confidence_and_lift_of_a_rule(make_interactions):
    model, _ = fitted(make_interactions)
    stats = model.rule_stats(0, np.array([1])).iloc[0]
    assert stats["count"] == 3
    assert stats["support"] == pytest.approx(3 / 6)
    assert stats["confidence"] == pytest.approx(3 / 4)  # P(1 | 0)
    assert stats["lift"] == pytest.approx((3 / 4) / (3 / 6))
    rules = model.rules(min_support=0.3)
    assert set(zip(rules["antecedent"], rules["consequent"])) == {(0, 1), (1, 0)}


def test_together_and_user_scores_follow_the_pairs(make_interactions):
    model, data = fitted(make_interactions, measure="lift")
    rows, _ = model.similar_items([1], k=2)
    assert rows[0, 0] == 0
    scores = model.score_items(data.histories.take([5]))  # a user who has only item 3
    assert scores[0, 1] == 0 and scores[0, 0] > 0 and scores[0, 2] > 0
    text, anchor = model.explain(np.array([3]), np.array([2]))[0]
    assert anchor == 3 and text == "bought together with {anchor}"


def test_sequence_pairs_are_directional_within_the_window(make_interactions):
    data = make_interactions([[0, 1, 2, 3]] * 3, fmt="sequences")
    model = CooccurrenceRecommender(unit="auto", window=1, measure="confidence").fit(data)
    assert model.unit_ == "sequence"
    assert model.similarity_[0, 1] > 0 and model.similarity_[1, 0] == 0 and model.similarity_[0, 2] == 0
    wider = CooccurrenceRecommender(unit="sequence", window=2, min_count=1).fit(data)
    assert wider.pair_counts_[0, 2] == pytest.approx(3 * 0.5)  # two steps apart: weight 1/2


def test_neighbours_are_capped(make_interactions):
    model, _ = fitted(make_interactions, neighbours=1)
    assert max(np.diff(model.similarity_.indptr)) == 1


def test_bad_measure_is_refused(make_interactions):
    with pytest.raises(ValueError, match="measure"):
        fitted(make_interactions, measure="pmi")
