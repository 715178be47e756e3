"""``niaga experiment``: plan an A/B test's size, assign users to arms, analyze the results."""

from __future__ import annotations

import argparse

from niaga.cli_options import add_data, add_output, add_report, say

HELP_EXAMPLES = {
    "plan": "niaga experiment plan --baseline 0.05 --mde 0.1",
    "assign": "niaga experiment assign --experiment reco-v2 --user 12347",
    "analyze": "niaga experiment analyze --data users.csv --output results.csv --report runs/experiment",
    "simulate": "niaga experiment simulate --output users.csv --users 20000 --lift 0.1",
}


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    plan = commands.add_parser("plan", help="users per arm to detect a relative lift (two-sided test)")
    plan.add_argument("--baseline", type=float, required=True,
                      help="the control's conversion rate, e.g. 0.05 (with --std: the mean of the metric per user)")
    plan.add_argument("--mde", type=float, required=True,
                      help="minimum detectable effect: the relative lift to detect, e.g. 0.1 for +10 %%")
    plan.add_argument("--alpha", type=float, default=0.05, help="significance level, two-sided (default 0.05)")
    plan.add_argument("--power", type=float, default=0.8, help="chance to detect the lift when it is real (default 0.8)")
    plan.add_argument("--std", type=float, help="for a continuous metric such as revenue: its standard deviation "
                                                "per user (then --baseline is its mean)")
    plan.set_defaults(handler=plan_command)

    assign = commands.add_parser("assign", help="the arm of a user (the same answer as the API, always)")
    assign.add_argument("--experiment", required=True, help="experiment name (part of the hash)")
    assign.add_argument("--user", required=True, help="user id")
    assign.add_argument("--arms", default="control,treatment", help="arm names, comma-separated (default "
                                                                     "control,treatment)")
    assign.add_argument("--split", help="shares of the arms in the same order, e.g. 90,10 (default: equal)")
    assign.add_argument("--salt", default="", help="a secret that changes every assignment (default none)")
    assign.set_defaults(handler=assign_command)

    analyze = commands.add_parser(
        "analyze", help="lift, interval, p-value, SRM, CUPED, Benjamini-Hochberg and sequential p-values",
        description="Read one row per user (experiment, user, variant and metric columns such as converted or "
                    "revenue; a pre-period column such as pre_revenue or revenue_before is CUPED's covariate), "
                    "or the logged events (store:events: shown / click / order events become clicked, converted "
                    "and revenue per user), and write one row per experiment, metric and arm against the control.")
    add_data(analyze, "users table (CSV, Parquet, ...) or store:events")
    add_output(analyze, "results table (.csv, .parquet, .xlsx, .jsonl)")
    add_report(analyze, "directory for report.md, lifts.png and summary.json", required=False)
    analyze.add_argument("--control", default="control", help="the baseline arm's name (default control)")
    analyze.add_argument("--metrics", help="metric columns, comma-separated (default: every numeric column)")
    analyze.add_argument("--covariate", help="pre-period column for CUPED, for every metric (default: found by "
                                             "name: pre_<metric>, <metric>_before, ...)")
    analyze.add_argument("--segment", help="a column to analyze by as well (rows per segment value; Benjamini-"
                                           "Hochberg covers them)")
    analyze.add_argument("--split", help="planned shares for the SRM check, e.g. control=50,treatment=50 "
                                         "(default: equal)")
    analyze.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    analyze.add_argument("--planned-users", type=int,
                         help="planned users per arm: tunes the sequential p-value for looks before it "
                              "(default: the users so far)")
    analyze.set_defaults(handler=analyze_command)

    simulate = commands.add_parser("simulate", help="write a synthetic experiment's per-user table (to try analyze)")
    add_output(simulate, "users table to write (.csv, .parquet, ...)")
    simulate.add_argument("--users", type=int, default=20_000, help="users in all (default 20,000)")
    simulate.add_argument("--baseline", type=float, default=0.05, help="control conversion rate (default 0.05)")
    simulate.add_argument("--lift", type=float, default=0.1, help="true relative lift of the treatment (default 0.1)")
    simulate.add_argument("--treated-share", type=float, default=0.5,
                          help="share of users in the treatment (default 0.5; 0.48 makes a sample-ratio mismatch)")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.set_defaults(handler=simulate_command)



def plan_command(args: argparse.Namespace) -> int:
    from niaga.analytics.experiment.pipeline import plan

    result = plan(args.baseline, args.mde, args.alpha, args.power, args.std)
    target = args.baseline * (1 + args.mde)
    what = (f"a rate of {args.baseline:.4g} -> {target:.4g}" if args.std is None
            else f"a mean of {args.baseline:.4g} -> {target:.4g} (sd {args.std:.4g})")
    print(result.users_per_arm)
    say(f"users per arm: {result.users_per_arm:,} ({result.total_users:,} for two arms) to detect {what} "
         f"({args.mde:+.1%}) at alpha {args.alpha} (two-sided) with power {args.power:.0%}")
    return 0


def assign_command(args: argparse.Namespace) -> int:
    from niaga.analytics.experiment.pipeline import assign_user

    print(assign_user(args.experiment, args.user, args.arms, args.split, args.salt)["variant"])
    return 0


def _split(text: str | None) -> dict[str, float] | None:
    from niaga.errors import DataError

    if not text:
        return None
    shares = {}
    for part in text.split(","):
        name, sep, share = part.partition("=")
        try:
            shares[name.strip()] = float(share)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise DataError(f"--split: give NAME=SHARE for each arm, e.g. control=50,treatment=50; got {part!r}")
    return shares


def analyze_command(args: argparse.Namespace) -> int:
    from niaga.analytics.experiment.pipeline import analyze, read_data, write_report
    from niaga.data.io import check_output_path, write_table

    check_output_path(args.output)
    frame = read_data(args.data)
    metrics = [m.strip() for m in args.metrics.split(",")] if args.metrics else None
    result = analyze(frame, control=args.control, metrics=metrics, covariate=args.covariate, segment=args.segment,
                     split=_split(args.split), alpha=args.alpha, planned_users=args.planned_users, source=args.data,
                     log=say)
    write_table(result, args.output)
    if args.report:
        write_report(result, args.report, args.data, args.alpha)
    experiments = result["experiment"].nunique()
    say(f"analyzed {experiments:,} experiment(s), {len(result):,} comparisons: {int(result['significant'].sum())} "
         f"significant after Benjamini-Hochberg; {result.loc[result['srm'], 'experiment'].nunique()} experiment(s) "
         "with a sample-ratio mismatch (do not trust their lifts); "
         f"wrote {args.output}" + (f" and {args.report}/report.md" if args.report else ""))
    return 0


def simulate_command(args: argparse.Namespace) -> int:
    from niaga.analytics.experiment.simulate import users_table
    from niaga.data.io import check_output_path, write_table
    from niaga.errors import DataError

    check_output_path(args.output)
    if args.users < 2 or not 0 < args.baseline < 1 or not 0 < args.treated_share < 1 or args.lift <= -1:
        raise DataError("--users at least 2, --baseline and --treated-share between 0 and 1, --lift above -1")
    table = users_table(args.users, args.baseline, args.lift, args.treated_share, seed=args.seed)
    write_table(table, args.output)
    say(f"wrote {len(table):,} users of a synthetic experiment (true lift {args.lift:+.1%}) to {args.output}")
    return 0
