"""The datasets niaga knows, where they live under the data directory, and how many rows they hold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow.parquet as pq

from niaga.data import text as text_data


def _count_parquet(folder: Path) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(folder.glob("*.parquet")))


def _count_csv(path: Path, **kwargs) -> int:
    return sum(len(chunk) for chunk in pd.read_csv(path, chunksize=200_000, **kwargs))


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def _count_images(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})


def _loader_rows(loader: Callable[[], pd.DataFrame]) -> Callable[[Path], int]:
    return lambda _folder: len(loader())


@dataclass(frozen=True)
class Dataset:
    name: str
    capability: str
    folder: str  # relative to the data directory
    count_rows: Callable[[Path], int]


DATASETS: list[Dataset] = [
    Dataset("prdect_id", "reviews", "text/prdect_id", _loader_rows(text_data.load_prdect_id)),
    Dataset("indonlu_emot", "reviews", "text/indonlu_emot", _loader_rows(text_data.load_indonlu_emot)),
    Dataset("indonlu_smsa", "reviews", "text/indonlu_smsa", _loader_rows(text_data.load_indonlu_smsa)),
    Dataset("tokopedia_product_reviews_2019", "reviews", "text/tokopedia_product_reviews_2019",
            _loader_rows(text_data.load_tokopedia_reviews_2019)),
    Dataset("tokopedia_fashion_reviews", "reviews", "text/tokopedia_fashion_reviews",
            _loader_rows(text_data.load_tokopedia_fashion_reviews)),
    Dataset("ecommerce_tweets_labelled", "social", "text/ecommerce_tweets_labelled",
            _loader_rows(text_data.load_ecommerce_tweets)),
    Dataset("colloquial_indonesian_lexicon", "text", "text/colloquial_indonesian_lexicon",
            lambda f: _count_csv(f / "colloquial-indonesian-lexicon.csv")),
    Dataset("new_kamusalay", "text", "text/new_kamusalay",
            lambda f: _count_csv(f / "new_kamusalay.csv", header=None, encoding="latin-1")),
    Dataset("kamus_singkatan", "text", "text/kamus_singkatan", lambda f: _count_lines(f / "kamus_singkatan.csv")),
    Dataset("stopwords_id", "text", "text/stopwords_id", lambda f: _count_lines(f / "stopwords-id.txt")),
    Dataset("fraud_detection_handbook_simulated", "fraud", "fraud/fraud_detection_handbook_simulated", _count_parquet),
    Dataset("ecommerce_fraud_data_partial", "fraud", "fraud/ecommerce_fraud_data_partial",
            lambda f: pq.ParquetFile(f / "fraud_data_first51689.parquet").metadata.num_rows),
    Dataset("online_retail", "customers", "commerce/online_retail", _count_parquet),
    Dataset("online_shoppers_intention", "customers", "commerce/online_shoppers_intention",
            lambda f: _count_csv(f / "online_shoppers_intention.csv")),
    Dataset("groceries", "recommend", "commerce/groceries", lambda f: _count_csv(f / "Groceries_dataset.csv")),
    Dataset("amazon_s3rec", "recommend", "commerce/amazon_s3rec",
            lambda f: sum(len(line.split()) - 1 for p in sorted(f.glob("*.txt"))
                          for line in p.read_text().splitlines() if line.strip())),  # interactions
    Dataset("fashion_product_images_small", "vision", "images/fashion_product_images_small", _count_images),
    Dataset("grocery_store_dataset", "vision", "images/grocery_store_dataset", _count_images),
]


def dataset_status(root: Path | None) -> list[dict]:
    """One row per known dataset: whether it is present under ``root`` and its row count."""
    rows = []
    for ds in DATASETS:
        folder = root / ds.folder if root else None
        row = {"dataset": ds.name, "capability": ds.capability, "path": ds.folder, "present": False, "rows": None,
               "error": ""}
        if folder is not None and folder.is_dir():
            row["present"] = True
            try:
                row["rows"] = ds.count_rows(folder)
            except Exception as exc:  # noqa: BLE001 - one broken dataset must not hide the others
                row["error"] = str(exc).splitlines()[0]
        rows.append(row)
    return rows
