"""Project-wide settings: where the shared data lives.

One setting, ``NIAGA_DATA``, names the data directory. When it is unset, ``../shared/data`` is used,
looked up from the current directory and from the source checkout, whichever exists first.
"""

from __future__ import annotations

import os
from pathlib import Path

from niaga.errors import DataError

DATA_ENV = "NIAGA_DATA"


def _default_candidates() -> list[Path]:
    repo_root = Path(__file__).resolve().parents[2]
    return [Path.cwd() / ".." / "shared" / "data", repo_root / ".." / "shared" / "data"]


def data_dir(required: bool = False) -> Path | None:
    """The data directory, or None when there is none (``required=True`` raises instead)."""
    env = os.environ.get(DATA_ENV)
    if env:
        path = Path(env).expanduser()
        if path.is_dir():
            return path.resolve()
        if required:
            raise DataError(f"{DATA_ENV}={env} is not a directory")
        return None
    for candidate in _default_candidates():
        if candidate.is_dir():
            return candidate.resolve()
    if required:
        raise DataError(f"no data directory: set {DATA_ENV} or put the shared data at ../shared/data")
    return None


def data_path(*parts: str) -> Path:
    """A path inside the data directory; raises DataError naming the file when it does not exist."""
    root = data_dir(required=True)
    path = root.joinpath(*parts)
    if not path.exists():
        raise DataError(f"{path}: not found in the data directory ({DATA_ENV}={root})")
    return path
