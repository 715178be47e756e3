"""The fraud CLI forms of the issue, end to end: train, score, evaluate, replay, cases (and retraining on them)."""

import json

import numpy as np
import pandas as pd
import pytest

from niaga.cli import main
from niaga.fraud.log import DecisionLog

from .conftest import ecommerce_like, simulate

PARAMS = ["--param", "n_estimators=60", "--param", "ae_epochs=2", "--param", "min_child_samples=10"]


@pytest.fixture(scope="module")
def handbook_like(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cards")
    frame = simulate(seed=3)
    cut = int(len(frame) * 0.6)
    frame.iloc[:cut // 2].to_parquet(folder / "part1.parquet")
    frame.iloc[cut // 2:cut].to_csv(folder / "part2.csv", index=False)
    later = frame.iloc[cut:].copy()
    later.to_csv(folder / "later.csv", index=False)
    model = folder / "model"
    assert main(["fraud", "train", "--data", str(folder / "part1.parquet"), str(folder / "part2.csv"),
                 "--out", str(model)] + PARAMS) == 0
    return folder, model, later


def test_train_writes_a_self_contained_model(handbook_like):
    _, model, _ = handbook_like
    meta = json.loads((model / "model.json").read_text())
    assert meta["task"] == "fraud" and meta["labels"] == ["legit", "fraud"]
    assert meta["metrics"]["training_rows"] > 1000 and "autoencoder_error" in meta["features"]
    assert (model / "rules.yaml").read_text().count("- id:") >= 10


def test_score_adds_score_decision_reasons_and_keeps_bad_rows(handbook_like, tmp_path, capsys):
    folder, model, later = handbook_like
    bad = later.head(300).copy()
    bad = bad.astype({"TX_AMOUNT": object, "TX_DATETIME": object})
    bad.iloc[5, bad.columns.get_loc("TX_AMOUNT")] = -1
    bad.iloc[6, bad.columns.get_loc("TX_DATETIME")] = "yesterday-ish"
    bad.iloc[7, bad.columns.get_loc("TRANSACTION_ID")] = bad.iloc[8]["TRANSACTION_ID"]
    path = tmp_path / "in.csv"
    bad.to_csv(path, index=False)
    out = tmp_path / "out.csv"
    assert main(["fraud", "score", "--model", str(model), "--input", str(path), "--output", str(out)]) == 0
    result = pd.read_csv(out, keep_default_na=False)
    assert len(result) == len(bad) and list(result.columns) == list(bad.columns) + ["fraud_score", "decision", "reasons"]
    assert set(result["decision"]) <= {"approve", "challenge", "review", "block"}
    assert result["reasons"][5].startswith("invalid input: amount: negative")
    assert result["reasons"][6].startswith("invalid input: timestamp: cannot parse")
    assert result["fraud_score"][5] == "" and 0 <= float(result["fraud_score"][0]) <= 1
    # the first of two equal ids is scored, the second is reported
    assert "duplicate" in result["reasons"][8] and not result["reasons"][7].startswith("invalid")
    assert "invalid input" in capsys.readouterr().out


def test_evaluate_writes_a_report(handbook_like, tmp_path, capsys):
    folder, model, _ = handbook_like
    report = tmp_path / "report"
    assert main(["fraud", "evaluate", "--model", str(model), "--data", str(folder / "later.csv"),
                 "--report", str(report)]) == 0
    metrics = json.loads((report / "metrics.json").read_text())
    assert 0.5 < metrics["roc_auc"] <= 1 and "card_precision_at_100" in metrics
    assert (report / "precision_recall.png").stat().st_size > 0 and (report / "confusion_matrix.png").exists()
    assert "training data" not in capsys.readouterr().err
    # the model's own training file: said in the output and in the report
    assert main(["fraud", "evaluate", "--model", str(model), "--data", str(folder / "part2.csv"),
                 "--report", str(tmp_path / "again")]) == 0
    assert "(100%) were in the model's training data" in capsys.readouterr().err
    assert "WARNING" in (tmp_path / "again" / "report.md").read_text(encoding="utf-8")


def test_replay_then_work_the_review_queue_and_retrain_on_it(handbook_like, tmp_path, capsys):
    folder, model, later = handbook_like
    out, log = tmp_path / "replay.csv", tmp_path / "log.duckdb"
    report = tmp_path / "report"
    assert main(["fraud", "replay", "--model", str(model), str(folder / "later.csv"), "--output", str(out),
                 "--log", str(log), "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    assert f"replayed {len(later):,} transactions" in printed and "precision" in printed and "recall" in printed
    assert f"logged {len(later):,} decisions to {log}" in printed
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["transactions"] == len(later) and 0.5 < metrics["roc_auc"] <= 1
    assert (report / "confusion_matrix.png").exists() and (report / "precision_recall.png").exists()
    assert "Fraud replay" in (report / "report.md").read_text(encoding="utf-8")
    replayed = pd.read_csv(out, keep_default_na=False)
    assert list(replayed.columns) == ["transaction_id", "fraud_score", "decision", "reasons"]
    assert sorted(replayed["transaction_id"]) == sorted(later["TRANSACTION_ID"])
    with DecisionLog(log) as decisions:
        assert sum(decisions.counts().values()) == len(later)
        open_cases = decisions.cases("open", limit=None)
    if open_cases.empty:
        pytest.skip("this small model sent nothing to review")
    case = str(open_cases["transaction_id"][0])
    assert main(["fraud", "cases", "--log", str(log), "--limit", "1"]) == 0
    listing = capsys.readouterr().out
    assert case in listing and listing.startswith(f"{len(open_cases):,} open case(s)")
    assert ("the first 1 by score" in listing) == (len(open_cases) > 1)
    assert main(["fraud", "cases", "--log", str(log), "--resolve", case, "--label", "legit", "--note", "checked"]) == 0
    assert main(["fraud", "cases", "--log", str(log)]) == 0
    assert f'"transaction_id": "{case}"' not in capsys.readouterr().out
    labels = tmp_path / "labels.csv"
    assert main(["fraud", "cases", "--log", str(log), "--export-labels", str(labels)]) == 0
    assert pd.read_csv(labels).astype(str).values.tolist() == [[case, "0"]]
    assert main(["fraud", "train", "--data", str(folder / "later.csv"), "--labels", str(labels),
                 "--out", str(tmp_path / "retrained")] + PARAMS) == 0
    assert "1 of 1 resolved labels match" in capsys.readouterr().err


def test_train_lists_the_rows_it_could_not_use(tmp_path, capsys):
    frame = simulate(n_customers=30, days=20, seed=5)
    frame.loc[3, "TX_AMOUNT"] = -2.0
    frame.loc[4, "CUSTOMER_ID"] = None
    path = tmp_path / "cards.csv"
    frame.to_csv(path, index=False)
    assert main(["fraud", "train", "--data", str(path), "--out", str(tmp_path / "m")] + PARAMS) == 0
    assert "2 invalid row(s) not used: row 5 amount: negative -2.0; row 6 customer_id: missing" in capsys.readouterr().err
    listed = pd.read_csv(tmp_path / "m" / "invalid_rows.csv")
    assert listed[["row", "field"]].values.tolist() == [[5, "amount"], [6, "customer_id"]]


def test_user_errors_are_one_line(handbook_like, tmp_path, capsys):
    _, model, _ = handbook_like
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    assert main(["fraud", "score", "--model", str(model), "--input", str(tmp_path / "x.csv"),
                 "--output", str(tmp_path / "o.csv")]) == 2
    assert "no column for transaction_id" in capsys.readouterr().err
    assert main(["fraud", "cases", "--log", str(tmp_path / "none.duckdb")]) == 2
    assert "no decision log yet" in capsys.readouterr().err


def test_ecommerce_end_to_end(tmp_path, shared_data):
    """The shared e-commerce file: train on a slice (the IP → country table is found beside the data), then
    score rows of another slice."""
    from niaga.data import fraud as fraud_data

    frame = fraud_data.load_ecommerce()
    train_path, score_path = tmp_path / "train.parquet", tmp_path / "score.csv"
    frame.iloc[:6000].to_parquet(train_path)
    frame.iloc[6000:6500].to_csv(score_path, index=False)
    model = tmp_path / "model"
    assert main(["fraud", "train", "--data", str(train_path), "--out", str(model),
                 "--ip-countries", str(fraud_data.ip_country_file())] + PARAMS) == 0
    meta = json.loads((model / "model.json").read_text())
    assert {"seconds_since_signup", "device_accounts", "country"} <= set(meta["features"])
    out = tmp_path / "out.csv"
    assert main(["fraud", "score", "--model", str(model), "--input", str(score_path), "--output", str(out),
                 "--no-log"]) == 0
    result = pd.read_csv(out, keep_default_na=False)
    assert len(result) == 500 and (result["fraud_score"] != "").all()
    instant = result["purchase_time"] == result["signup_time"]
    assert result.loc[instant, "reasons"].str.contains("R04_INSTANT_PURCHASE").all()
    score = result["fraud_score"].astype(float)
    assert score[instant].mean() > score[~instant].mean()


def test_ecommerce_like_synthetic_without_shared_data(tmp_path):
    path = tmp_path / "shop.csv"
    ecommerce_like(600).to_csv(path, index=False)
    assert main(["fraud", "train", "--data", str(path), "--out", str(tmp_path / "m"),
                 "--ip-countries", str(_ip_table(tmp_path))] + PARAMS) == 0
    assert main(["fraud", "replay", "--model", str(tmp_path / "m"), str(path), "--no-log"]) == 0


def _ip_table(tmp_path):
    path = tmp_path / "ip_to_country.csv"
    pd.DataFrame({"lower_bound_ip_address": [100_000_000, 2_000_000_000],
                  "upper_bound_ip_address": [1_500_000_000, 4_000_000_000],
                  "country": ["Indonesia", "Japan"]}).to_csv(path, index=False)
    return path


def test_score_keeps_input_columns_named_like_its_outputs(handbook_like, tmp_path, keeps_clashing_inputs):
    _, model, later = handbook_like
    outputs = ["fraud_score", "decision", "reasons"]
    inp = later.head(50).assign(**{c: f"mine-{c}" for c in outputs})
    inp.to_csv(tmp_path / "in.csv", index=False)
    assert main(["fraud", "score", "--model", str(model), "--input", str(tmp_path / "in.csv"),
                 "--output", str(tmp_path / "out.csv")]) == 0
    out = keeps_clashing_inputs(pd.read_csv(tmp_path / "in.csv", dtype=str, keep_default_na=False),
                                tmp_path / "out.csv", outputs)
    assert set(out["decision"]) <= {"approve", "challenge", "review", "block"}


def replayed(path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype={"fraud_score": str})


def same_answers(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a["transaction_id"].tolist() == b["transaction_id"].tolist()
    np.testing.assert_allclose(pd.to_numeric(a["fraud_score"]), pd.to_numeric(b["fraud_score"]), atol=2e-6)
    assert a["decision"].tolist() == b["decision"].tolist() and a["reasons"].tolist() == b["reasons"].tolist()


def test_the_state_carried_from_training_equals_a_replay_of_the_training_files(handbook_like, tmp_path, capsys):
    """The default start is the training data's final state: the same answers as starting empty and replaying
    the training files first (--fresh --history), and not those of an empty start (--fresh)."""
    folder, model, later = handbook_like
    meta = json.loads((model / "model.json").read_text())
    assert "feature_state.npz" in meta["artifacts"] and meta["metrics"]["feature_state"]["customers"] > 0
    runs = {}
    training = [str(folder / "part1.parquet"), str(folder / "part2.csv")]
    for name, options in (("carried", []), ("fresh", ["--fresh"]), ("warmed", ["--fresh", "--history"] + training)):
        out = tmp_path / f"{name}.csv"
        assert main(["fraud", "replay", "--model", str(model), str(folder / "later.csv"), "--output", str(out),
                     "--no-log"] + options) == 0
        runs[name] = (replayed(out), capsys.readouterr().out)
    end = str(pd.Timestamp(later["TX_DATETIME"].min()).floor("D"))[:10]
    assert runs["carried"][1].startswith("start: the state carried from the training data; the state reaches " + end)
    assert runs["fresh"][1].startswith("start: an empty state (--fresh); the state reaches -")
    assert "then the history" in runs["warmed"][1]
    same_answers(runs["carried"][0], runs["warmed"][0])
    assert runs["carried"][0]["fraud_score"].tolist() != runs["fresh"][0]["fraud_score"].tolist()
    # the training file again: older than the state, so scored from the history up to its time and flagged
    assert main(["fraud", "score", "--model", str(model), "--input", str(folder / "part2.csv"),
                 "--output", str(tmp_path / "again.csv"), "--no-log"]) == 0
    again = pd.read_csv(tmp_path / "again.csv", keep_default_na=False)
    latest = pd.to_datetime(again["TX_DATETIME"]) == pd.to_datetime(again["TX_DATETIME"]).max()  # the state's end
    assert again["reasons"].str.startswith("out of order: ").tolist() == (~latest).tolist()
    assert (again["fraud_score"] != "").all()
    assert "flagged 'out of order'" in capsys.readouterr().err


def test_a_replay_killed_midway_resumes_with_nothing_lost_or_scored_twice(handbook_like, tmp_path, capsys):
    """SIGKILL a paced replay once it has checkpointed, run the same command again: the output equals an
    uninterrupted replay's and the log holds every transaction exactly once."""
    import signal
    import subprocess
    import sys
    import time

    from niaga.fraud.state import read_meta

    folder, model, later = handbook_like
    data = str(folder / "later.csv")
    assert main(["fraud", "replay", "--model", str(model), data, "--output", str(tmp_path / "uninterrupted.csv"),
                 "--no-log"]) == 0
    snapshot, log, out = tmp_path / "stream.npz", tmp_path / "log.duckdb", tmp_path / "resumed.csv"
    command = ["fraud", "replay", "--model", str(model), data, "--output", str(out), "--log", str(log),
               "--snapshot", str(snapshot), "--snapshot-seconds", "0.1"]
    process = subprocess.Popen([sys.executable, "-m", "niaga.cli"] + command + ["--max-rate", "1000"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if snapshot.exists() and read_meta(snapshot).get("seq", 0) >= 300:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
    assert not out.exists()
    with DecisionLog(log) as decisions:
        before = sum(decisions.counts().values())
    assert 300 <= before < len(later), "not killed midway"

    capsys.readouterr()
    assert main(command) == 0  # the same command: resume
    printed = capsys.readouterr().out
    assert "resumed the stream in" in printed and f"{before:,} transactions were already decided" in printed
    same_answers(replayed(out), replayed(tmp_path / "uninterrupted.csv"))
    with DecisionLog(log) as decisions:
        counts = decisions.db.fetchone("SELECT count(*), count(DISTINCT transaction_id), max(seq) FROM decisions")
    assert counts == (len(later), len(later), len(later))
    assert main(command) == 0  # once more: everything already decided, nothing logged twice
    same_answers(replayed(out), replayed(tmp_path / "uninterrupted.csv"))
    with DecisionLog(log) as decisions:
        assert sum(decisions.counts().values()) == len(later)
