"""Every shell example in README.md and docs/*.md runs as written, from the repository root, on a fresh
checkout with ../shared beside it: a doc that drifts from the code fails here.

The commands run in order, one document at a time, in a scratch directory laid out like a checkout (a
``../shared/data`` beside it). Where a step would take minutes on the full data, the scratch ``shared/data``
holds a small stand-in of that file (the first rows of the same table, the same columns), so the command is
the same and only the data is smaller. ``make`` lines and the blocking ``niaga serve`` are not run (CI runs
``make test``; the server has its own tests); ``niaga run`` runs with ``--no-serve``; a training time budget
(``--minutes``, ``max_minutes``) is cut to ``TEST_MINUTES``. Python examples are
compiled, not run (they talk to a running server). A `niaga ...` command runs as the console script would, in
a process forked from one that imported the heavy libraries once (``FORK_SERVER``), to save seconds of imports
per command.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK_RE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)
#: shared file → rows kept in its stand-in (the first rows: time-ordered files keep their order)
STAND_INS = {
    "text/prdect_id/prdect_id_train.csv": 1_200,
    "fraud/fraud_detection_handbook_simulated/transactions_2018-04.parquet": 12_000,
    "fraud/fraud_detection_handbook_simulated/transactions_2018-05.parquet": 12_000,
    "fraud/fraud_detection_handbook_simulated/transactions_2018-06.parquet": 12_000,
    "fraud/fraud_detection_handbook_simulated/transactions_2018-07.parquet": 12_000,
    "fraud/fraud_detection_handbook_simulated/transactions_2018-08.parquet": 12_000,
    "fraud/fraud_detection_handbook_simulated/transactions_2018-09.parquet": 12_000,
    "fraud/ecommerce_fraud_data_partial/fraud_data_first51689.parquet": 8_000,
    "commerce/online_retail/online_retail.parquet": 40_000,
    "commerce/online_shoppers_intention/online_shoppers_intention.csv": 3_000,
    "commerce/amazon_s3rec/Beauty.txt": 600,
    "commerce/amazon_s3rec/Sports_and_Outdoors.txt": 1_500,
    "commerce/amazon_s3rec/Toys_and_Games.txt": 1_500,
}
#: image dataset folder → every how many-th image its stand-in keeps (its label tables cut to those images, its
#: image folders holding only them)
IMAGE_STAND_INS = {
    "text/prdect_id/prdect_id_train.csv": 1_200,
    "images/fashion_product_images_small/": 100,
    "images/grocery_store_dataset/": 12,
}
#: a training time budget in an example (``--minutes N``, ``max_minutes=N``) runs this long here: the command is the same, the
#: model weaker
TEST_MINUTES = "0.3"
PER_COMMAND_SECONDS = 300


def strip_comment(line: str) -> str:
    """The line without a trailing ``# comment`` (a # inside quotes stays)."""
    quote = None
    for i, char in enumerate(line):
        if char in "'\"" and quote in (None, char):
            quote = None if quote else char
        elif char == "#" and quote is None and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def examples(document: Path) -> tuple[list[str], list[str]]:
    """(shell commands in order, python snippets) of a Markdown document."""
    commands, snippets = [], []
    for language, body in BLOCK_RE.findall(document.read_text(encoding="utf-8")):
        if language == "python":
            snippets.append(body)
        if language not in ("bash", "sh", "shell"):
            continue
        for line in re.sub(r"\\\n\s*", " ", body).splitlines():
            line = strip_comment(line).strip()
            if line and not line.startswith("make "):
                commands.append(line)
    return commands, snippets


def runnable(command: str) -> str | None:
    """The command as the test runs it: None for the blocking server, ``niaga run`` without serving."""
    if re.fullmatch(r"niaga serve(\s+--(host|port|store)\s+\S+)*", command):
        return None
    if re.match(r"niaga run\b", command):
        return command + " --no-serve"
    command = re.sub(r"--minutes \S+", f"--minutes {TEST_MINUTES}", command)
    return re.sub(r"max_minutes=\S+", f"max_minutes={TEST_MINUTES}", command)


def stand_in(source: Path, target: Path, rows: int) -> None:
    if source.suffix == ".parquet":
        pd.read_parquet(source).head(rows).to_parquet(target)
    elif source.suffix == ".csv":
        pd.read_csv(source).head(rows).to_csv(target, index=False)
    else:
        lines = source.read_text(encoding="utf-8").splitlines()[:rows]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def image_stand_in(source: Path, target: Path, every: int) -> None:
    """An image dataset folder with the first three and every ``every``-th image of its main table (splits.csv or labels.csv): each
    table with an ``image`` or ``id`` column keeps those images' rows, each image folder holds only links to
    them, anything else is linked as it is."""
    main = source / ("splits.csv" if (source / "splits.csv").exists() and (source / "styles.csv").exists()
                     else "labels.csv")
    table = pd.read_csv(main)
    kept = table[(table.index % every == 0) | (table.index < 3)]  # the first ones too: the examples name them
    images, ids = set(kept["image"]), set(kept["id"]) if "id" in kept.columns else set()
    target.mkdir()
    for child in source.iterdir():
        if child.suffix == ".csv":
            table = pd.read_csv(child)
            if "image" in table.columns:
                table = table[table["image"].isin(images)]
            elif "id" in table.columns and ids:
                table = table[table["id"].isin(ids)]
            table.to_csv(target / child.name, index=False)
        elif child.name == "images":
            for image in images:
                (target / image).parent.mkdir(parents=True, exist_ok=True)
                (target / image).symlink_to(source / image)
        else:
            (target / child.name).symlink_to(child, target_is_directory=child.is_dir())


def mirror(source: Path, target: Path, relative: str = "") -> None:
    """``target`` like ``source``: links to its files, small copies where a stand-in is named."""
    inside = [name for name in [*STAND_INS, *IMAGE_STAND_INS] if name.startswith(relative)]
    if not inside:
        target.symlink_to(source, target_is_directory=source.is_dir())
        return
    if relative in STAND_INS:
        stand_in(source, target, STAND_INS[relative])
        return
    if relative in IMAGE_STAND_INS:
        image_stand_in(source, target, IMAGE_STAND_INS[relative])
        return
    target.mkdir()
    for child in source.iterdir():
        mirror(child, target / child.name, f"{relative}{child.name}" + ("/" if child.is_dir() else ""))


# A process that has imported niaga's heavy libraries once and forks a child per `niaga ...` command: the child
# runs ``niaga.cli.main(argv)`` as the console script would, without paying seconds of imports each time (about
# a hundred commands). Commands with shell syntax (pipes, redirections, variables) run in bash.
FORK_SERVER = r"""
import json, os, signal, sys, traceback
import niaga.cli  # first: it sets the BLAS thread default before numpy loads
import numpy, pandas, scipy.sparse, sklearn.base, sklearn.linear_model, sklearn.model_selection, torch, lightgbm
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot
from niaga.modeling import _skops_io
_skops_io()
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(job["cwd"])
            os.environ.clear()
            os.environ.update(job["env"])
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            for fd, path in ((1, job["stdout"]), (2, job["stderr"])):
                os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            sys.argv = ["niaga", *job["argv"]]
            code = niaga.cli.main(job["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))  # too slow: killed, exit -9
    signal.alarm(job["timeout"])
    _, status = os.waitpid(pid, 0)
    signal.alarm(0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)
"""
SHELL_SYNTAX = re.compile(r"[|&;<>$`()*?{}~]")
ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


class NiagaRunner:
    """Runs one documented command: `niaga ...` in a child of the fork server, anything else in bash."""

    def __init__(self, env: dict, scratch: Path):
        self.env, self.scratch = env, scratch
        self.server = subprocess.Popen([sys.executable, "-c", FORK_SERVER], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, env=env)
        assert self.server.stdout.readline().strip() == "ready", "the fork server did not start"

    def run(self, command: str, cwd: Path, exports: list[str]) -> subprocess.CompletedProcess:
        tokens = None if SHELL_SYNTAX.search(command) or exports else shlex.split(command)
        env = dict(self.env)
        while tokens and ASSIGNMENT.match(tokens[0]):
            name, _, value = tokens.pop(0).partition("=")
            env[name] = value
        if not tokens or tokens[0] != "niaga":
            return subprocess.run(["bash", "-o", "pipefail", "-c", "; ".join([*exports, command])], cwd=cwd,
                                  env=self.env, capture_output=True, text=True, timeout=PER_COMMAND_SECONDS)
        out, err = self.scratch / "stdout.txt", self.scratch / "stderr.txt"
        job = {"argv": tokens[1:], "cwd": str(cwd), "env": env, "stdout": str(out), "stderr": str(err),
               "timeout": PER_COMMAND_SECONDS}
        self.server.stdin.write(json.dumps(job) + "\n")
        self.server.stdin.flush()
        code = json.loads(self.server.stdout.readline())["code"]
        return subprocess.CompletedProcess(command, code, out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))

    def close(self) -> None:
        self.server.stdin.close()
        self.server.wait(timeout=30)


@pytest.fixture(scope="session")
def checkout(tmp_path_factory, shared_data):
    """A scratch directory laid out like a checkout: repo/ (the working directory) and shared/data beside it."""
    root = tmp_path_factory.mktemp("doc-examples")
    (root / "shared").mkdir()
    mirror(shared_data, root / "shared" / "data")
    (root / "repo").mkdir()
    (root / "repo" / "models").symlink_to(ROOT / "models", target_is_directory=True)  # the shipped models
    return root / "repo"


@pytest.fixture(scope="session")
def runner(checkout, tmp_path_factory):
    env = {**os.environ, "NIAGA_DATA": str(checkout.parent / "shared" / "data"), "NIAGA_CACHE": str(checkout / ".cache"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = NiagaRunner(env, tmp_path_factory.mktemp("doc-output"))
    yield started
    started.close()


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_example_runs_as_written(document, checkout, runner):
    commands, snippets = examples(document)
    for snippet in snippets:
        compile(snippet, f"{document.name} (python example)", "exec")
    exports = []  # a reader's shell keeps what an example exported: so do the document's later commands
    for command in filter(None, map(runnable, commands)):
        if command.startswith("export "):
            exports.append(command)
        done = runner.run(command, checkout, exports)
        assert done.returncode == 0, (f"{document.name}: `{command}` exited {done.returncode}\n"
                                      f"{done.stderr[-1500:]}")
        assert "Traceback" not in done.stderr, f"{document.name}: `{command}`\n{done.stderr[-1500:]}"
