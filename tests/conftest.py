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
