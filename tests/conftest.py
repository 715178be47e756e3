import contextlib

import pytest

from niaga.config import data_dir


@pytest.fixture(scope="session")
def shared_data():
    """The shared data directory; tests that need it skip with a clear message when it is absent."""
    root = data_dir()
    if root is None:
        pytest.skip("shared data directory not found: set NIAGA_DATA or put the data at ../shared/data")
    return root


@pytest.fixture()
def keeps_clashing_inputs(capsys):
    """A checker for commands that write a table: given an input table whose columns include every output
    column's name, the output (read back as text) keeps each input column's values, under ``<name>_input``
    where the name clashes, has every output column, the same rows, and stderr says what was renamed."""
    import pandas as pd

    def check(inp: pd.DataFrame, output_path, outputs: list[str]) -> pd.DataFrame:
        out = pd.read_csv(output_path, dtype=str, keep_default_na=False)
        assert len(out) == len(inp)
        for column in inp.columns:
            kept = f"{column}_input" if column in outputs else column
            assert out[kept].tolist() == inp[column].astype(str).tolist(), column
        assert set(outputs) <= set(out.columns)
        err = capsys.readouterr().err
        for column in outputs:
            assert f"'{column}' → '{column}_input'" in err
        return out
    return check


def pytest_collection_modifyitems(items):
    """The doc examples run longest (minutes): first, so that under `make test`'s two workers the other worker
    runs everything else meanwhile (the order is the same on every worker, as xdist needs)."""
    items.sort(key=lambda item: "test_doc_examples.py" not in item.nodeid)


class NoPostgres(Exception):
    """PostgreSQL's binaries (or psycopg) are missing: the tests that need it skip with this reason."""


@contextlib.contextmanager
def postgres_cluster(durable: bool = False):
    """A throwaway PostgreSQL cluster (Debian's postgresql, as 'make install' installs it) on a unix socket in a
    temporary directory, stopped and removed on exit; its base URL. ``durable``: commits wait for the disk, as in
    production (benchmarks/store.py); the tests' cluster does not."""
    import glob
    import os
    import pwd
    import shutil
    import subprocess
    import tempfile

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = shutil.which("initdb") or (found[-1] if found else None)
    if initdb is None:
        raise NoPostgres("PostgreSQL is not installed: apt-get install postgresql (as 'make install' does) to run "
                         "the tests of the operational tables on PostgreSQL")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise NoPostgres("psycopg is not installed: pip install 'psycopg[binary]'") from None
    pg_ctl = os.path.join(os.path.dirname(initdb), "pg_ctl")
    # not under pytest's tmp dir: as root the server runs as the postgres user (it refuses root), which must reach it
    workdir = tempfile.mkdtemp(prefix="niaga-pg-")
    run_as = {}
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise NoPostgres("running as root and there is no 'postgres' user to run PostgreSQL as") from None
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
        run_as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
    data, log = os.path.join(workdir, "data"), os.path.join(workdir, "server.log")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True, **run_as}
    try:
        subprocess.run([initdb, "-D", data, "-A", "trust", "-U", "niaga", "-E", "UTF8", "--locale=C", "--no-sync"],
                       **quiet)
        # a socket in the work dir only (no TCP port to clash with)
        fast = "" if durable else " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run([pg_ctl, "-D", data, "-l", log, "-w", "-t", "30", "start", "-o",
                        f"-k {workdir} -c listen_addresses=''{fast}"], **quiet)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip()
        if os.path.exists(log):
            detail += "\n" + open(log, encoding="utf-8", errors="replace").read()[-2000:]
        shutil.rmtree(workdir, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {detail}") from exc
    try:
        yield f"postgresql://niaga@/postgres?host={workdir}"
    finally:
        subprocess.run([pg_ctl, "-D", data, "-m", "immediate", "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, **run_as)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """The session's throwaway PostgreSQL cluster (started once, about 2 s); skipped when it cannot run here."""
    try:
        with postgres_cluster() as url:
            yield url
    except NoPostgres as reason:
        pytest.skip(str(reason))


@pytest.fixture()
def postgres_url(postgres_server, request):
    """A PostgreSQL URL whose tables are this test's alone (a fresh schema on the session's cluster)."""
    import re
    import uuid

    import psycopg

    schema = "t_" + re.sub(r"\W", "_", request.node.name)[:40].lower() + "_" + uuid.uuid4().hex[:6]
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return f"{postgres_server}&options=-csearch_path%3D{schema}"
