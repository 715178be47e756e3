"""Splits and ranking metrics, checked against values worked out by hand."""

import json
import math

import numpy as np
import pytest

from niaga.errors import DataError
from niaga.recommend.data import Histories
from niaga.recommend.evaluate import evaluate_scores, split, write_report


def histories():
    # user a: items 0,1,2 (baskets 0,0,1); user b: 3 (one basket); user c: 4,5 (baskets 2,3)
    h = Histories.from_lists(["a", "b", "c"], [[0, 1, 2], [3], [4, 5]])
    h.baskets = np.array([0, 0, 1, 2, 3, 4])
    h.times = np.array([1.0, 1.0, 5.0, 2.0, 3.0, 9.0])
    return h


def test_leave_one_out_holds_the_last_item_of_users_with_two():
    s = split(histories(), "leave-one-out")
    assert s.train.lengths.tolist() == [2, 1, 1]
    assert s.test_rows.tolist() == [0, 2] and [t.tolist() for t in s.targets] == [[2], [5]]


def test_last_invoice_holds_the_whole_last_basket():
    h = Histories.from_lists(["a", "b"], [[0, 1, 2, 1], [3, 4]])
    h.baskets = np.array([0, 0, 1, 1, 2, 2])  # b has a single basket: nothing held out
    s = split(h, "last-invoice")
    assert s.test_rows.tolist() == [0] and s.targets[0].tolist() == [1, 2]
    assert s.train.lengths.tolist() == [2, 2]


def test_time_split_and_its_need_for_dates():
    s = split(histories(), "time", cutoff=4.0)
    assert s.test_rows.tolist() == [0, 2] and [t.tolist() for t in s.targets] == [[2], [5]]
    with pytest.raises(DataError, match="needs dated"):
        split(Histories.from_lists(["a"], [[0, 1]]), "time")


def test_metrics_from_known_ranks():
    # two users, 6 items; user a's target (2) ranks 2nd over all items, 1st once its history (0,1) is removed
    h = Histories.from_lists(["a", "c"], [[0, 1, 2], [4, 5]])
    s = split(h, "leave-one-out")
    scores = {"a": [0.9, 0.1, 0.5, 0.0, 0.0, 0.0], "c": [0.3, 0.3, 0.3, 0.3, 0.0, 0.3]}

    def score(batch):
        return np.array([scores[u] for u in batch.users], dtype=np.float32)

    m = evaluate_scores(score, s, n_items=6, progress=False)
    # a: rank 1 (0-based); c: target 5 tied with 0,1,2,3 at 0.3, ties broken by row -> rank 4
    assert m["hr@1"] == 0.0 and m["hr@5"] == 1.0
    assert m["ndcg@5"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(6)) / 2)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 5) / 2)
    removed = m["history_removed"]
    assert removed["hr@1"] == 0.5 and removed["mrr"] == pytest.approx((1 + 1 / 5) / 2)  # c: history item scored 0
    assert 0 < m["coverage"] <= 1


def test_a_target_already_bought_is_a_miss_once_history_is_removed():
    h = Histories.from_lists(["a"], [[0, 1, 0]])
    h.baskets = np.array([0, 1, 2])
    s = split(h, "last-invoice")

    def score(batch):
        return np.array([[1.0, 0.5, 0.0]], dtype=np.float32)

    m = evaluate_scores(score, s, n_items=3, progress=False)
    assert m["hr@1"] == 1.0 and m["history_removed"]["hr@10"] == 0.0


def test_sampled_metrics_are_labelled_and_report_is_written(tmp_path):
    h = Histories.from_lists([str(u) for u in range(20)], [[u % 7, (u + 1) % 7, 10 + u % 5] for u in range(20)])
    s = split(h, "leave-one-out")
    rng = np.random.default_rng(0)

    def score(batch):
        return rng.random((len(batch), 20)).astype(np.float32)

    m = evaluate_scores(score, s, n_items=20, n_negatives=5, progress=False)
    assert "sampled" in m["sampled_5"]["note"] and m["sampled_5"]["hr@10"] == 1.0  # 6 candidates < 10
    write_report(tmp_path, m, {"model": "random"})
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert {"hr@10", "ndcg@10", "recall@20", "mrr", "coverage"} <= set(saved)
    assert {"hr@10", "ndcg@10", "recall@20", "mrr", "coverage"} <= set(saved["history_removed"])
    assert (tmp_path / "hit_rate_at_k.png").stat().st_size > 0 and "history removed" in (tmp_path / "report.md").read_text()
