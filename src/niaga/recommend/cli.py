"""``niaga recommend``: train, evaluate, one user's list, a batch of users, items bought together."""

from __future__ import annotations

import argparse

from niaga.cli_options import add_data, add_input, add_kind, add_model, add_out, add_output, add_report, note, say
from niaga.params import parse_params

HELP_EXAMPLES = {
    "train": "niaga recommend train --data ../shared/data/commerce/online_retail/online_retail.parquet "
             "--out runs/rec-retail",
    "evaluate": "niaga recommend evaluate --model runs/rec-retail --data "
                "../shared/data/commerce/online_retail/online_retail.parquet --protocol last-invoice "
                "--report runs/rec-retail-report",
    "user": "niaga recommend user --model runs/rec-retail --user 12347 -k 10",
    "users": "niaga recommend users --model runs/rec-retail --input runs/rec-customers.csv "
             "--output runs/rec-customers-top10.csv -k 10",
    "together": "niaga recommend together --model runs/rec-retail --item 85123A -k 10",
}
MODEL_HELP = "model directory from 'niaga recommend train'"
K_HELP = "how many items (default 10)"


def register(sub, name: str, help_: str) -> None:
    from niaga.recommend import FORMATS, MODELS, PROTOCOLS

    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    train = commands.add_parser(
        "train", help="train a recommender on sequences, invoices or baskets and save it",
        description="Read the data, hold out each user's last item (sequences) or last invoice (invoices, "
                    "baskets) so that 'evaluate' on the same file is honest, fit the model, and save it; the "
                    "saved model serves from the whole data. Models: popularity, repeat (buy again), "
                    "cooccurrence, als (implicit), content, sasrec (default for sequences: SASRec blended with "
                    "co-occurrence, content and ALS), basket (default for invoices and baskets: buy again + "
                    "co-occurrence + ALS + popular, weights tuned on the validation basket).")
    add_data(train, "sequences (.txt: user item item ...), an invoice table (Online "
                       "Retail or Online Retail II columns) or baskets (one per line, or member / date / item)")
    add_out(train)
    train.add_argument("--format", choices=FORMATS, help="data format (default: detected from the file)")
    add_kind(train, MODELS, None, "the recommender (default: sasrec for sequences, basket otherwise)")
    train.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a model parameter: SOURCE.NAME=VALUE (e.g. sasrec.max_minutes=10, "
                            "cooccurrence.window=3), weights.SOURCE=W, or a blender parameter "
                            "(exclude=auto|history|none, rebuy_items=[...]); repeatable")
    train.add_argument("--holdout", default="auto", choices=["auto", "none", *PROTOCOLS],
                       help="what training leaves out for evaluation (default: leave-one-out for sequences, "
                            "last-invoice otherwise; none: train on everything)")
    train.add_argument("--items", help="item attributes: an S3-Rec item2attributes.json or a table with an item "
                       "column and attribute columns (default: <name>_item2attributes.json beside the data)")
    train.add_argument("--segments", help="segments.csv (or its directory) from 'niaga customers segment': "
                       "popularity per segment")
    train.set_defaults(handler=train_command)

    evaluate = commands.add_parser(
        "evaluate", help="HR@K, NDCG@K, Recall@K, MRR, coverage and popularity bias on held-out items",
        description="Full ranking over every item, reported twice: all items, and history removed (past items "
                    "excluded from the ranking). Writes metrics.json, hit_rate_at_k.png and report.md.")
    add_model(evaluate, MODEL_HELP)
    add_data(evaluate, "the data the model was trained on (its test items "
                          "are the ones training held out)")
    evaluate.add_argument("--protocol", required=True, choices=PROTOCOLS,
                          help="leave-one-out (last item), last-invoice (last basket) or time (after the cut-off "
                               "train used); it should match what train held out")
    add_report(evaluate, "report directory", legacy_out=True)
    evaluate.add_argument("--format", choices=FORMATS, help="data format (default: the model's)")
    evaluate.add_argument("--negatives", type=int, default=0,
                          help="also report sampled metrics against N random unseen items (labelled as sampled)")
    evaluate.set_defaults(handler=evaluate_command)

    user = commands.add_parser("user", help="one user's top items: item, score, source, reason per line")
    add_model(user, MODEL_HELP)
    user.add_argument("--user", required=True, help="user / customer id (an unknown one gets popular items)")
    user.add_argument("-k", type=int, default=10, help=K_HELP)
    user.add_argument("--segment", help="the user's segment, for a user the model does not know")
    user.set_defaults(handler=user_command)

    users = commands.add_parser("users", help="top items for every user of a table: a row per (user, rank)")
    add_model(users, MODEL_HELP)
    add_input(users, "table with a user column (user, user_id, customer_id, "
                       "CustomerID, Customer ID) and optionally segment")
    add_output(users, "CSV or parquet: the input columns, then user, rank, item, "
                       "item_name, score, source, reason, fallback, error")
    users.add_argument("-k", type=int, default=10, help=K_HELP + " per user")
    users.add_argument("--user-col", help="the user column (default: found by name)")
    users.set_defaults(handler=users_command)

    together = commands.add_parser("together", help="items frequently bought together with an item")
    add_model(together, MODEL_HELP)
    together.add_argument("--item", required=True, help="item id (e.g. a StockCode)")
    together.add_argument("-k", type=int, default=10, help=K_HELP)
    together.set_defaults(handler=together_command)


def _check_k(k: int) -> None:
    from niaga.errors import NiagaError

    if k < 1:
        raise NiagaError(f"-k {k}: must be at least 1")


def train_command(args: argparse.Namespace) -> int:
    from niaga.recommend.pipeline import train

    _, summary = train(args.data, args.out, args.format, args.kind, parse_params(args.param), args.holdout,
                       args.items, args.segments, log=say)
    excluded = sum(summary["excluded_lines"].values())
    weights = ", ".join(f"{n} {w:g}" for n, w in summary["weights"].items())
    print(f"trained {summary['model']} on {summary['training_interactions']:,} of {summary['interactions']:,} "
          f"interactions ({summary['users']:,} users, {summary['items']:,} items, {summary['format']}; held out: "
          f"{summary['holdout']}{f'; {excluded:,} lines left out' if excluded else ''}) in "
          f"{summary['train_seconds']} s; sources: {weights}; saved to {args.out}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from niaga.recommend.pipeline import evaluate

    m = evaluate(args.model, args.data, args.protocol, args.report, args.format, args.negatives)
    r = m["history_removed"]
    print(f"{m['users']:,} test users, {args.protocol}, full ranking. All items: HR@10 {m['hr@10']:.4f}  "
          f"NDCG@10 {m['ndcg@10']:.4f}  Recall@20 {m['recall@20']:.4f}  MRR {m['mrr']:.4f}  coverage "
          f"{m['coverage']:.4f}. History removed: HR@10 {r['hr@10']:.4f}  NDCG@10 {r['ndcg@10']:.4f}  "
          f"Recall@20 {r['recall@20']:.4f}  MRR {r['mrr']:.4f}. Report in {args.report}")
    return 0


def _print_served(served) -> None:
    if served.fallback:
        note(served.fallback)
    for rec in served.items:
        print(f"{rec.item}\t{rec.score:.4f}\t{rec.source}\t{rec.reason}")


def user_command(args: argparse.Namespace) -> int:
    from niaga.recommend.pipeline import load, recommend_user

    _check_k(args.k)
    _print_served(recommend_user(load(args.model), args.user, args.k, args.segment))
    return 0


def users_command(args: argparse.Namespace) -> int:
    from niaga.data.io import read_table, write_table
    from niaga.recommend.pipeline import load, recommend_table

    _check_k(args.k)
    model = load(args.model)
    frame = read_table(args.input, dtype=str, keep_default_na=False)
    table, bad = recommend_table(model, frame, args.k, args.user_col, source=args.input)
    write_table(table, args.output)
    fallbacks = table.loc[table["fallback"].astype(str) != "", "user"].nunique()
    print(f"{len(frame) - bad:,} users, {len(table):,} rows written to {args.output}"
          + (f"; {fallbacks:,} served by a fallback (no history)" if fallbacks else "")
          + (f"; {bad:,} row(s) without a user id kept with the error" if bad else ""))
    return 0


def together_command(args: argparse.Namespace) -> int:
    from niaga.recommend.pipeline import load, together

    _check_k(args.k)
    _print_served(together(load(args.model), args.item, args.k))
    return 0
