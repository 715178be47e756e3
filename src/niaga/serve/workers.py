"""How ``niaga serve`` runs: one process, or ``--workers N`` processes sharing the port.

One process: the app on the TCP port and on the store's local socket (``niaga.store.owner``: the commands that
write the store go through it while it serves).

N processes: DuckDB lets one process write the store, and the fraud scorer's per-customer (and per-terminal)
feature state must live in one place for the decisions not to depend on which process a request reached. So
process 0 is the *owner*: it holds the store, the scorer's state, the decision log and the dashboard; it listens on
the port like the others and on the local socket. Processes 1 … N-1 answer the stateless endpoints themselves
(text, reviews, social, customers, recommendations, vision: their own copy of each model, so these scale with
the processes), ask the owner for API keys and the registry (cached a few seconds, as in one process), and pass
every other request (fraud, ingest, the dashboard) to the owner over the socket: N processes give exactly the
decisions of one. The kernel spreads the connections over the processes. Fraud scoring across machines is
split by customer, as the stream consumers' partitions are (docs/streaming.md).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import socket
import time
from pathlib import Path

# served by every process; the rest goes to the owner (process 0), and /admin only on the owner's own socket
STATELESS = tuple(f"/api/v1/{name}" for name in ("text", "reviews", "social", "customers", "recommend", "vision")) + (
    "/healthz", "/metrics", "/docs", "/redoc", "/openapi.json", "/static/")
FORWARDED = b"x-niaga-forwarded"  # set by a worker on what it passes on; the owner's /admin refuses it
HOP_BY_HOP = {b"host", b"connection", b"keep-alive", b"transfer-encoding", b"content-length", FORWARDED}


def bind_tcp(host: str, port: int, share: bool = False) -> socket.socket:
    """A listening socket; ``share``: one of several on the same port (SO_REUSEPORT), among which the kernel
    spreads new connections evenly (one socket accepted from by every process favours whichever wakes first)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def serve_process(config, sockets: list[socket.socket] | None, index: int, owner: Path | None) -> None:
    """Run one server process on ``sockets`` until it is told to stop (SIGINT / SIGTERM). A worker (``owner``
    given) binds its own socket on the shared port once it is ready: the kernel would queue connections on a
    socket bound earlier while the process still starts."""
    import uvicorn

    from niaga.serve.app import create_app

    app = create_app(config, worker=index, owner=owner)
    if owner is not None:
        app = PassToOwner(app, owner)
        sockets = [bind_tcp(config.host, config.port, share=True)]
    # no access log: a log record per request costs more than a fraud score
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    # uvicorn stops gracefully on SIGTERM and then raises it again: exit through Python, so that the
    # socket file is removed (``run``'s finally) rather than the process killed
    signal.signal(signal.SIGTERM, _exit)
    server.run(sockets=sockets)


def _exit(*_) -> None:
    raise SystemExit(0)


def run(config, workers: int = 1) -> None:
    from niaga.store.owner import bind_socket, socket_path

    tcp = bind_tcp(config.host, config.port, share=workers > 1)  # the owner's: a port in use fails here
    local = bind_socket(config.store, config.warehouse)
    try:
        if workers == 1:
            serve_process(config, [tcp, local], 0, None)
            return
        context = multiprocessing.get_context("spawn")
        processes = [context.Process(target=serve_process, args=(config, [tcp, local], 0, None), name="niaga-owner")]
        processes[0].start()
        wait_for_owner(socket_path(config.store, config.warehouse), processes[0])
        processes += [context.Process(target=serve_process, args=(config, None, i, socket_path(config.store, config.warehouse)),
                                      name=f"niaga-worker-{i}") for i in range(1, workers)]
        for process in processes[1:]:
            process.start()
        supervise(processes)
    finally:
        local.close()
        socket_path(config.store, config.warehouse).unlink(missing_ok=True)
        tcp.close()


def wait_for_owner(path: Path, process, seconds: float = 300) -> None:
    """The owner opens the store (and migrates it) before the others ask it anything."""
    from niaga.errors import NiagaError
    from niaga.store.owner import Owner, OwnerError

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not process.is_alive():
            raise NiagaError("the first server process stopped while starting (see its message above)")
        try:
            Owner(path).call("GET", "/healthz", timeout=5)
            return
        except OwnerError:
            time.sleep(0.1)
    raise NiagaError(f"the first server process did not answer on {path} within {seconds:g} s")


def supervise(processes) -> None:
    """Wait until interrupted (Ctrl-C, SIGTERM) or until a process stops; then stop them all, the owner last
    (the others pass requests to it until they are down)."""
    stop = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    try:
        while not stop and all(p.is_alive() for p in processes):
            time.sleep(0.2)
    except KeyboardInterrupt:  # the children got the Ctrl-C too and are stopping
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for group in (processes[1:], processes[:1]):
            for process in group:
                if process.is_alive():
                    process.terminate()  # uvicorn stops gracefully on SIGTERM: requests in flight finish
            for process in group:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()


class PassToOwner:
    """A worker's front (pure ASGI): the stateless endpoints to its own app, the rest to the owner's socket.

    HTTP/1.1 over a few kept-alive unix-socket connections, written and read directly with asyncio streams: an
    HTTP client library (httpx) cost more per passed request than scoring the transaction does."""

    def __init__(self, app, owner: Path):
        self.app = app
        self.owner = owner
        self.idle: list = []  # (reader, writer) of kept-alive connections to the owner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(STATELESS):
            return await self.app(scope, receive, send)
        if scope["path"].startswith("/admin"):
            return await answer(send, 404, b'{"detail":"Not Found"}')
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        head = [b"%s %s HTTP/1.1\r\nhost: owner\r\ncontent-length: %d\r\n%s: 1\r\n"
                % (scope["method"].encode(), target, len(body), FORWARDED)]
        head += [k + b": " + v + b"\r\n" for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP]
        request = b"".join(head) + b"\r\n" + body
        for attempt in range(2):  # a kept-alive connection the owner closed meanwhile: once more on a new one
            fresh, writer = attempt == 1 or not self.idle, None
            try:
                reader, writer = (await asyncio.open_unix_connection(str(self.owner))) if fresh else self.idle.pop()
                writer.write(request)
                status, headers, content, keep = await read_response(reader)
                break
            except (OSError, asyncio.IncompleteReadError, ValueError):
                if writer is not None:
                    writer.close()
                if fresh:
                    return await answer(send, 502, b'{"detail":"the first server process (which holds the store) '
                                                   b'did not answer: see the server log"}')
        if keep and len(self.idle) < 64:
            self.idle.append((reader, writer))
        else:
            writer.close()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


async def read_response(reader) -> tuple[int, list, bytes, bool]:
    """(status, headers without the hop-by-hop ones, body, whether the connection stays open) of one HTTP/1.1
    response: a Content-Length body or a chunked one."""
    lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers, length, chunked, keep = [], None, False, True
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            keep = value.lower() != b"close"
        if name not in HOP_BY_HOP:
            headers.append((name, value))
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        content = b"".join(part[:-2] for part in parts)
    elif length is not None:
        content = await reader.readexactly(length)
    else:  # until the owner closes
        content, keep = await reader.read(), False
    return status, headers, content, keep


async def answer(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
