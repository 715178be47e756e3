import pytest

from niaga.config import data_dir


@pytest.fixture(scope="session")
def shared_data():
    """The shared data directory; tests that need it skip with a clear message when it is absent."""
    root = data_dir()
    if root is None:
        pytest.skip("shared data directory not found: set NIAGA_DATA or put the data at ../shared/data")
    return root
