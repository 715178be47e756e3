"""``niaga data sample``: small example inputs for the documentation's commands, cut from the shared data.

Every labelled set is split into a training part and a test part (stratified; identical or near-identical
texts on one side), so no documented example evaluates a model on rows it trained on. The files derive from
the shared datasets (their READMEs give source and licence) and go to a folder the user names, never into
this repository. A face like the CLI: it reads the example data of several capabilities.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

DEFAULT_DIR = "examples"


HELP_EXAMPLES = {
    "sample": "niaga data sample --out examples",
}


def register(commands) -> None:
    sample = commands.add_parser(
        "sample", help="write small example inputs (reviews, posts, surveys, sessions) for the documented commands",
        description="Write small example inputs cut from the shared data (reviews, posts, surveys, sessions), "
                    "each labelled set split into a training and a test part, for the documented commands.")
    sample.add_argument("--out", default=DEFAULT_DIR, help=f"folder to write them into (default {DEFAULT_DIR}/)")
    sample.set_defaults(handler=sample_command)


def split(frame: pd.DataFrame, labels, groups=None, test_share: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    from niaga.evaluation.cv import kfold_splits

    train, test = kfold_splits(np.asarray(labels, dtype=str), round(1 / test_share), groups, seed=0)[0]
    return frame.iloc[np.sort(train)], frame.iloc[np.sort(test)]


def text_groups(texts: pd.Series) -> np.ndarray:
    return texts.astype(str).str.lower().str.split().str.join(" ").to_numpy()


def samples() -> dict[str, pd.DataFrame]:
    """File name → table."""
    from niaga.config import data_path
    from niaga.customers.intent import LABEL as REVENUE
    from niaga.customers.promo import LABEL as PROMOTION, seed_rows
    from niaga.data.io import read_table
    from niaga.evaluation.cv import near_duplicate_groups

    files: dict[str, pd.DataFrame] = {}
    reviews = read_table(data_path("text", "prdect_id", "prdect_id_train.csv"))
    files["reviews_train.csv"], files["reviews_test.csv"] = split(reviews, reviews["Emotion"],
                                                                  text_groups(reviews["Customer Review"]))
    fashion = read_table(data_path("text", "tokopedia_fashion_reviews", "clean_test_data.csv"))
    files["reviews.csv"] = fashion[["review"]].head(200)  # another shop's reviews, no labels
    tweets = read_table(data_path("text", "ecommerce_tweets_labelled", "tweets_train.csv"))
    files["tweets_train.csv"], files["tweets_test.csv"] = split(
        tweets, tweets["label"], near_duplicate_groups(tweets["text"].astype(str).tolist()))
    files["posts.csv"] = files["tweets_test.csv"][["text"]]
    survey = seed_rows()
    files["promo_train.csv"], files["promo_test.csv"] = split(survey, survey[PROMOTION])
    sessions = read_table(data_path("commerce", "online_shoppers_intention", "online_shoppers_intention.csv"))
    files["sessions_train.csv"], files["sessions_test.csv"] = split(sessions, sessions[REVENUE])
    files["sessions_new.csv"] = files["sessions_test.csv"].drop(columns=REVENUE).head(200)
    return files


def write_samples(out: str | Path, log: Callable[[str], None] = print) -> dict[str, int]:
    from niaga.data.io import write_table

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, table in samples().items():
        write_table(table, out / name)
        written[name] = len(table)
    log(f"wrote {len(written)} example files to {out}/: " + ", ".join(f"{n} ({r:,} rows)" for n, r in written.items()))
    return written


def sample_command(args: argparse.Namespace) -> int:
    write_samples(args.out)
    return 0
