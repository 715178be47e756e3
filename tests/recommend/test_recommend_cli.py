"""``niaga recommend`` end to end on the three formats, and the one-line errors (exit 2)."""

import json

import pandas as pd
import pytest

from niaga.cli import main

SASREC_FAST = ["--param", "sasrec.max_epochs=4", "--param", "sasrec.dim=16", "--param", "sasrec.eval_every=2",
               "--param", "sasrec.verbose=false", "--param", "sasrec.n_threads=1"]


@pytest.fixture(scope="module")
def retail_model(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "retail"
    assert main(["recommend", "train", "--data", str(data_dir / "retail.csv"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def sequence_model(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "tiny"
    assert main(["recommend", "train", "--data", str(data_dir / "Tiny.txt"), "--out", str(out), *SASREC_FAST]) == 0
    return out


def test_train_saves_a_recommend_model_with_its_holdout(retail_model):
    meta = json.loads((retail_model / "model.json").read_text())
    assert meta["task"] == "recommend" and meta["holdout"] == "last-invoice" and meta["data_format"] == "invoices"
    assert meta["metrics"]["excluded_lines"]["cancellation (invoice starting with C)"] == 1


def test_evaluate_writes_both_rankings(retail_model, data_dir, tmp_path, capsys):
    report = tmp_path / "report"
    assert main(["recommend", "evaluate", "--model", str(retail_model), "--data", str(data_dir / "retail.csv"),
                 "--protocol", "last-invoice", "--report", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    for key in ("hr@10", "ndcg@10", "recall@20", "mrr", "coverage"):
        assert 0 <= metrics[key] <= 1 and 0 <= metrics["history_removed"][key] <= 1
    assert metrics["hr@10"] > 0.5  # customers restock their usual items: buy-again finds them
    assert "History removed" in capsys.readouterr().out


def test_user_lines_start_with_the_item_then_score_source_reason(retail_model, capsys):
    capsys.readouterr()
    assert main(["recommend", "user", "--model", str(retail_model), "--user", "12003", "-k", "5"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5
    item, score, source, reason = lines[0].split("\t")
    assert item.startswith("2") and float(score) > 0 and source and reason


def test_unknown_user_gets_the_fallback_and_is_told(retail_model, capsys):
    capsys.readouterr()
    assert main(["recommend", "user", "--model", str(retail_model), "--user", "99999", "-k", "3"]) == 0
    captured = capsys.readouterr()
    assert "no history for user '99999'" in captured.err
    assert all(line.split("\t")[2] == "fallback-popularity" for line in captured.out.strip().splitlines())


def test_users_batch_keeps_the_input_and_reports_bad_rows(retail_model, tmp_path, keeps_clashing_inputs):
    inp = pd.DataFrame({"CustomerID": ["12000", "", "nobody"], "note": ["a", "b", "c"], "rank": ["x", "y", "z"]})
    inp.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out.csv"
    assert main(["recommend", "users", "--model", str(retail_model), "--input", str(tmp_path / "in.csv"),
                 "--output", str(out), "-k", "2"]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(table) == 2 + 1 + 2  # two ranks each for the good rows, the empty id kept once
    assert table["rank_input"].tolist() == ["x", "x", "y", "z", "z"] and table["note"].tolist()[2] == "b"
    assert "empty user id" in table["error"].tolist()[2]
    assert table.loc[table["CustomerID"] == "nobody", "source"].eq("fallback-popularity").all()
    assert {"user", "rank", "item", "score", "source", "reason"} <= set(table.columns)


def test_together_on_baskets(data_dir, tmp_path, capsys):
    out = tmp_path / "groceries"
    assert main(["recommend", "train", "--data", str(data_dir / "groceries.csv"), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["recommend", "together", "--model", str(out), "--item", "herbs", "-k", "2"]) == 0
    first = capsys.readouterr().out.splitlines()[0].split("\t")
    assert first[0] == "root vegetables" and first[2] == "cooccurrence" and "lift" in first[3]
    assert main(["recommend", "train", "--data", str(data_dir / "members.csv"), "--out", str(tmp_path / "m")]) == 0


def test_sequences_train_sasrec_evaluate_and_serve(sequence_model, data_dir, tmp_path, capsys):
    meta = json.loads((sequence_model / "model.json").read_text())
    assert meta["holdout"] == "leave-one-out" and "sasrec-sasrec.safetensors" in meta["artifacts"]
    assert main(["recommend", "evaluate", "--model", str(sequence_model), "--data", str(data_dir / "Tiny.txt"),
                 "--protocol", "leave-one-out", "--report", str(tmp_path / "r"), "--negatives", "5"]) == 0
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["history_removed"]["hr@10"] > 0.3 and "sampled_5" in metrics
    capsys.readouterr()
    assert main(["recommend", "together", "--model", str(sequence_model), "--item", "31", "-k", "3"]) == 0
    captured = capsys.readouterr()
    assert "no purchases yet" in captured.err and captured.out.splitlines()[0].split("\t")[2] == "content"


def test_evaluating_a_model_trained_on_everything_is_refused(data_dir, tmp_path, capsys):
    out = tmp_path / "all"
    assert main(["recommend", "train", "--data", str(data_dir / "retail.csv"), "--out", str(out), "--model",
                 "popularity", "--holdout", "none"]) == 0
    capsys.readouterr()
    assert main(["recommend", "evaluate", "--model", str(out), "--data", str(data_dir / "retail.csv"),
                 "--protocol", "last-invoice", "--report", str(tmp_path / "r")]) == 2
    assert "test items included" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (["train", "--data", "{missing}", "--out", "{tmp}/m"], "file not found"),
    (["train", "--data", "{bad_table}", "--out", "{tmp}/m", "--format", "invoices"], "missing"),
    (["train", "--data", "{retail}", "--out", "{tmp}/m", "--param", "window"], "expected NAME=VALUE"),
    (["train", "--data", "{retail}", "--out", "{tmp}/m", "--param", "nosuch=1"], "unknown"),
    (["user", "--model", "{tmp}", "--user", "1"], "not a niaga model"),
    (["user", "--model", "{other}", "--user", "1"], "expected a 'recommend' model"),
    (["users", "--model", "{retail_model}", "--input", "{bad_table}", "--output", "{tmp}/o.csv"], "no user column"),
    (["user", "--model", "{retail_model}", "--user", "1", "-k", "0"], "-k 0"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, retail_model, data_dir, tmp_path, capsys):
    from niaga.modeling import save_model
    from niaga.recommend.popularity import PopularityRecommender
    from niaga.recommend.data import read_interactions

    bad_table = tmp_path / "bad.csv"
    pd.DataFrame({"InvoiceNo": ["1"], "Foo": [1]}).to_csv(bad_table, index=False)
    other = tmp_path / "other"
    save_model(PopularityRecommender().fit(read_interactions(data_dir / "groceries.csv")), other, task="reviews")
    values = {"missing": tmp_path / "nope.csv", "bad_table": bad_table, "tmp": tmp_path, "retail": data_dir / "retail.csv",
              "other": other, "retail_model": retail_model}
    capsys.readouterr()
    assert main(["recommend", *[a.format(**values) for a in argv]]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("niaga: error:")
