"""Purchase intent: typed reading with per-row errors, threshold tuned on training data, CLI forms."""

import json

import numpy as np
import pandas as pd
import pytest

from niaga.cli import main
from niaga.customers.intent import FEATURES, IntentClassifier, read_sessions

FAST = ["--param", "n_estimators=40", "--param", "threshold_cv=3"]


def sessions(n=600, seed=0):
    """Synthetic sessions in the UCI layout: buyers have page value and more product pages."""
    rng = np.random.default_rng(seed)
    buyer = rng.random(n) < 0.2
    product = rng.poisson(np.where(buyer, 40, 15))
    return pd.DataFrame({
        "Administrative": rng.poisson(2, n), "Administrative_Duration": rng.exponential(60, n).round(1),
        "Informational": rng.poisson(0.5, n), "Informational_Duration": rng.exponential(20, n).round(1),
        "ProductRelated": product, "ProductRelated_Duration": (product * rng.exponential(30, n)).round(1),
        "BounceRates": rng.uniform(0, 0.05, n).round(4), "ExitRates": np.where(buyer, 0.02, 0.05).round(4),
        "PageValues": np.where(buyer & (rng.random(n) < 0.8), rng.exponential(30, n), 0).round(2),
        "SpecialDay": rng.choice([0, 0, 0, 0.2, 0.8], n), "Month": rng.choice(["Feb", "Mar", "May", "June", "Nov"], n),
        "OperatingSystems": rng.integers(1, 5, n), "Browser": rng.integers(1, 6, n), "Region": rng.integers(1, 9, n),
        "TrafficType": rng.integers(1, 10, n), "VisitorType": rng.choice(["Returning_Visitor", "New_Visitor"], n),
        "Weekend": rng.random(n) < 0.25, "Revenue": buyer,
    })


def test_reading_types_cells_and_reports_bad_ones(tmp_path):
    frame = sessions(5)
    frame["Month"] = ["Feb", "june", "11", "Smarch", "Jun"]
    frame["Weekend"] = ["TRUE", "no", "1", "FALSE", "maybe"]
    frame.loc[0, "ProductRelated_Duration"] = -1
    frame["Revenue"] = ["TRUE", "FALSE", "", "yes", "0"]
    path = tmp_path / "s.csv"
    frame.to_csv(path, index=False)
    features, labels, problems, _ = read_sessions(path, label=True)
    assert features["Month"].tolist()[:3] == [2, 6, 11] and np.isnan(features["Month"][3])
    assert np.isnan(features.loc[0, "ProductRelated_Duration"])  # -1 means unknown in some copies
    assert labels.tolist()[:2] == [1.0, 0.0] and np.isnan(labels[2])
    assert problems[0] == "" and problems[1] == ""
    assert "Revenue" in problems[2] and "Month: expected a month name" in problems[3]
    assert "Weekend: expected TRUE/FALSE, got maybe" in problems[4]


def test_threshold_is_learned_in_fit_and_used_by_predict():
    data = sessions(500)
    model = IntentClassifier(n_estimators=40, threshold_cv=3).fit(data[FEATURES], data["Revenue"])
    assert 0 < model.threshold_ < 1
    proba = model.predict_proba(data[FEATURES])[:, 1]
    np.testing.assert_array_equal(model.predict(data[FEATURES]), (proba >= model.threshold_).astype(int))


def test_cli_train_evaluate_predict(tmp_path, capsys):
    data = sessions(600)
    path = tmp_path / "sessions.csv"
    data.to_csv(path, index=False)
    report, model_dir = tmp_path / "report", tmp_path / "model"
    assert main(["customers", "intent", "evaluate", "--data", str(path), "--out", str(report), "--folds", "3", *FAST]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert {"average_precision", "roc_auc", "f1"} <= set(metrics)
    assert len(metrics["folds"]) == 3 and all(0 < f["threshold"] < 1 for f in metrics["folds"])
    assert metrics["average_precision"] > data["Revenue"].mean()  # better than a random ranking
    assert (report / "precision_recall.png").stat().st_size > 0 and (report / "confusion_matrix.png").exists()

    assert main(["customers", "intent", "train", "--data", str(path), "--out", str(model_dir), *FAST]) == 0
    new = data.drop(columns="Revenue").head(4).copy()
    new["PageValues"] = new["PageValues"].astype(object)
    new.loc[2, "PageValues"] = "lots"
    new_path, out_path = tmp_path / "new.csv", tmp_path / "scored.csv"
    new.to_csv(new_path, index=False)
    assert main(["customers", "intent", "predict", "--model", str(model_dir), "--input", str(new_path),
                 "--output", str(out_path)]) == 0
    scored = pd.read_csv(out_path, keep_default_na=False)
    assert len(scored) == 4 and list(scored.columns[-3:]) == ["purchase_probability", "purchase", "error"]
    assert scored["error"][2].startswith("PageValues: expected a number") and scored["purchase_probability"][2] == ""
    assert scored["error"][0] == "" and 0 <= float(scored["purchase_probability"][0]) <= 1


def test_missing_column_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "s.csv"
    sessions(30).drop(columns="PageValues").to_csv(path, index=False)
    assert main(["customers", "intent", "evaluate", "--data", str(path), "--out", str(tmp_path / "r")]) == 2
    assert "missing column(s) 'PageValues'" in capsys.readouterr().err


@pytest.mark.slow
def test_real_sessions_slice(shared_data, tmp_path):
    path = shared_data / "commerce" / "online_shoppers_intention" / "online_shoppers_intention.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    sample = pd.read_csv(path).sample(2500, random_state=0)
    small = tmp_path / "slice.csv"
    sample.to_csv(small, index=False)
    assert main(["customers", "intent", "evaluate", "--data", str(small), "--out", str(tmp_path / "r"), "--folds", "3", *FAST]) == 0
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["n"] == 2500 and metrics["roc_auc"] > 0.8


def test_predict_keeps_input_columns_named_like_its_outputs(tmp_path, keeps_clashing_inputs):
    data = sessions(300)
    path, model_dir = tmp_path / "sessions.csv", tmp_path / "model"
    data.to_csv(path, index=False)
    assert main(["customers", "intent", "train", "--data", str(path), "--out", str(model_dir), *FAST]) == 0
    outputs = ["purchase_probability", "purchase", "error"]
    inp = data.head(5).assign(**{c: f"mine-{c}" for c in outputs})
    inp.to_csv(tmp_path / "in.csv", index=False)
    assert main(["customers", "intent", "predict", "--model", str(model_dir), "--input", str(tmp_path / "in.csv"),
                 "--output", str(tmp_path / "out.csv")]) == 0
    keeps_clashing_inputs(pd.read_csv(tmp_path / "in.csv", dtype=str, keep_default_na=False), tmp_path / "out.csv",
                          outputs)
