"""The store's one writer while a server runs: how a command finds the server that holds a store and asks it.

DuckDB lets one process write a file. While ``niaga serve`` holds the store it listens, besides its TCP port,
on a local unix socket next to the store file (``runs/niaga.duckdb.sock``, readable and writable by the
server's own user only: the file system's permissions are the authentication, no admin key to keep). The
commands that write the store (``niaga ingest``, ``niaga serve keys ...``, ``niaga serve models ...``) ask
``owner(store)`` first: a server answers on the socket → the command goes through it, and the server does
the write on its own connection; no server → the command opens the store itself, as before.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import tempfile
from pathlib import Path

from niaga.errors import NiagaError
from niaga.store.database import postgres_url

SOCKET_SUFFIX = ".sock"
_MAX_SOCKET_PATH = 100  # a unix socket's path holds at most 107 bytes on Linux


class OwnerError(NiagaError):
    """The server that holds the store refused the command (its message says why)."""


def held_file(store: str | Path, warehouse: str | Path | None = None) -> Path:
    """The DuckDB file a server holds: the store, or its ``warehouse`` (default: the setting) when the store is a
    PostgreSQL URL (the operational tables there take any process's writes; the analytics file does not)."""
    if not postgres_url(store):
        return Path(store)
    if warehouse is None:
        from niaga.config import settings

        warehouse = settings().warehouse
    return Path(warehouse)


def socket_path(store: str | Path, warehouse: str | Path | None = None) -> Path:
    """Where the server that holds ``store`` listens: next to the DuckDB file it holds, or (a path too long for a
    unix socket) in the temporary folder under a name made from that file's absolute path."""
    store = held_file(store, warehouse).absolute()
    beside = store.with_name(store.name + SOCKET_SUFFIX)
    if len(str(beside).encode()) <= _MAX_SOCKET_PATH:
        return beside
    digest = hashlib.sha256(str(store).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"niaga-{digest}{SOCKET_SUFFIX}"


def answers(path: Path) -> bool:
    """Whether a server listens on the unix socket ``path`` (a file left by a server that died does not)."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        try:
            probe.connect(str(path))
        except PermissionError:
            raise NiagaError(f"a server holds the store, and its socket {path} is private to the user it runs as: "
                             "run this command as that user") from None
        except OSError:
            return False
    return True


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float | None):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class Owner:
    """The server that holds a store, spoken to over its socket (JSON in, JSON out)."""

    def __init__(self, path: Path):
        self.path = path

    def call(self, method: str, url: str, body: dict | None = None, timeout: float | None = 60.0):
        connection = _UnixConnection(self.path, timeout)
        try:
            payload = None if body is None else json.dumps(body).encode()
            connection.request(method, url, body=payload, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            data = response.read()
        except OSError as exc:
            raise OwnerError(f"the server holding the store stopped answering on {self.path} ({exc})") from exc
        finally:
            connection.close()
        answer = json.loads(data) if data else None
        if response.status >= 400:
            detail = answer.get("detail") if isinstance(answer, dict) else data.decode(errors="replace")
            raise OwnerError(detail if response.status < 500 else f"the server holding the store failed: {detail}")
        return answer


def owner(store: str | Path, warehouse: str | Path | None = None) -> Owner | None:
    """The server holding ``store`` when one runs on this machine; None otherwise (open the store directly)."""
    path = socket_path(store, warehouse)
    return Owner(path) if answers(path) else None


def bind_socket(store: str | Path, warehouse: str | Path | None = None) -> socket.socket:
    """The listening unix socket of the server that holds ``store``, private to this user (mode 0600).
    A socket file no server answers on (one that crashed) is replaced; a live one is an error."""
    path = socket_path(store, warehouse)
    if answers(path):
        raise NiagaError(f"a server already holds {store} (it answers on {path}): stop it first, or run the "
                         "commands, which go through it")
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # created 0600: no window in which another user could connect
    try:
        listener.bind(str(path))
    finally:
        os.umask(previous)
    listener.listen(64)
    return listener
