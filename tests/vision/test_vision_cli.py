"""``niaga vision`` end to end on tiny synthetic photos: train, evaluate, predict, check, index, similar."""

import json
import shutil

import pandas as pd
import pytest

from niaga.cli import main

OUTPUTS = ["image", "master", "sub", "article", "gender", "master_confidence", "sub_confidence",
           "article_confidence", "gender_confidence", "error"]


def test_train_writes_model_checks_deployment_and_index(tiny_model):
    meta = json.loads((tiny_model / "model.json").read_text())
    assert meta["task"] == "vision" and meta["class"] == "niaga.vision.model.ProductClassifier"
    assert meta["dataset"]["splits"] == {"train": "fit", "val": "selection of the weights (best epoch)"}
    assert set(meta["metrics"]["val"]) == {"master", "sub", "article", "gender"}
    assert "network.safetensors" in meta["artifacts"] and (tiny_model / "index" / "items.parquet").exists()
    assert not any(name.startswith(("index/", "retrieval/")) for name in meta["artifacts"])  # checked on their own
    assert (tiny_model / "data_checks.md").read_text().startswith("# Data checks")
    assert not (tiny_model / "checkpoint").exists()
    deployment = meta["deployment"]
    assert deployment["fastest"] in {"torch", "onnx", "onnx-int8", "onnx-int8-static"}


def test_evaluate_writes_the_report_set(tiny_model, tiny_data, tmp_path, capsys):
    report = tmp_path / "report"
    assert main(["vision", "evaluate", "--model", str(tiny_model), "--data", str(tiny_data), "--split", "val",
                 "--report", str(report)]) == 0
    assert "val (30 images" in capsys.readouterr().out
    metrics = json.loads((report / "metrics.json").read_text())
    for level in ["master", "sub", "article", "gender"]:
        m = metrics["levels"][level]
        assert {"accuracy", "precision_macro", "recall_macro", "f1_macro", "per_class_mean_accuracy"} <= set(m)
        assert (report / f"confusion_{level}.png").stat().st_size > 0
        assert (report / f"per_class_{level}.csv").exists()
    errors = metrics["errors"]["article"]
    assert errors["within_parent"] + errors["across_parent"] == errors["errors"]
    assert metrics["search"]["within_split"]["queries"] == 30
    assert metrics["context"]["split evaluated"] == "val"
    page = (report / "report.md").read_text()
    assert "within parent" in page and (report / "confusion_matrix.png").exists() and (report / "errors.csv").exists()


def test_predict_a_folder_keeps_bad_files_as_rows_with_an_error(tiny_model, tiny_data, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ["1001.jpg", "1020.jpg"]:
        shutil.copy(tiny_data / "images" / name, folder / name)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "readme.txt").write_text("hello")
    (folder / "cut.jpg").write_bytes((tiny_data / "images" / "1001.jpg").read_bytes()[:150])
    out = tmp_path / "labels.csv"
    assert main(["vision", "predict", "--model", str(tiny_model), "--input", str(folder), "--output", str(out)]) == 0
    assert "3 unreadable" in capsys.readouterr().out
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == OUTPUTS and len(frame) == 5
    bad = frame.set_index("image").loc[["empty.jpg", "readme.txt", "cut.jpg"]]
    assert (bad["error"] != "").all() and (bad["article"] == "").all() and (bad["article_confidence"] == "").all()
    good = frame.set_index("image").loc[["1001.jpg", "1020.jpg"]]
    assert (good["error"] == "").all() and (good["article"] != "").all()
    assert good["article_confidence"].astype(float).between(0, 1).all()
    one = tmp_path / "one.csv"
    assert main(["vision", "predict", "--model", str(tiny_model), "--input", str(folder / "1001.jpg"),
                 "--output", str(one)]) == 0
    single = pd.read_csv(one, keep_default_na=False)
    assert single["image"].tolist() == ["1001.jpg"] and single["article"].tolist() == [good.loc["1001.jpg", "article"]]


def test_predict_a_table_keeps_every_row_and_clashing_columns(tiny_model, tiny_data, tmp_path,
                                                              keeps_clashing_inputs):
    table = pd.DataFrame({"image": ["images/1001.jpg", "images/missing.jpg", "images/1050.jpg"],
                          "article": ["mine", "x", "y"], "error": ["", "", ""], "sku": ["a", "b", "c"]})
    source = tiny_data / "to_label.csv"
    table.to_csv(source, index=False)
    out = tmp_path / "labelled.csv"
    assert main(["vision", "predict", "--model", str(tiny_model), "--input", str(source), "--output", str(out),
                 "--runtime", "torch"]) == 0
    frame = keeps_clashing_inputs(table, out, ["image", "article", "error"])
    assert set(OUTPUTS) <= set(frame.columns) and frame["image"].tolist() == table["image"].tolist()
    assert frame["error"].tolist()[1] == "file not found" and frame["article"].tolist()[1] == ""


def test_index_and_similar(tiny_model, tiny_data, tmp_path, capsys):
    query = tiny_data / "images" / "1001.jpg"
    assert main(["vision", "similar", "--model", str(tiny_model), "--image", str(query), "-k", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith(f"query {query}") and len(lines) == 4
    assert json.loads(lines[1])["image"] == "images/1001.jpg"  # the photo itself is in the catalogue
    index = tmp_path / "index"
    assert main(["vision", "index", "--model", str(tiny_model), "--data", str(tiny_data), "--out", str(index),
                 "--split", "val"]) == 0
    assert "indexed 30 images" in capsys.readouterr().out
    out = tmp_path / "similar.csv"
    assert main(["vision", "similar", "--model", str(tiny_model), "--image", str(query), "--index", str(index),
                 "-k", "5", "--output", str(out)]) == 0
    found = pd.read_csv(out)
    assert found["rank"].tolist() == [1, 2, 3, 4, 5] and found["score"].is_monotonic_decreasing


def test_check_command_reports_the_data(tiny_data, tmp_path, capsys):
    assert main(["vision", "check", "--data", str(tiny_data), "--report", str(tmp_path / "checks")]) == 0
    assert "1 classes with several parents" in capsys.readouterr().out
    assert json.loads((tmp_path / "checks" / "data_checks.json").read_text())["images"] == 84


@pytest.mark.parametrize("argv, message", [
    (["vision", "train", "--data", "{tmp}/nowhere", "--out", "{tmp}/m"], "nowhere: no such directory"),
    (["vision", "evaluate", "--model", "{model}", "--data", "{tmp}/nowhere", "--report", "{tmp}/r"],
     "no such directory"),
    (["vision", "predict", "--model", "{model}", "--input", "{tmp}/nowhere", "--output", "{tmp}/o.csv"],
     "no such file or directory"),
    (["vision", "predict", "--model", "{other}", "--input", "{data}", "--output", "{tmp}/o.csv"],
     "is a 'reviews' model, expected a 'vision' model"),
    (["vision", "predict", "--model", "{tmp}", "--input", "{data}", "--output", "{tmp}/o.csv"], "not a niaga model"),
    (["vision", "evaluate", "--model", "{model}", "--data", "{data}", "--split", "test", "--report", "{tmp}/r"],
     "no images in split 'test'"),
    (["vision", "train", "--data", "{data}", "--out", "{tmp}/m", "--param", "depth=3"],
     "--param depth: unknown parameter"),
    (["vision", "similar", "--model", "{model}", "--image", "{tmp}/none.jpg"], "none.jpg: file not found"),
])
def test_bad_input_gives_one_line_and_exit_2(argv, message, tiny_model, tiny_data, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(tiny_model, other)
    meta = json.loads((other / "model.json").read_text())
    (other / "model.json").write_text(json.dumps({**meta, "task": "reviews"}))
    values = {"tmp": tmp_path, "model": tiny_model, "data": tiny_data, "other": other}
    capsys.readouterr()
    assert main([a.format(**values) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_export_rebuilds_the_deployment_files(tiny_model, tiny_data, tmp_path, capsys):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    assert main(["vision", "export", "--model", str(model), "--data", str(tiny_data)]) == 0
    assert "predict uses" in capsys.readouterr().out
    meta = json.loads((model / "model.json").read_text())
    assert "network.int8-static.onnx" in meta["artifacts"] and meta["dataset"]["layout"] == "generic"
    assert set(meta["deployment"]["runtimes"]) == {"torch", "onnx", "onnx-int8", "onnx-int8-static"}
    out = tmp_path / "p.csv"
    assert main(["vision", "predict", "--model", str(model), "--input", str(tiny_data / "images"), "--output",
                 str(out), "--runtime", "onnx-int8-static"]) == 0
    assert len(pd.read_csv(out)) == 84
