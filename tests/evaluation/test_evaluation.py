import json

import numpy as np
import pytest

from niaga.evaluation import classification_metrics, cross_validate, kfold_splits, write_classification_report


def test_metrics_use_sklearn_names_and_values():
    y_true = ["a", "a", "b", "b", "c", "c"]
    y_pred = ["a", "b", "b", "b", "c", "a"]
    m = classification_metrics(y_true, y_pred)
    assert m["accuracy"] == pytest.approx(4 / 6)
    # per class F1: a = 0.5, b = 0.8, c = 2/3
    assert m["f1_macro"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert set(m) >= {"precision_macro", "recall_macro", "f1_weighted", "cohen_kappa", "f1_per_class"}


def test_binary_auc_and_average_precision_of_positive_class():
    y = ["neg", "neg", "pos", "pos"]
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    m = classification_metrics(y, ["neg", "neg", "pos", "pos"], proba, classes=["neg", "pos"])
    assert m["roc_auc"] == 1.0 and m["average_precision"] == 1.0


def test_grouped_folds_never_split_a_group():
    y = ["a", "b"] * 20
    groups = [i // 4 for i in range(40)]
    for train, test in kfold_splits(y, 5, groups=groups):
        assert not {groups[i] for i in train} & {groups[i] for i in test}


def test_cross_validate_out_of_fold_predictions_cover_every_row():
    from sklearn.dummy import DummyClassifier

    y = ["a"] * 12 + ["b"] * 6
    result = cross_validate(DummyClassifier(strategy="most_frequent"), np.zeros((18, 1)), y, n_splits=3, progress=False)
    assert list(result["oof_pred"]) == ["a"] * 18
    assert result["mean"]["accuracy"] == pytest.approx(12 / 18)
    assert len(result["folds"]) == 3


def test_report_writer_writes_the_three_files(tmp_path):
    y_true, y_pred = ["x", "y", "y"], ["x", "x", "y"]
    m = classification_metrics(y_true, y_pred)
    write_classification_report(tmp_path, m, y_true, y_pred, ["x", "y"], context={"data": "toy"})
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["accuracy"] == pytest.approx(2 / 3) and saved["context"] == {"data": "toy"}
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    report = (tmp_path / "report.md").read_text()
    assert "| x | 1 | 0 |" in report and "| y | 1 | 1 |" in report
