"""``niaga stream``: publish transaction files into a stream; run the fraud-decision consumer on it."""

from __future__ import annotations

import argparse
import json

from niaga.cli_options import add_model, say
from niaga.stream.backend import BACKENDS

HELP_EXAMPLES = {
    "publish": "niaga stream publish --backend redis --url redis://127.0.0.1:6379/0 --stream transactions "
               "--partitions 2 runs/cards-later.parquet",
    "run": "niaga stream run --model runs/fraud --backend redis --url redis://127.0.0.1:6379/0 --in transactions "
           "--out decisions --group fraud --consumer c1 --own 0 --until-idle 5",
}


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    publish = commands.add_parser("publish", help="feed transaction files into a stream in timestamp order, "
                                                  "split into partitions by customer id")
    add_broker_options(publish)
    publish.add_argument("--stream", required=True, help="the stream (Redis key / Kafka topic) to append to")
    publish.add_argument("files", nargs="+", metavar="FILE", help="transaction tables (parquet, CSV, ...)")
    publish.add_argument("--partitions", type=int, default=1,
                         help="split the stream into this many partitions by customer id (default 1; fixed once "
                              "the stream exists)")
    publish.add_argument("--max-rate", type=float, metavar="TX_PER_SECOND",
                         help="publish at most this many transactions per second (a live feed)")
    publish.set_defaults(handler=publish_command)

    run = commands.add_parser("run", help="score each transaction of a stream with the fraud scorer and write "
                                          "transaction_id, fraud_score, decision, reasons to an output stream")
    add_model(run, "fraud model directory ('niaga fraud train')")
    add_broker_options(run)
    run.add_argument("--in", dest="in_stream", required=True, help="the input stream (as published)")
    run.add_argument("--out", dest="out_stream", required=True,
                     help="the output stream of decisions (dead letters go to OUT.dead)")
    run.add_argument("--group", default="niaga", help="consumer group: the consumers that share the input "
                                                      "(default niaga)")
    run.add_argument("--consumer", default="consumer-1", help="this consumer's name within the group "
                                                              "(default consumer-1; restart under the same name)")
    run.add_argument("--partitions", type=int,
                     help="how many partitions the input has (default: as published, else 1)")
    run.add_argument("--own", metavar="P[,P...]",
                     help="the partitions this consumer owns, e.g. 0,2 (default: all); one owner per partition")
    run.add_argument("--until-idle", type=float, metavar="SECONDS",
                     help="stop once no transaction arrived for this long (default: run until stopped)")
    run.add_argument("--state", default="runs/stream",
                     help="directory of the partitions' state snapshots and decision logs (default runs/stream)")
    run.add_argument("--snapshot-seconds", type=float, default=60.0, metavar="S",
                     help="seconds between state snapshots (default 60); decisions are logged every batch")
    run.add_argument("--batch", type=int, default=500, help="messages read per batch (default 500)")
    run.add_argument("--metrics-port", type=int, metavar="PORT",
                     help="serve this consumer's Prometheus metrics at http://127.0.0.1:PORT/metrics")
    run.set_defaults(handler=run_command)


def add_broker_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", required=True, choices=BACKENDS, help="the broker: redis or kafka")
    parser.add_argument("--url", required=True,
                        help="broker address: redis://HOST:6379/0 for Redis, HOST:9092[,HOST:9092] for Kafka")


def check_positive(value, option: str) -> None:
    from niaga.stream.backend import StreamError

    if value is not None and value <= 0:
        raise StreamError(f"{option} must be positive, got {value:g}")


def publish_command(args: argparse.Namespace) -> int:
    from niaga.stream.backend import open_backend
    from niaga.stream.publish import publish

    check_positive(args.partitions, "--partitions")
    check_positive(args.max_rate, "--max-rate")
    summary = publish(open_backend(args.backend, args.url), args.stream, args.files, args.partitions, args.max_rate,
                      log=say)
    print(json.dumps(summary))
    return 0


def run_command(args: argparse.Namespace) -> int:
    from niaga.stream.backend import open_backend
    from niaga.stream.consumer import run

    for value, option in ((args.partitions, "--partitions"), (args.until_idle, "--until-idle"),
                          (args.snapshot_seconds, "--snapshot-seconds"), (args.batch, "--batch")):
        check_positive(value, option)
    say(f"consumer {args.consumer} of group {args.group}: {args.in_stream} → {args.out_stream}"
        + (f", stopping after {args.until_idle:g}s idle" if args.until_idle else "; Ctrl-C stops it"))
    summary = run(args.model, open_backend(args.backend, args.url), args.in_stream, args.out_stream,
                  until_idle=args.until_idle, metrics_port=args.metrics_port, group=args.group, name=args.consumer,
                  partitions=args.partitions, own=args.own, state_dir=args.state, batch=args.batch,
                  snapshot_seconds=args.snapshot_seconds, log=say)
    print(json.dumps(summary))
    return 0
