"""``niaga abuse``: simulate a marketplace, train, score (account takeover, promo abuse, refund abuse, brushing,
fake sellers)."""

from __future__ import annotations

import time

from niaga.cli_options import add_data, add_input, add_kind, add_model, add_out, add_output, say
from niaga.params import parse_params

HELP_EXAMPLES = {
    "simulate": "niaga abuse simulate --out runs/market --accounts 3000 --days 60 --seed 1",
    "train": "niaga abuse train --data runs/market --out runs/abuse-model",
    "score": "niaga abuse score --model runs/abuse-model --data runs/market --output runs/abuse-scored.csv",
}
PARAMS = ("n_estimators", "learning_rate", "num_leaves", "min_child_samples", "seed")


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    simulate = commands.add_parser("simulate", help="write a synthetic marketplace (eight tables + labels) with all "
                                                    "five typologies and their honest look-alikes")
    add_out(simulate, "folder to write accounts, sellers, logins, ... labels into")
    simulate.add_argument("--accounts", type=int, default=3000, help="buyer accounts (default 3000; at least 200)")
    simulate.add_argument("--days", type=int, default=60, help="days of events (default 60)")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--start", default="2026-10-15", help="first day (default 2026-10-15: 11.11 and 12.12 fall "
                                                                "in a 60-day period)")
    simulate.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="file format (default parquet)")
    simulate.set_defaults(handler=simulate_command)

    train = commands.add_parser("train", help="train the per-typology models on a labelled export")
    add_data(train, "folder with the tables and labels (docs/abuse.md)")
    add_out(train)
    add_kind(train, ("stacked", "lightgbm"), "stacked",
             "stacked (LightGBM on aggregates + ring features + rule hits, ring scores lifted to members) or "
             "lightgbm (aggregates only)")
    train.add_argument("--rules", help="rules YAML (default: the packaged rules)")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help=f"a model parameter ({', '.join(PARAMS)})")
    train.set_defaults(handler=train_command)

    score = commands.add_parser("score", help="score every account and seller of an export: score, typology, "
                                              "ring, decision, reasons")
    add_model(score, "model directory from 'niaga abuse train' (without it: rules and the entity graph only)",
              required=False)
    add_input(score, "folder with the tables to score")
    add_output(score, "table to write (.csv, .parquet, .jsonl, .xlsx)")
    score.add_argument("--history", help="folder with earlier tables: more context (known devices, addresses, "
                                          "first orders, the graph) on top of the model's state")
    score.add_argument("--rules", help="rules YAML (default: the model's, else the packaged rules)")
    score.set_defaults(handler=score_command)


def simulate_command(args) -> int:
    from niaga.abuse.simulate import simulate, write

    started = time.perf_counter()
    try:
        tables = simulate(args.accounts, args.days, args.seed, args.start)
    except ValueError as exc:
        from niaga.errors import NiagaError

        raise NiagaError(str(exc)) from exc
    write(tables, args.out, args.format)
    counts = tables["labels"].groupby(["entity_type", "typology"]).size()
    say(f"wrote {', '.join(f'{k} {len(v):,}' for k, v in tables.items())} rows to {args.out} in "
        f"{time.perf_counter() - started:.1f} s; labelled: " + ", ".join(f"{n} {e} {t}" for (e, t), n in counts.items()))
    return 0


def train_command(args) -> int:
    from pathlib import Path

    from niaga.abuse import pipeline
    from niaga.abuse.rules import load_rules
    from niaga.modeling import fingerprint, save_model

    params = parse_params(args.param, PARAMS)
    rules = load_rules(args.rules)
    data = pipeline.load_data(args.data)
    for line in data.summary():
        say(line)
    model, metrics = pipeline.train(data, args.kind, rules, params, log=say)
    orders = data.table("orders")
    save_model(model, args.out, labels=list(model.positives_), metrics=metrics,
               data_sha256=fingerprint(orders["order_id"]), data_rows=len(orders))
    (Path(args.out) / "rules.yaml").write_text(rules.text, encoding="utf-8")
    say(f"model ({args.kind}; boosters for {', '.join(model.boosters_) or 'no typology'}) written to {args.out}")
    return 0


def score_command(args) -> int:
    from pathlib import Path

    from niaga.abuse import pipeline
    from niaga.abuse.rules import load_rules
    from niaga.data.io import check_output_path, write_table
    from niaga.modeling import load_model

    check_output_path(args.output)
    started = time.perf_counter()
    model = load_model(args.model, task="abuse") if args.model else None
    rules_path = args.rules or (Path(args.model) / "rules.yaml" if args.model and (Path(args.model) / "rules.yaml").exists()
                                else None)
    rules = load_rules(rules_path)
    data = pipeline.load_data(args.input)
    history = pipeline.load_data(args.history) if args.history else None
    result, summary = pipeline.score(data, model, history, rules)
    write_table(result, args.output)
    malformed = data.malformed()
    if len(malformed):
        path = Path(args.output).with_name(Path(args.output).name.split(".")[0] + ".malformed.csv")
        malformed.to_csv(path, index=False)
        summary.append(f"{len(malformed):,} malformed rows listed in {path} (table, row, problem)")
    if model is None:
        say("no --model: scored with the rules and the entity graph only")
    for line in summary:
        say(line)
    say(f"{len(result):,} rows written to {args.output} in {time.perf_counter() - started:.1f} s")
    return 0
