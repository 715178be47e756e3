from niaga.recommend.repeat import RepeatRecommender


def test_recent_rebuys_beat_old_frequent_ones(make_interactions):
    # item 0 bought in baskets 0-3 (long ago), item 1 in the last two baskets
    data = make_interactions([[0, 0, 0, 0, 1, 1]], baskets=[[0, 1, 2, 3, 8, 9]], n_items=3)
    h = data.histories
    decayed = RepeatRecommender(half_life=2.0).fit(data)
    assert decayed.recommend(h, 1)[0][0, 0] == 1
    plain = RepeatRecommender(half_life=None).fit(data)
    assert plain.recommend(h, 1)[0][0, 0] == 0
    assert plain.score_items(h)[0, 2] == 0  # never bought: no opinion
    assert plain.explain(h.items, [0])[0][0] == "you bought this before (4 times)"


def test_a_repeat_within_one_basket_counts_once(make_interactions):
    data = make_interactions([[0, 0, 0, 1, 1]], baskets=[[0, 0, 0, 1, 2]])
    scores = RepeatRecommender(half_life=None).fit(data).score_items(data.histories)
    assert scores[0].tolist() == [1.0, 2.0]
