"""The main job (``make run``, ``niaga run``): bring up the running system.

1. The warehouse: when it is empty, the shared data is ingested into it (reviews, posts, orders,
   transactions, products).
2. The models: every default model not yet registered is trained quickly and registered (review emotion and
   sentiment, social posts, fraud, customer segments and promotion preference, recommendations and the weekly
   demand forecast from the orders); later starts reuse them. The product-image model is not trained here
   (hours of CPU): the one the repository ships (``models/vision-fashion``, made by ``make models``) is copied
   and its catalogue indexed from the shared fashion images. Other heavy models (neural and transformer
   reviews, the SASRec recommender) train through their own commands and are added with
   ``niaga serve models add``.
3. The server: the API (/api/v1, /docs) and the dashboard (/) on http://HOST:PORT.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Callable

from niaga.cli_options import say

HELP_EXAMPLES = {
    "": "niaga run --port 8000",
}

#: table → shared file(s) ingested when the warehouse is empty
DEFAULT_DATA = {
    "reviews": [("text", "prdect_id", "prdect_id_train.csv")],
    "posts": [("text", "ecommerce_tweets_labelled", "tweets_train.csv")],
    "orders": [("commerce", "online_retail", "online_retail.parquet")],
    "transactions": [("fraud", "fraud_detection_handbook_simulated", "transactions_2018-09.parquet")],
    "products": [("images", "fashion_product_images_small", "styles.csv")],
}
FRAUD_TRAINING = ("fraud", "fraud_detection_handbook_simulated", "transactions_2018-08.parquet")
QUICK_FRAUD = {"n_estimators": 150, "ae_epochs": 3}
#: the demand model the main job trains on the orders (weekly, 8 weeks ahead): the 4-week moving average, seconds;
#: the backtest's pick (`niaga forecast train`, every candidate; the global LightGBM model on Online Retail) takes
#: minutes (docs/benchmarks.md)
QUICK_FORECAST = "moving_average"
#: models the repository ships (``make models`` rebuilds them): (capability, name) → (folder under models/, the
#: shared dataset its catalogue index is built from)
SHIPPED = {("vision", "products"): ("vision-fashion", ("images", "fashion_product_images_small"))}
SHIPPED_ROOT = Path(__file__).resolve().parents[2] / "models"


def register(sub, name: str, help_: str) -> None:
    parser = sub.add_parser(name, help=help_, description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--host", help="address to listen on (default: the host setting, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: the port setting, 8000)")
    parser.add_argument("--no-serve", action="store_true", help="build the warehouse and the models, then stop")
    parser.set_defaults(handler=run)


def fill_warehouse(store, log: Callable[[str], None] = say) -> None:
    from niaga.config import data_path
    from niaga.store.ingest import ingest

    for table, files in DEFAULT_DATA.items():
        paths = [data_path(*parts) for parts in files]
        ingest(store, table, paths, log=log)


def default_models(config) -> dict[tuple[str, str], Callable[[Path], None]]:
    """(capability, name) → a function that trains that default model into a directory."""
    from niaga.config import data_path

    def reviews(label_col: str):
        def train(out: Path) -> None:
            from niaga.reviews.pipeline import train as train_reviews

            train_reviews("store:reviews", "text", label_col, out, cv=0, log=say)
        return train

    def posts(out: Path) -> None:
        from niaga.social.pipeline import train as train_posts

        train_posts("store:posts", "text", "label", out, log=say)

    def fraud(out: Path) -> None:
        from niaga.fraud.pipeline import train as train_fraud

        train_fraud([data_path(*FRAUD_TRAINING)], out, log=say, **QUICK_FRAUD)

    def segments(out: Path) -> None:
        from niaga.customers.rfm import read_log
        from niaga.customers.segment_report import write_segmentation

        write_segmentation(read_log("store:orders"), "store:orders", out, currency="GBP")

    def promotion(out: Path) -> None:
        from niaga.customers.naive_bayes import CategoricalNaiveBayes
        from niaga.customers.promo import seed_table1
        from niaga.modeling import save_model

        model = CategoricalNaiveBayes(alpha=1.0).fit_counts(seed_table1())
        save_model(model, out, labels=model.classes_, extra={"training_source": "seed 003 Table 1 counts"})

    def forecast(out: Path) -> None:
        from niaga.analytics.forecast.pipeline import build_panel, demand_lines
        from niaga.analytics.forecast.pipeline import train as train_forecast
        from niaga.data.transactions import read_log

        lines, _ = demand_lines(read_log("store:orders"), "store:orders")
        panel = build_panel(lines, "W")
        if panel.quantity.shape[1] < 3:  # a few weeks of orders: forecast days instead
            panel = build_panel(lines, "D")
        train_forecast(panel, out, horizon=8, kind=QUICK_FORECAST, log=say)

    def recommender(out: Path) -> None:
        from niaga.recommend.pipeline import train as train_recommender

        train_recommender("store:orders", out, fmt="invoices", log=say)

    return {("reviews", "emotion"): reviews("label"), ("reviews", "sentiment"): reviews("Sentiment"),
            ("social", "posts"): posts, ("fraud", "transactions"): fraud, ("customers", "segments"): segments,
            ("customers", "promotion"): promotion, ("recommend", "orders"): recommender,
            ("forecast", "orders"): forecast}


def install_shipped(source: Path, out: Path, catalogue: Path | None, log: Callable[[str], None] = say) -> None:
    """Copy a shipped vision model to ``out`` and index ``catalogue`` (a dataset folder) with it there: the index
    holds this machine's image paths, so it is built here rather than shipped."""
    import shutil

    from niaga.vision.pipeline import INDEX_DIR, build_index

    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(source, out, ignore=shutil.ignore_patterns(INDEX_DIR, "checkpoint"))
    if catalogue is None or not catalogue.is_dir():
        log("niaga: note: the fashion images are not in the data directory: the product model recognizes photos "
            "but has no catalogue to search (index one with 'niaga vision index')")
        return
    info = build_index(out, catalogue, out / INDEX_DIR)
    log(f"   indexed {info['items']:,} catalogue images ({info['kind']})")


def prepare(config, log: Callable[[str], None] = say) -> None:
    """Fill the warehouse when it is empty, train the default models not yet registered and install the shipped
    ones."""
    from niaga.store import Store

    with Store(config.store, warehouse=config.warehouse) as store:
        if store.is_empty():
            log(f"== filling the warehouse {store.where} from the shared data ==")
            fill_warehouse(store, log)
        registered = {(m.capability, m.name) for m in store.models().itertuples()}
    for (capability, name), train in default_models(config).items():
        if (capability, name) in registered:
            continue
        out = Path(config.models) / f"{capability}-{name}"
        log(f"== training the default {capability} model '{name}' into {out} ==")
        start = time.perf_counter()
        train(out)
        with Store(config.store, warehouse=config.warehouse) as store:
            store.register_model(capability, name, out)
        log(f"   {capability}/{name} registered ({time.perf_counter() - start:.0f} s)")
    from niaga.config import data_path
    from niaga.errors import DataError

    for (capability, name), (folder, dataset) in SHIPPED.items():
        if (capability, name) in registered:
            continue
        if not (SHIPPED_ROOT / folder / "model.json").exists():
            log(f"niaga: note: {SHIPPED_ROOT / folder}: no shipped {capability} model in this installation "
                "('make models' makes it)")
            continue
        out = Path(config.models) / f"{capability}-{name}"
        log(f"== installing the shipped {capability} model '{name}' ({SHIPPED_ROOT / folder}) into {out} ==")
        start = time.perf_counter()
        try:
            catalogue = data_path(*dataset)
        except DataError:
            catalogue = None
        install_shipped(SHIPPED_ROOT / folder, out, catalogue, log)
        with Store(config.store, warehouse=config.warehouse) as store:
            store.register_model(capability, name, out)
        log(f"   {capability}/{name} registered ({time.perf_counter() - start:.0f} s)")


def run(args: argparse.Namespace) -> int:
    from niaga.config import settings

    config = settings()
    config = dataclasses.replace(config, **{k: v for k, v in {"host": args.host, "port": args.port}.items() if v})
    start = time.perf_counter()
    prepare(config)
    say(f"ready in {time.perf_counter() - start:.0f} s")
    if args.no_serve:
        return 0
    from niaga.serve.cli import serve

    serve(config)
    return 0
