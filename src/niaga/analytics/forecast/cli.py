"""``niaga forecast``: demand forecasts per item, backtests, reorder points, price what-ifs, customer churn."""

from __future__ import annotations

import argparse
import json

from niaga.cli_options import add_data, add_input, add_kind, add_model, add_out, add_output, add_report, say

RETAIL = "../shared/data/commerce/online_retail/online_retail.parquet"
HELP_EXAMPLES = {
    "train": f"niaga forecast train --data {RETAIL} --out runs/forecast --freq W --horizon 8",
    "predict": "niaga forecast predict --model runs/forecast --output runs/forecast.csv",
    "evaluate": f"niaga forecast evaluate --data {RETAIL} --horizon 8 --report runs/forecast-eval",
    "reorder": "niaga forecast reorder --model runs/forecast --stock stock.csv --lead-time 14 --service 0.95 "
               "--output runs/reorder.csv",
    "whatif": "niaga forecast whatif --model runs/forecast --item 85123A --price 2.5",
    "churn": f"niaga forecast churn --data {RETAIL} --out runs/churn --days 90",
}
#: the forecasters (niaga.analytics.forecast.model.CANDIDATES, named here so that registering the commands
#: imports nothing heavy)
CANDIDATES = ("lgbm_ets", "lgbm", "seasonal_naive", "moving_average", "croston", "ets")
LOG_HELP = ("order or invoice log: CSV, TSV, Excel, Parquet, JSON lines or store:orders (columns as in Online "
            "Retail: StockCode/item, Quantity, InvoiceDate/date, UnitPrice/price, InvoiceNo/order)")



def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=help_)
    parser.set_defaults(subparser=parser)
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    train = commands.add_parser(
        "train", help="fit per-item demand (the model the holdout picks) and save it",
        description="Read an order log (cancellations, returns, bad prices and duplicates left out and counted), "
                    "sum units per item and period, fit the candidate forecasters (global LightGBM with "
                    "Indonesian calendar and price features; seasonal naive, moving average, Croston, AutoETS "
                    "from statsforecast), keep the one with the lowest MASE on the last --horizon periods, "
                    "calibrate its intervals there, estimate price response, and save the model directory.")
    add_data(train, LOG_HELP)
    add_out(train)
    train.add_argument("--freq", default="W", type=str.upper, choices=["D", "W", "M"],
                       help="period: D day, W week (Monday to Sunday), M month (default W)")
    train.add_argument("--horizon", type=int, default=8, help="periods to forecast (default 8)")
    add_kind(train, ["auto", *CANDIDATES], "auto", "forecaster (auto: the best holdout MASE)")
    train.set_defaults(handler=train_command)

    predict = commands.add_parser("predict", help="write the forecast: item, period, forecast, lo_80, hi_80, "
                                                  "lo_95, hi_95 (one row per item and period)")
    add_model(predict, "model directory from 'forecast train'")
    add_output(predict, "table to write (.csv, .parquet, .xlsx, .jsonl)")
    predict.add_argument("--horizon", type=int, help="periods (default: the model's)")
    add_input(predict, required=False,
              help="forecast only the items of this table (a column item, StockCode or sku; default: every "
                              "item the model knows)")
    predict.set_defaults(handler=predict_command)

    evaluate = commands.add_parser(
        "evaluate", help="rolling-origin backtest: MASE, revenue-weighted MASE, bias, interval coverage per model",
        description="Cut the log at rolling origins --horizon periods apart (the last ending with the log), fit "
                    "every model on the history before each origin and score its next --horizon periods: the "
                    "global LightGBM model against seasonal naive, 4-period moving average, Croston and AutoETS. "
                    "Writes metrics.json, errors.csv, mase.png and report.md.")
    add_data(evaluate, LOG_HELP)
    evaluate.add_argument("--horizon", type=int, required=True, help="periods ahead scored from each origin")
    add_report(evaluate, "directory for metrics.json, errors.csv, mase.png and report.md", legacy_out=True)
    evaluate.add_argument("--freq", default="W", type=str.upper, choices=["D", "W", "M"], help="period (default W)")
    evaluate.add_argument("--origins", type=int, default=2, help="rolling origins (default 2)")
    evaluate.add_argument("--items", type=int, help="score only the N items with the most revenue before the "
                                                    "first origin (default: every item)")
    evaluate.add_argument("--models", default=",".join(CANDIDATES),
                          help=f"comma-separated (default {','.join(CANDIDATES)})")
    evaluate.set_defaults(handler=evaluate_command)

    reorder = commands.add_parser(
        "reorder", help="reorder point and quantity per item from the forecast distribution",
        description="For each row of the stock table (item, stock on hand): demand over the lead time from the "
                    "forecast, safety stock for the service level from its intervals, the reorder point, and the "
                    "quantity that brings the item up to the demand over the lead time and one period. Every "
                    "input row and column is kept.")
    add_model(reorder, "model directory from 'forecast train'")
    reorder.add_argument("--stock", required=True, help="table with the columns item (or StockCode, sku) and stock "
                                                        "(or on_hand, inventory)")
    reorder.add_argument("--lead-time", type=float, required=True, help="days from ordering to having the stock")
    reorder.add_argument("--service", type=float, default=0.95, help="cycle service level (default 0.95)")
    add_output(reorder, "table to write: the stock table's rows and columns, then the plan")
    reorder.set_defaults(handler=reorder_command)

    whatif = commands.add_parser("whatif", help="demand and revenue of one item at a price (JSON), or unknown",
                                 description="Demand and revenue of the next period at the given price, from the "
                                             "item's price elasticity (its own, or pooled over items whose price "
                                             "varied), with a 95 % interval. An item whose price never varied "
                                             "in the log answers \"unknown\".")
    add_model(whatif, "model directory from 'forecast train'")
    whatif.add_argument("--item", required=True, help="item id (StockCode)")
    whatif.add_argument("--price", type=float, required=True, help="the unit price to ask about")
    whatif.set_defaults(handler=whatif_command)

    churn = commands.add_parser(
        "churn", help="probability each customer does not buy again within N days, time-split evaluated",
        description="Train at a cut-off N days before the log's end (labels: bought again in the N days after it "
                    "or not), measure on a later cut-off (the log's end minus N days) against a recency-only "
                    "baseline (ROC-AUC, PR-AUC, calibration), then score every customer at the log's end. Writes "
                    "churn.csv, metrics.json, calibration.png, report.md and the model into --out.")
    add_data(churn, LOG_HELP + "; CustomerID needed")
    churn.add_argument("--out", "--report", dest="out", required=True, help="output directory")
    churn.add_argument("--days", type=int, default=90, help="churn window N in days (default 90)")
    churn.add_argument("--as-of", help="score at this date YYYY-MM-DD (default: the log's last day)")
    churn.add_argument("--segments", help="output directory of 'niaga customers segment': churn per segment")
    churn.set_defaults(handler=churn_command)


def train_command(args: argparse.Namespace) -> int:
    from niaga.analytics.forecast import pipeline

    panel = pipeline.load_panel(args.data, args.freq, log=say)
    say(f"{len(panel):,} items × {panel.quantity.shape[1]} periods ({panel.periods[0].date()} to "
         f"{panel.periods[-1].date()}{', the last partial period left out' if panel.gap else ''})")
    model = pipeline.train(panel, args.out, horizon=args.horizon, kind=args.kind, log=say)
    first = model.future_periods(1)[0].date()
    print(f"trained {model.kind_} on {len(panel):,} items (holdout MASE {model.holdout_mase_.get(model.kind_)}); "
          f"forecasts start {first}; saved to {args.out}")
    return 0


def predict_command(args: argparse.Namespace) -> int:
    from niaga.analytics.forecast import pipeline
    from niaga.data.io import check_output_path, write_table

    check_output_path(args.output)
    model = pipeline.load_model(args.model)
    frame = pipeline.predict(model, args.horizon)
    if args.input:
        from niaga.data.io import read_table

        wanted = pipeline.items_of(read_table(args.input), args.input)
        unknown = sorted(set(wanted) - set(frame["item"]))
        if unknown:
            say(f"{len(unknown):,} item(s) not in the model's training data, no forecast: {', '.join(unknown[:10])}")
        frame = frame[frame["item"].isin(wanted)].reset_index(drop=True)
    write_table(frame, args.output)
    print(f"wrote {len(frame):,} rows ({frame['item'].nunique():,} items × {frame['period'].nunique()} periods "
          f"from {frame['period'].min()}) to {args.output}")
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from niaga.analytics.forecast import pipeline
    from niaga.errors import DataError

    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    unknown = [m for m in models if m not in CANDIDATES]
    if unknown:
        raise DataError(f"--models: unknown {', '.join(unknown)}; expected some of {', '.join(CANDIDATES)}")
    if args.horizon < 1 or args.origins < 1:
        raise DataError("--horizon and --origins must be at least 1")
    panel = pipeline.load_panel(args.data, args.freq, log=say)
    metrics = pipeline.evaluate(panel, args.report, args.horizon, args.origins, models, args.items, log=say)
    for model, row in metrics["models"].items():
        print(f"{model:<15} MASE {row['mase']:.3f}  revenue-weighted {row['revenue_weighted_mase']:.3f}  "
              f"bias {row['bias']:+.1%}  80% coverage {row['coverage_80']:.1%}")
    print(f"best: {metrics['best_model']}; report in {args.report}/report.md")
    return 0


def reorder_command(args: argparse.Namespace) -> int:
    from niaga.analytics.forecast import pipeline
    from niaga.data.io import check_output_path, read_table, with_outputs, write_table

    check_output_path(args.output)
    model = pipeline.load_model(args.model)
    stock = read_table(args.stock)
    plan = pipeline.reorder(model, stock, args.lead_time, args.service, source=args.stock, log=say)
    write_table(with_outputs(stock, plan), args.output)
    print(f"{int(plan['reorder'].fillna(False).sum()):,} of {len(plan):,} items to reorder now; wrote {args.output}")
    return 0


def whatif_command(args: argparse.Namespace) -> int:
    from niaga.analytics.forecast import pipeline

    answer = pipeline.whatif(pipeline.load_model(args.model), args.item, args.price)
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def churn_command(args: argparse.Namespace) -> int:
    from niaga.analytics import churn

    summary = churn.run(args.data, args.out, days=args.days, as_of=args.as_of, segments=args.segments, log=say)
    m = summary["metrics"]
    print(f"churn within {args.days} days: ROC-AUC {m['roc_auc']:.3f} (recency only {m['baseline_roc_auc']:.3f}), "
          f"PR-AUC {m['average_precision']:.3f}, on {m['customers']:,} customers at {m['evaluated_at']}; "
          f"scored {summary['scored']:,} customers at {summary['as_of']}; wrote {args.out}/churn.csv")
    return 0
