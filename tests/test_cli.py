"""The command line as a whole: every command documents itself and its example parses."""

import shlex

import pytest

from niaga.cli import build_parser, leaf_parsers, main

PARSER = build_parser()
COMMANDS = list(leaf_parsers(PARSER))


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.prog)
def test_every_command_describes_each_option_and_shows_an_example_that_parses(command):
    assert command.description, "no description"
    undocumented = [a.option_strings or a.dest for a in command._actions if not a.help]
    assert not undocumented, f"options without help: {undocumented}"
    assert command.epilog and command.epilog.startswith("example:\n  ")
    example = command.epilog.split("\n", 1)[1].strip()
    words = shlex.split(example[example.index("niaga "):])
    args = PARSER.parse_args(words[1:])  # exits (fails the test) on an unknown option
    assert args.handler is command.get_default("handler")


def test_unknown_param_names_the_valid_ones(capsys, tmp_path):
    assert main(["reviews", "train", "--data", str(tmp_path / "x.csv"), "--text-col", "t", "--label-col", "l",
                 "--out", str(tmp_path / "m"), "--param", "C_svm=1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--param C_svm: unknown parameter; valid: C, calibration" in err


def test_options_are_spelled_the_same_across_capabilities():
    """Labelled input of train/evaluate is --data; predict/score read --input and write --output."""
    for command in COMMANDS:
        options = command._option_string_actions
        verb = command.prog.split()[-1]
        if verb in ("train", "evaluate"):
            assert "--data" in options, command.prog
        if verb in ("predict", "score", "extract"):
            assert {"--input", "--output"} <= set(options), command.prog
