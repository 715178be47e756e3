import pytest

from niaga.recommend.popularity import PopularityRecommender


def test_counts_baskets_not_lines_and_ranks_by_them(make_interactions):
    # item 0 appears three times in one basket, item 1 in two baskets
    data = make_interactions([[0, 0, 0, 1], [1, 2]], baskets=[[0, 0, 0, 1], [2, 2]])
    model = PopularityRecommender().fit(data)
    assert model.counts_.tolist() == [1, 2, 1]
    rows, _ = model.recommend(data.histories.take([0]), k=2)
    assert rows[0].tolist() == [1, 0]  # ties (0 and 2) go to the lower row


def test_recent_mode_decays_old_purchases(make_interactions):
    day = 86400.0
    # item 0 bought by three users a year ago, item 1 by two users last week
    lists = [[0], [0], [0], [1], [1]]
    times = [[0.0], [0.0], [0.0], [358 * day], [358 * day]]
    data = make_interactions(lists, times=times)
    assert PopularityRecommender(mode="overall").fit(data).recommend(data.histories.take([0]), 1)[0][0, 0] == 0
    recent = PopularityRecommender(mode="recent", half_life_days=30).fit(data)
    assert recent.recommend(data.histories.take([0]), 1)[0][0, 0] == 1
    assert recent.explain([], [1])[0][0] == "popular now"


def test_each_segment_gets_its_own_ranking_and_small_ones_fall_back(make_interactions):
    lists = [[0]] * 30 + [[1]] * 25 + [[2]] * 3
    segments = ["loyal"] * 30 + ["lost"] * 25 + ["new"] * 3
    data = make_interactions(lists, segments=segments)
    model = PopularityRecommender(min_segment_users=20).fit(data)
    assert sorted(model.segment_names_.tolist()) == ["lost", "loyal"]
    h = data.histories.take([0, 30, 55])
    top = model.recommend(h, 1)[0][:, 0].tolist()
    assert top == [0, 1, 0]  # "new" is too small: overall ranking
    assert model.explain([], [1], segment="lost")[0][0] == "popular in your segment (lost)"


def test_bad_mode_is_refused(make_interactions):
    with pytest.raises(ValueError, match="mode"):
        PopularityRecommender(mode="trending").fit(make_interactions([[0]]))
