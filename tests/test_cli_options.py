"""The shared option names (niaga.cli_options): one meaning per flag in every capability, and the old spellings
still accepted for one release with a note on stderr."""

import re
from pathlib import Path

import pytest

from niaga.cli import build_parser, leaf_parsers, main
from niaga.cli_options import LEGACY_KIND_DEST

PARSER = build_parser()
COMMANDS = list(leaf_parsers(PARSER))
SRC = Path(__file__).resolve().parents[1] / "src" / "niaga"


def parse(words):
    return PARSER.parse_args(words)


def test_model_is_always_a_directory_and_train_takes_kind():
    for command in COMMANDS:
        options = command._option_string_actions
        if "--model" in options and options["--model"].dest == "model":
            assert options["--model"].metavar == "DIR", command.prog
            assert "--trust-pickle" in options, command.prog
        if "--kind" in options:
            assert options["--model"].dest == LEGACY_KIND_DEST, command.prog  # the old spelling, hidden
            assert "--trust-pickle" not in options, command.prog


@pytest.mark.parametrize("words,kind", [
    (["reviews", "train", "--model", "neural"], "neural"),
    (["social", "train", "--model", "svm-rbf"], "svm-rbf"),
    (["social", "train", "--model", "linear"], "tfidf"),  # the old name of the text layer's tfidf
    (["customers", "promo", "train", "--model", "logistic"], "logistic"),
    (["recommend", "train", "--model", "als"], "als"),
])
def test_model_kind_still_works_with_a_deprecation_note(words, kind, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no directory named like the kind
    required = {"reviews": ["--text-col", "t", "--label-col", "l"], "social": ["--text-col", "t", "--label-col", "l"]}
    args = parse(words + ["--data", "d.csv", "--out", "m"] + required.get(words[0], []))
    assert args.kind == kind
    assert re.search(r"niaga: note: --model \S+ \(the algorithm\) is deprecated.*use --kind " + kind,
                     capsys.readouterr().err)


def test_kind_is_the_new_spelling_and_aliases_map_to_one_name(capsys):
    args = parse(["social", "train", "--data", "d.csv", "--text-col", "t", "--label-col", "l", "--out", "m",
                  "--kind", "linear"])
    assert args.kind == "tfidf" and "now called tfidf" in capsys.readouterr().err
    args = parse(["reviews", "train", "--data", "d.csv", "--text-col", "t", "--label-col", "l", "--out", "m",
                  "--kind", "linear"])
    assert args.kind == "tfidf"
    assert parse(["recommend", "train", "--data", "d", "--out", "m"]).kind is None  # chosen from the data


def test_train_refuses_a_model_directory_or_an_unknown_kind(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "neural").mkdir()  # a directory named like a kind is a directory
    base = ["reviews", "train", "--data", "d.csv", "--text-col", "t", "--label-col", "l", "--out", "m"]
    for value in ("neural", "lasso"):
        with pytest.raises(SystemExit):
            parse(base + ["--model", value])
        assert "--kind" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(base + ["--kind", "lasso"])


@pytest.mark.parametrize("words", [
    ["customers", "segment", "--data", "log.csv"],
    ["customers", "intent", "evaluate", "--data", "s.csv"],
    ["customers", "promo", "evaluate", "--model", "m"],
    ["recommend", "evaluate", "--model", "m", "--data", "d", "--protocol", "time"],
])
def test_report_is_the_report_folder_and_out_an_old_spelling(words, capsys):
    assert parse(words + ["--report", "r"]).report == "r"
    assert not capsys.readouterr().err
    assert parse(words + ["--out", "r"]).report == "r"
    err = capsys.readouterr().err
    assert "--out r is deprecated" in err and "use --report r" in err


def test_a_required_report_is_required_under_either_name(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["customers", "segment", "--data", "log.csv"])
    assert exc.value.code == 2 and "--report" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["reviews predict", "social predict", "social extract", "fraud score",
                                     "customers intent predict", "recommend users", "vision predict",
                                     "privacy mask"])
def test_input_and_output_accept_data_and_out(command):
    words = command.split() + (["--model", "m"] if "extract" not in command and "privacy" not in command else [])
    words += ["--text-col", "t"] if command.split()[0] in ("reviews", "social") else []
    words += ["--columns", "phone"] if command == "privacy mask" else []
    args = parse(words + ["--data", "in.csv", "--out", "out.csv"])
    assert (args.input, args.output) == ("in.csv", "out.csv")
    args = parse(words + ["--input", "in.csv", "--output", "out.csv"])
    assert (args.input, args.output) == ("in.csv", "out.csv")


def test_fraud_replay_takes_data_like_train_and_still_positional_files():
    args = parse(["fraud", "replay", "--model", "m", "--data", "a.parquet", "b.parquet", "--report", "r"])
    assert args.data == ["a.parquet", "b.parquet"] and args.files == [] and args.report == "r"
    args = parse(["fraud", "replay", "--model", "m", "a.parquet", "b.parquet", "--report", "r"])
    assert args.files == ["a.parquet", "b.parquet"]


def test_fraud_replay_without_files_is_a_clear_error(capsys, tmp_path):
    assert main(["fraud", "replay", "--model", str(tmp_path)]) == 2
    assert "--data FILE" in capsys.readouterr().err


def test_trust_pickle_works_before_the_capability_as_the_readme_writes_it(monkeypatch):
    monkeypatch.delenv("NIAGA_TRUST_PICKLE", raising=False)
    args = parse(["--trust-pickle", "reviews", "classify", "--model", "m", "x"])
    assert args.trust_pickle_everywhere and not args.trust_pickle
    assert parse(["reviews", "classify", "--model", "m", "--trust-pickle", "x"]).trust_pickle


def test_no_capability_prints_to_stderr_by_itself():
    """Messages on stderr go through niaga.cli_options.say / note (one helper, one format)."""
    offenders = [str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
                 if path.name != "cli_options.py" and path.relative_to(SRC).parts[0] not in ("cli.py", "serve")
                 and re.search(r"def (err|_log|_say|say|note)\(", path.read_text(encoding="utf-8"))]
    assert not offenders, f"own stderr helpers: {offenders}"


def test_run_help_names_every_model_the_main_job_trains():
    from niaga.config import settings
    from niaga.main_job import default_models

    command = next(c for c in COMMANDS if c.prog == "niaga run")
    text = " ".join(command.format_help().split()).lower()
    for capability, name in default_models(settings()):
        assert capability[:5] in text, capability  # review(s), social, fraud, custo(mers), recom(mendations)
        assert name.rstrip("s")[:6] in text, name  # emotion, sentiment, post(s), transaction(s), segment(s) ...
