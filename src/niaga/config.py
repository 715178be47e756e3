"""Project-wide settings: where the shared data lives, and how the running system is set up.

``NIAGA_DATA`` names the data directory. When it is unset, ``../shared/data`` is used, looked up from the
current directory and from the source checkout, whichever exists first.

The running system (store, models, server) reads ``settings()``: defaults, overridden by a TOML file
(``NIAGA_CONFIG``, else ``niaga.toml`` in the current directory, section ``[niaga]``), overridden by
environment variables (``NIAGA_STORE``, ``NIAGA_WAREHOUSE``, ``NIAGA_MODELS``, ``NIAGA_HOST``, ``NIAGA_PORT``,
``NIAGA_REQUIRE_API_KEY``, ``NIAGA_PII_POLICY``).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
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


@dataclasses.dataclass(frozen=True)
class Settings:
    # the embedded warehouse (DuckDB file), or a PostgreSQL URL (postgresql://USER@HOST/DB) for the operational
    # tables (keys, registry, decisions, quarantine, events) that several processes and machines share
    store: Path | str = Path("runs/niaga.duckdb")
    warehouse: Path = Path("runs/niaga.duckdb")  # the analytics tables' DuckDB file when the store is PostgreSQL
    models: Path = Path("runs/models")  # where the main job trains its default models
    host: str = "127.0.0.1"
    port: int = 8000
    require_api_key: bool = True  # the /api endpoints need an X-API-Key header (niaga serve keys add)
    pii_policy: str = "mask"  # personal data on ingest: mask, partial, pseudonymize, drop, or off
    # the stream the API's /metrics reports the consumer group's lag of (off while stream_url is empty)
    stream_backend: str = "redis"
    stream_url: str = ""
    stream_in: str = "transactions"
    stream_group: str = "niaga"


CONFIG_ENV = "NIAGA_CONFIG"
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SETTING_ENV = {"store": "NIAGA_STORE", "warehouse": "NIAGA_WAREHOUSE", "models": "NIAGA_MODELS", "host": "NIAGA_HOST", "port": "NIAGA_PORT",
                "require_api_key": "NIAGA_REQUIRE_API_KEY", "pii_policy": "NIAGA_PII_POLICY",
                "stream_backend": "NIAGA_STREAM_BACKEND", "stream_url": "NIAGA_STREAM_URL",
                "stream_in": "NIAGA_STREAM_IN", "stream_group": "NIAGA_STREAM_GROUP"}


def settings() -> Settings:
    """Defaults < the TOML file's [niaga] section < environment variables; a bad value is a one-line error."""
    values: dict = {}
    path = Path(os.environ.get(CONFIG_ENV, "niaga.toml"))
    if path.is_file():
        try:
            values.update(tomllib.loads(path.read_text(encoding="utf-8")).get("niaga", {}))
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{path}: not valid TOML ({exc})") from exc
    elif CONFIG_ENV in os.environ:
        raise DataError(f"{CONFIG_ENV}={path}: no such file")
    values.update({name: os.environ[env] for name, env in _SETTING_ENV.items() if env in os.environ})
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise DataError(f"{path}: unknown setting(s) {unknown}; known: {sorted(fields)}")
    typed = {}
    for name, value in values.items():
        kind = type(getattr(Settings, name))
        if name == "store" and isinstance(value, str) and value.startswith(POSTGRES_SCHEMES):
            typed[name] = value  # a URL, not a path (a Path would fold its "//")
            continue
        try:
            if kind is bool and isinstance(value, str):
                if value.strip().lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(value)
                value = value.strip().lower() in ("1", "true", "yes")
            typed[name] = Path(value) if issubclass(kind, Path) else kind(value)
        except (TypeError, ValueError):
            raise DataError(f"setting {name}={value!r}: expected {kind.__name__}") from None
    return Settings(**typed)
