"""One customer's picture: segment, RFM, predicted promotion preference and the offers that apply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from niaga.customers.naive_bayes import CategoricalNaiveBayes
from niaga.customers.offers import evaluate_offers, load_offers
from niaga.customers.promo import FEATURES, FREQUENCY_EDGES, OneHotClassifier, bin_values, discretize, seed_table1
from niaga.data.io import read_table
from niaga.errors import DataError
from niaga.modeling import load_model

DAYS_PER_MONTH = 30.44


def load_segments(directory: str | Path) -> pd.DataFrame:
    """segments.csv joined with rfm_scores.csv (when present) from a ``niaga customers segment`` output directory."""
    directory = Path(directory)
    path = directory / "segments.csv"
    if not path.is_file():
        raise DataError(f"{directory}: no segments.csv; write one with "
                        f"'niaga customers segment --data LOG --out {directory}'")
    table = read_table(path, dtype={"customer_id": "string"})
    details = directory / "rfm_scores.csv"
    if details.is_file():
        table = table.merge(read_table(details, dtype={"customer_id": "string", "rfm_score": "string"}),
                            on="customer_id", how="left")
    return table


def promotion_model(model_dir: str | Path | None):
    """The saved promotion model, or Naive Bayes trained on seed 003's Table 1 counts."""
    if model_dir is None:
        return CategoricalNaiveBayes.from_counts(seed_table1())
    model = load_model(model_dir, task="customers")
    if not isinstance(model, (CategoricalNaiveBayes, OneHotClassifier)):
        raise DataError(f"{model_dir}: holds a {type(model).__name__}, not a promotion model "
                        "(niaga customers promo train)")
    return model


def survey_attributes(customers: pd.DataFrame, given: dict[str, str] | None = None) -> pd.DataFrame:
    """The promotion model's attributes per customer: purchase frequency from the log (orders per month over
    the customer's tenure), anything in ``given`` (e.g. age=19, gender=female); the rest unknown."""
    months = np.maximum(customers.get("tenure_days", pd.Series(0, index=customers.index)).fillna(0) / DAYS_PER_MONTH, 1.0)
    attributes = pd.DataFrame({name: pd.Series(pd.NA, index=customers.index, dtype="string") for name in FEATURES})
    attributes["purchase_frequency"] = bin_values(customers["frequency"] / months, FREQUENCY_EDGES,
                                                  ["rarely", "normal", "often"])
    for name, value in (given or {}).items():
        if name not in FEATURES:
            raise DataError(f"unknown attribute {name!r}; the promotion model knows {', '.join(FEATURES)}")
        attributes[name] = value
    return discretize(attributes)


def with_preferences(customers: pd.DataFrame, model,
                     given: dict[str, str] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """The customers with ``preferred_promotion`` added, and the class probabilities behind it."""
    proba = model.predict_proba(survey_attributes(customers, given))
    return customers.assign(preferred_promotion=model.classes_[np.argmax(proba, axis=1)]), proba


def customer_profile(segments_dir: str | Path, customer_id: str, model_dir: str | Path | None = None,
                     offers_path: str | Path | None = None, attributes: dict[str, str] | None = None) -> dict:
    table = load_segments(segments_dir)
    wanted = str(customer_id).strip().removesuffix(".0")
    row = table[table["customer_id"].astype(str) == wanted]
    if row.empty:
        raise DataError(f"customer {customer_id!r} is not in {Path(segments_dir) / 'segments.csv'} "
                        f"({len(table):,} customers, e.g. {', '.join(table['customer_id'].astype(str).head(3))})")
    model = promotion_model(model_dir)
    row, proba = with_preferences(row.reset_index(drop=True), model, attributes)
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.iloc[0].items() if not pd.isna(v)}
    offers = evaluate_offers(row, load_offers(offers_path))
    return {
        "customer_id": record["customer_id"],
        "segment": record["segment"],
        "cluster": record.get("cluster"),
        "cluster_name": record.get("cluster_name"),
        "rfm": {k: record.get(k) for k in ("recency", "frequency", "monetary", "r_score", "f_score", "m_score",
                                           "rfm_score") if k in record},
        "country": record.get("country"),
        "promotion_preference": {
            "predicted": record["preferred_promotion"],
            "probabilities": {str(c): round(float(p), 4) for c, p in zip(model.classes_, proba[0])},
            "from": "given attributes and the log's purchase frequency" if attributes else "the log's purchase frequency",
        },
        "offers": offers[["offer", "rule", "reason"]].to_dict("records"),
    }


def offers_for_all(segments_dir: str | Path, model_dir: str | Path | None = None,
                   offers_path: str | Path | None = None) -> pd.DataFrame:
    table = load_segments(segments_dir)
    table, _ = with_preferences(table, promotion_model(model_dir))
    return evaluate_offers(table, load_offers(offers_path))
