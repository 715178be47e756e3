"""The customers CLI forms end to end: segment (synthetic and a real slice), profile, offers, promo."""

import json

import pandas as pd
import pytest

from niaga.cli import main

SEGMENT_COLUMNS = ["customer_id", "recency", "frequency", "monetary", "segment", "cluster"]


@pytest.fixture(scope="module")
def segmented(tmp_path_factory, population_log, log_line):
    root = tmp_path_factory.mktemp("segment")
    cancellation = log_line("C999", pd.Timestamp("2011-06-01"), 2000, -1, 3.0, country="France")
    log = pd.concat([population_log, pd.DataFrame([cancellation])], ignore_index=True)
    path = root / "log.csv"
    log.to_csv(path, index=False)
    out = root / "out"
    assert main(["customers", "segment", "--data", str(path), "--out", str(out), "--as-of", "2011-12-31"]) == 0
    return out


def test_segment_writes_one_row_per_customer_and_the_report(segmented):
    segments = pd.read_csv(segmented / "segments.csv")
    assert list(segments.columns) == SEGMENT_COLUMNS
    assert len(segments) == 40 and segments["customer_id"].is_unique
    assert (segments["recency"] >= 0).all() and (segments["frequency"] >= 1).all() and (segments["monetary"] > 0).all()
    for name in ["report.md", "rfm_distributions.png", "segment_sizes.png", "segment_movement.png", "movement.csv",
                 "rfm_scores.csv", "excluded_lines.parquet", "metrics.json"]:
        assert (segmented / name).stat().st_size > 0, name
    summary = json.loads((segmented / "metrics.json").read_text())
    assert summary["excluded_lines"] == {"cancellation (invoice starting with C)": 1}
    assert summary["movement"]["before"] == "2011-10-02"
    assert "cancellation (invoice starting with C) | 1 |" in (segmented / "report.md").read_text()


def test_profile_prints_segment_rfm_preference_and_offers(segmented, capsys):
    capsys.readouterr()
    assert main(["customers", "profile", "--id", "2000", "--segments", str(segmented), "--attr", "age=19"]) == 0
    profile = json.loads(capsys.readouterr().out)
    assert profile["segment"] in {"at risk", "cannot lose"} and profile["rfm"]["frequency"] == 13
    assert abs(sum(profile["promotion_preference"]["probabilities"].values()) - 1) < 1e-3
    assert any(o["rule"] == "win back" for o in profile["offers"])


def test_profile_of_unknown_customer_fails_cleanly(segmented, capsys):
    assert main(["customers", "profile", "--id", "nobody", "--segments", str(segmented)]) == 2
    assert "customer 'nobody' is not in" in capsys.readouterr().err


def test_offers_for_every_customer(segmented, tmp_path):
    out = tmp_path / "offers.csv"
    assert main(["customers", "offers", "--segments", str(segmented), "--out", str(out)]) == 0
    offers = pd.read_csv(out)
    assert list(offers.columns) == ["customer_id", "offer", "rule", "reason"] and offers["reason"].str.len().min() > 0


def test_promo_train_evaluate_and_cv(tmp_path, capsys):
    model = tmp_path / "nb"
    assert main(["customers", "promo", "train", "--out", str(model)]) == 0
    table = pd.read_csv(model / "conditional_probabilities.csv")
    assert len(table) == 27 and {"free shipping", "none"} <= set(table.columns)
    capsys.readouterr()
    assert main(["customers", "promo", "evaluate", "--model", str(model), "--report", str(tmp_path / "r")]) == 0
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["n"] == 284
    assert "the evaluation rows are the model's training rows" in capsys.readouterr().err  # the default data twice
    capsys.readouterr()
    assert main(["customers", "promo", "cv", "--k-min", "2", "--k-max", "3", "--models", "naive-bayes",
                 "--report", str(tmp_path / "cv")]) == 0
    assert "| 2 fold |" in capsys.readouterr().out and len(pd.read_csv(tmp_path / "cv" / "cv.csv")) == 2
    metrics = json.loads((tmp_path / "cv" / "metrics.json").read_text(encoding="utf-8"))
    assert [row["k"] for row in metrics["rows"]] == [2, 3] and metrics["best_k_by_accuracy"]["naive-bayes"]["k"] in (2, 3)
    assert (tmp_path / "cv" / "cv.png").exists() and "| 2 fold |" in (tmp_path / "cv" / "report.md").read_text()


def test_real_log_slice_matches_an_independent_count(shared_data, tmp_path):
    path = shared_data / "commerce" / "online_retail" / "online_retail.parquet"
    if not path.exists():
        pytest.skip(f"{path} not present")
    raw = pd.read_parquet(path).head(30_000)
    small = tmp_path / "slice.parquet"
    raw.to_parquet(small)
    assert main(["customers", "segment", "--data", str(small), "--out", str(tmp_path / "out")]) == 0
    segments = pd.read_csv(tmp_path / "out" / "segments.csv")
    clean = raw[raw["CustomerID"].notna() & ~raw["InvoiceNo"].str.startswith("C") & (raw["Quantity"] > 0)
                & (raw["UnitPrice"] > 0)].drop_duplicates()
    assert len(segments) == clean["CustomerID"].nunique()
    assert segments["monetary"].sum() == pytest.approx((clean["Quantity"] * clean["UnitPrice"]).sum(), rel=1e-9)
    assert segments["frequency"].sum() == clean.groupby("CustomerID")["InvoiceNo"].nunique().sum()
