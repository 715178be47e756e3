"""``niaga serve``: run the API and the dashboard; manage API keys and the models that serve."""

from __future__ import annotations

import argparse

HELP_EXAMPLES = {
    "": "niaga serve --port 8000 --workers 2",
    "keys add": "niaga serve keys add my-shop-backend",
    "keys list": "niaga serve keys list",
    "keys revoke": "niaga serve keys revoke 1a2b3c4d",
    "models add": "niaga serve models add reviews emotion runs/emotion",
    "models list": "niaga serve models list",
}


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description="Run the API (/api/v1, docs at /docs) and the dashboard "
                                                         "(/) on one port; manage API keys and served models.")
    parser.add_argument("--host", help="address to listen on (default: the host setting, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: the port setting, 8000)")
    parser.add_argument("--store", help="warehouse file (default: the store setting, runs/niaga.duckdb)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="server processes sharing the port (default 1): the first holds the store and the "
                             "fraud scorer's state, the others serve the stateless endpoints and pass the rest to it")
    parser.set_defaults(handler=serve_command, subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>",
                                     help="keys or models to manage them; none to run the server")

    keys = commands.add_parser("keys", help="API keys: add, list, revoke (stored hashed; a key is shown once)")
    keys.set_defaults(subparser=keys)
    key_commands = keys.add_subparsers(dest="keys_command", metavar="<command>")
    add = key_commands.add_parser("add", help="make a key for a client and print it (only its hash is stored)")
    add.add_argument("name", help="who or what the key is for")
    add.set_defaults(handler=keys_add)
    listing = key_commands.add_parser("list", help="list the keys (ids, names, dates; never the keys)")
    listing.set_defaults(handler=keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id", help="the id 'keys list' shows (the part after niaga_ in the key)")
    revoke.set_defaults(handler=keys_revoke)

    models = commands.add_parser("models", help="the registry: which model directory serves which capability")
    models.set_defaults(subparser=models)
    model_commands = models.add_subparsers(dest="models_command", metavar="<command>")
    model_add = model_commands.add_parser("add", help="serve a model directory (or a segments folder) as CAPABILITY NAME")
    model_add.add_argument("capability", help="reviews, social, fraud, customers, recommend, vision, forecast, abuse")
    model_add.add_argument("name", help="the model's name within the capability, e.g. emotion, sentiment, posts")
    model_add.add_argument("path", help="the model directory (a customers segment output folder for customers segments)")
    model_add.set_defaults(handler=models_add)
    model_list = model_commands.add_parser("list", help="list the served models with their metrics")
    model_list.set_defaults(handler=models_list)
    for command in (add, listing, revoke, model_add, model_list):
        command.add_argument("--store", help="warehouse file (default: the store setting, runs/niaga.duckdb)")


def _store(args):
    from niaga.config import settings
    from niaga.store import Store

    return Store(args.store or settings().store)


def _owner(args):
    """The running server that holds the store (the command goes through it), or None (open the store)."""
    from niaga.config import settings
    from niaga.store.owner import owner

    return owner(args.store or settings().store, settings().warehouse)


def serve_command(args: argparse.Namespace) -> int:
    import dataclasses
    from pathlib import Path

    from niaga.config import settings
    from niaga.errors import NiagaError

    if args.workers < 1:
        raise NiagaError(f"--workers {args.workers}: give 1 or more processes")
    overrides = {k: v for k, v in {"host": args.host, "port": args.port,
                                   "store": Path(args.store) if args.store else None}.items() if v is not None}
    serve(dataclasses.replace(settings(), **overrides), workers=args.workers)
    return 0


def serve(config, workers: int = 1) -> None:
    """Run the API and the dashboard until interrupted (see ``niaga.serve.workers``)."""
    from niaga.serve.workers import run

    print(f"niaga is serving: open http://{config.host}:{config.port}/ (dashboard) or "
          f"http://{config.host}:{config.port}/docs (API); metrics at /metrics; Ctrl-C stops it", flush=True)
    if config.require_api_key:
        print("the API needs an X-API-Key header: make one with 'niaga serve keys add NAME' "
              "(the dashboard needs none)", flush=True)
    run(config, workers)


def keys_add(args: argparse.Namespace) -> int:
    server = _owner(args)
    if server is not None:
        key = server.call("POST", "/admin/keys", {"name": args.name})["key"]
    else:
        with _store(args) as store:
            key = store.add_key(args.name)
    print(key)
    print(f"(shown once: give it to {args.name!r}; it is stored only as a hash)")
    return 0


def keys_list(args: argparse.Namespace) -> int:
    import pandas as pd

    server = _owner(args)
    if server is not None:
        keys = pd.DataFrame(server.call("GET", "/admin/keys"), columns=["key_id", "name", "created_at", "revoked_at"])
        keys["created_at"] = pd.to_datetime(keys["created_at"])
        keys["revoked_at"] = pd.to_datetime(keys["revoked_at"])
    else:
        with _store(args) as store:
            keys = store.keys()
    for row in keys.itertuples():
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at == row.revoked_at and row.revoked_at else "active"
        print(f"{row.key_id}  {row.name:<24} created {row.created_at:%Y-%m-%d %H:%M}  {state}")
    if keys.empty:
        print("no API keys yet: niaga serve keys add NAME")
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    server = _owner(args)
    if server is not None:
        server.call("POST", f"/admin/keys/{args.key_id}/revoke")
    else:
        with _store(args) as store:
            store.revoke_key(args.key_id)
    print(f"revoked {args.key_id}")
    return 0


def models_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    server = _owner(args)
    if server is not None:  # the server reads the directory: give it the absolute path
        entry = server.call("POST", "/admin/models", {"capability": args.capability, "name": args.name,
                                                     "path": str(Path(args.path).absolute())})
    else:
        with _store(args) as store:
            entry = store.register_model(args.capability, args.name, args.path)
    print(f"{entry['capability']}/{entry['name']} now served from {entry['path']}")
    return 0


def models_list(args: argparse.Namespace) -> int:
    import pandas as pd

    server = _owner(args)
    if server is not None:
        models = pd.DataFrame(server.call("GET", "/admin/models"), columns=["capability", "name", "path", "metrics"])
    else:
        with _store(args) as store:
            models = store.models()
    for row in models.itertuples():
        print(f"{row.capability}/{row.name:<12} {row.path}  {row.metrics}")
    if models.empty:
        print("no model registered: niaga run trains the defaults, or niaga serve models add CAPABILITY NAME DIR")
    return 0
