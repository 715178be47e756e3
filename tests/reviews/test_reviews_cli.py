"""The review CLI forms of the issue, end to end on small made-up data, including bad input."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from niaga.cli import main

POS = ["barang bagus sekali mantap", "pengiriman cepat seller ramah", "kualitas bagus harga murah puas",
       "suka banget bagus mantap", "rekomendasi banget bagus", "cepat sampai mantap puas"]
NEG = ["barang rusak parah kecewa", "pengiriman lama sekali kecewa", "kualitas jelek mahal rusak",
       "tidak sesuai gambar kecewa", "jelek sekali rusak", "lama sampai rusak jelek"]


@pytest.fixture()
def train_csv(tmp_path):
    frame = pd.DataFrame({"review": POS * 3 + NEG * 3, "emotion": ["Happy"] * 18 + ["Anger"] * 18})
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture()
def model_dir(train_csv, tmp_path, shared_data):
    out = tmp_path / "model"
    args = ["reviews", "train", "--data", str(train_csv), "--text-col", "review", "--label-col", "emotion",
            "--out", str(out), "--cv", "3", "--param", "min_df=1"]
    assert main(args) == 0
    return out


def test_train_writes_a_model_with_metadata(model_dir):
    meta = json.loads((model_dir / "model.json").read_text())
    assert meta["labels"] == ["Anger", "Happy"] and meta["task"] == "reviews"
    assert meta["metrics"]["training_rows"] == 36 and meta["metrics"]["cv"]["n_splits"] == 3
    assert len(meta["training_data"]["sha256"]) == 64


def test_predict_keeps_every_row_and_flags_bad_cells(model_dir, tmp_path):
    inp = tmp_path / "in.csv"
    pd.DataFrame({"id": [1, 2, 3, 4], "review": ["barang bagus mantap", "", None, "rusak parah kecewa"]}).to_csv(inp, index=False)
    out = tmp_path / "out.csv"
    assert main(["reviews", "predict", "--model", str(model_dir), "--input", str(inp), "--text-col", "review",
                 "--output", str(out)]) == 0
    result = pd.read_csv(out, keep_default_na=False)
    assert list(result["id"]) == [1, 2, 3, 4]
    assert list(result.columns) == ["id", "review", "label", "confidence", "error", "warning"]
    assert list(result["label"]) == ["Happy", "", "", "Anger"]
    assert list(result["error"]) == ["", "empty text", "empty text", ""]
    assert 0.5 < float(result["confidence"][0]) <= 1.0


def test_evaluate_writes_report(model_dir, train_csv, tmp_path):
    report = tmp_path / "report"
    assert main(["reviews", "evaluate", "--model", str(model_dir), "--data", str(train_csv), "--text-col", "review",
                 "--label-col", "emotion", "--report", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9 and "f1_macro" in metrics and "cohen_kappa" in metrics
    assert (report / "confusion_matrix.png").exists() and (report / "report.md").exists()


@pytest.mark.parametrize("case, message", [
    ("missing_file", "nope.csv: file not found"),
    ("bad_column", "missing column(s) 'ulasan'"),
    ("not_a_model", "not a niaga model"),
])
def test_bad_input_is_one_line_and_exit_code_2(case, message, model_dir, train_csv, tmp_path, capsys):
    args = {
        "missing_file": ["reviews", "predict", "--model", str(model_dir), "--input", str(tmp_path / "nope.csv"),
                         "--text-col", "review", "--output", str(tmp_path / "o.csv")],
        "bad_column": ["reviews", "predict", "--model", str(model_dir), "--input", str(train_csv),
                       "--text-col", "ulasan", "--output", str(tmp_path / "o.csv")],
        "not_a_model": ["reviews", "predict", "--model", str(tmp_path), "--input", str(train_csv),
                        "--text-col", "review", "--output", str(tmp_path / "o.csv")],
    }[case]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("niaga: error:") and message in err and "\n" not in err


def test_training_with_one_label_fails_clearly(tmp_path, capsys):
    path = tmp_path / "one.csv"
    pd.DataFrame({"t": ["a b", "c d", "e f"], "y": ["x", "x", "x"]}).to_csv(path, index=False)
    assert main(["reviews", "train", "--data", str(path), "--text-col", "t", "--label-col", "y",
                 "--out", str(tmp_path / "m")]) == 2
    assert "at least 2 distinct labels" in capsys.readouterr().err


def test_help_lists_capabilities_and_version():
    out = subprocess.run([sys.executable, "-m", "niaga.cli", "--help"], capture_output=True, text=True, check=True).stdout
    for name in ("data", "text", "reviews", "run"):
        assert f"  {name}" in out
    version = subprocess.run([sys.executable, "-m", "niaga.cli", "--version"], capture_output=True, text=True).stdout
    import niaga

    assert version.strip() == f"niaga {niaga.__version__}"


def test_evaluate_matches_labels_that_differ_only_in_case(model_dir, tmp_path):
    data = tmp_path / "lower.csv"
    pd.DataFrame({"review": ["barang bagus sekali mantap", "barang rusak parah kecewa", "jelek"],
                  "emotion": ["happy", "ANGER", "Neutral"]}).to_csv(data, index=False)
    report = tmp_path / "r"
    assert main(["reviews", "evaluate", "--model", str(model_dir), "--data", str(data), "--text-col", "review",
                 "--label-col", "emotion", "--report", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["accuracy"] == pytest.approx(2 / 3)  # "Neutral" is not a label the model knows
    text = (report / "report.md").read_text()
    assert "ANGER → Anger" in text and "labels not known to the model**: Neutral" in text


def test_predict_keeps_input_columns_named_like_its_outputs(model_dir, tmp_path, keeps_clashing_inputs):
    outputs = ["label", "confidence", "error"]
    inp = pd.DataFrame({"review": ["barang bagus sekali", "rusak kecewa", ""], "label": ["Happy", "Anger", "Happy"],
                        "confidence": ["gold", "gold", "silver"], "error": ["a", "b", "c"]})
    inp.to_csv(tmp_path / "in.csv", index=False)
    assert main(["reviews", "predict", "--model", str(model_dir), "--input", str(tmp_path / "in.csv"),
                 "--text-col", "review", "--output", str(tmp_path / "out.csv")]) == 0
    out = keeps_clashing_inputs(inp, tmp_path / "out.csv", outputs)
    assert out["label"].tolist()[:2] == ["Happy", "Anger"] and out["error"][2] == "empty text"


def test_evaluate_with_labels_unknown_to_the_model_is_one_line(model_dir, tmp_path, capsys):
    data = tmp_path / "stars.csv"
    pd.DataFrame({"review": ["barang bagus", "rusak"], "stars": [5, 1]}).to_csv(data, index=False)
    assert main(["reviews", "evaluate", "--model", str(model_dir), "--data", str(data), "--text-col", "review",
                 "--label-col", "stars", "--report", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "['1', '5']" in err and "['Anger', 'Happy']" in err


def test_evaluate_warns_when_it_scores_texts_the_model_trained_on(model_dir, train_csv, tmp_path, capsys):
    report = tmp_path / "r"
    assert main(["reviews", "evaluate", "--model", str(model_dir), "--data", str(train_csv), "--text-col", "review",
                 "--label-col", "emotion", "--report", str(report)]) == 0
    assert "36 of 36 evaluation rows (100%) were in the model's training data" in capsys.readouterr().err
    assert "WARNING" in (report / "report.md").read_text(encoding="utf-8")
    fresh = tmp_path / "fresh.csv"
    pd.DataFrame({"review": ["barang datang cepat bagus", "kecewa rusak total"], "emotion": ["Happy", "Anger"]}
                 ).to_csv(fresh, index=False)
    assert main(["reviews", "evaluate", "--model", str(model_dir), "--data", str(fresh), "--text-col", "review",
                 "--label-col", "emotion", "--report", str(tmp_path / "r2")]) == 0
    assert "training data" not in capsys.readouterr().err
