"""Loaders for the shared Indonesian text datasets.

Every loader has the same shape: ``load_x(task=...) -> DataFrame`` with the columns ``text``,
``label`` and ``split`` first (one row per example, labels as strings), then any metadata the
dataset carries. A file with a missing or malformed column raises DataError naming the file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from niaga.config import data_path
from niaga.data.io import read_table, require_columns
from niaga.errors import DataError

TIDY = ["text", "label", "split"]


def tidy(frame: pd.DataFrame, source: str | Path, text_col: str, label_col: str | None, split: str,
         extra: dict[str, str] | None = None) -> pd.DataFrame:
    """Select and rename columns into the tidy layout, checking that they exist and hold text."""
    wanted = [text_col] + ([label_col] if label_col else []) + list((extra or {}).keys())
    require_columns(frame, wanted, source)
    texts = frame[text_col]
    if len(texts) and not (texts.map(lambda v: isinstance(v, str)).mean() > 0.5):
        raise DataError(f"{source}: column {text_col!r} should hold text, found mostly {texts.dtype} values")
    out = pd.DataFrame({
        "text": texts.astype("string"),
        "label": frame[label_col].astype("string") if label_col else pd.Series(pd.NA, index=frame.index, dtype="string"),
        "split": split,
    })
    for src, dst in (extra or {}).items():
        out[dst] = frame[src].to_numpy()
    return out.reset_index(drop=True)


def load_prdect_id(task: str = "emotion") -> pd.DataFrame:
    """PRDECT-ID Tokopedia reviews (the shared 80 %), labelled by ``task``: emotion or sentiment."""
    column = {"emotion": "Emotion", "sentiment": "Sentiment"}.get(task)
    if column is None:
        raise ValueError(f"task must be 'emotion' or 'sentiment', got {task!r}")
    path = data_path("text", "prdect_id", "prdect_id_train.csv")
    frame = read_table(path)
    return tidy(frame, path, "Customer Review", column, "train",
                extra={"Category": "category", "Customer Rating": "rating", "Emotion": "emotion", "Sentiment": "sentiment"})


def load_indonlu_emot() -> pd.DataFrame:
    """IndoNLU EmoT tweets with the official train/valid/test split."""
    parts = []
    for split in ("train", "valid", "test"):
        path = data_path("text", "indonlu_emot", f"{split}_preprocess.csv")
        parts.append(tidy(read_table(path), path, "tweet", "label", split))
    return pd.concat(parts, ignore_index=True)


def load_indonlu_smsa() -> pd.DataFrame:
    """IndoNLU SmSA comments and reviews (positive/neutral/negative), official split."""
    parts = []
    for split in ("train", "valid", "test"):
        path = data_path("text", "indonlu_smsa", f"{split}_preprocess.tsv")
        frame = read_table(path, header=None, names=["text", "label"], quoting=csv.QUOTE_NONE)
        bad = ~frame["label"].isin(["positive", "negative", "neutral"])
        if bad.any():
            row = int(bad.idxmax()) + 1
            raise DataError(f"{path}: line {row}: label {frame['label'][row - 1]!r} is not positive/negative/neutral")
        parts.append(tidy(frame, path, "text", "label", split))
    return pd.concat(parts, ignore_index=True)


def load_tokopedia_reviews_2019() -> pd.DataFrame:
    """40k Tokopedia reviews; the label is the star rating (weak), useful mostly as unlabelled text."""
    path = data_path("text", "tokopedia_product_reviews_2019", "tokopedia-product-reviews-2019.csv.gz")
    frame = read_table(path)
    out = tidy(frame, path, "text", "rating", "train", extra={"category": "category", "product_id": "product_id"})
    return out


def load_tokopedia_fashion_reviews() -> pd.DataFrame:
    """Tokopedia fashion reviews 2024-25, Positive/Negative from stars, with its train/test split."""
    parts = []
    for split, name in (("train", "clean_train_data.csv"), ("test", "clean_test_data.csv")):
        path = data_path("text", "tokopedia_fashion_reviews", name)
        parts.append(tidy(read_table(path), path, "review", "sentiment", split, extra={"rating": "rating"}))
    return pd.concat(parts, ignore_index=True)


def load_ecommerce_tweets() -> pd.DataFrame:
    """Indonesian posts about online shopping labelled TRANSACTION / NON_TRANSACTION (seed 001)."""
    path = data_path("text", "ecommerce_tweets_labelled", "tweets_train.csv")
    frame = read_table(path)
    return tidy(frame, path, "text", "label", "train", extra={"activity": "activity", "id": "id"})


def unlabelled_corpora() -> dict[str, list[str]]:
    """Every Indonesian text in the shared data that a self-supervised model may pretrain on, by dataset.

    Only the training portions: test splits are left out so pretraining never sees them. A dataset that is
    absent or unreadable is left out.
    """
    corpora: dict[str, list[str]] = {}
    for name, loader in (("tokopedia_product_reviews_2019", load_tokopedia_reviews_2019),
                         ("prdect_id", load_prdect_id), ("indonlu_emot", load_indonlu_emot),
                         ("indonlu_smsa", load_indonlu_smsa), ("tokopedia_fashion_reviews", load_tokopedia_fashion_reviews),
                         ("ecommerce_tweets_labelled", load_ecommerce_tweets)):
        try:
            frame = loader()
        except DataError:
            continue
        frame = frame[frame["split"] == "train"]
        corpora[name] = frame["text"].dropna().astype(str).tolist()
    return corpora


TEXT_LOADERS = {
    "prdect_id": load_prdect_id,
    "indonlu_emot": load_indonlu_emot,
    "indonlu_smsa": load_indonlu_smsa,
    "tokopedia_product_reviews_2019": load_tokopedia_reviews_2019,
    "tokopedia_fashion_reviews": load_tokopedia_fashion_reviews,
    "ecommerce_tweets_labelled": load_ecommerce_tweets,
}
