"""Rule-based offers read from YAML and evaluated per customer, each with the reason it applies."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from niaga.errors import DataError

FIELDS = {"segment", "cluster", "cluster_name", "recency", "frequency", "monetary", "r_score", "f_score", "m_score",
          "country", "tenure_days", "returns_value", "preferred_promotion"}
OPERATORS = {"min", "max", "not", "in"}


@dataclass(frozen=True)
class OfferRule:
    name: str
    offer: str
    when: dict
    reason: str


def default_offers_text() -> str:
    return resources.files("niaga.resources").joinpath("customer_offers.yaml").read_text(encoding="utf-8")


def load_offers(path: str | Path | None = None) -> list[OfferRule]:
    """Parse and check the rules; errors name the file, the rule and the field."""
    source = str(path) if path else "built-in customer_offers.yaml"
    if path is not None and not Path(path).is_file():
        raise DataError(f"{path}: offers file not found")
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8") if path else default_offers_text())
    except yaml.YAMLError as exc:
        raise DataError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("offers"), list):
        raise DataError(f"{source}: expected a top-level 'offers:' list of rules")
    rules = []
    for i, item in enumerate(document["offers"], start=1):
        where = f"{source}: rule {i}"
        if not isinstance(item, dict) or not item.get("offer"):
            raise DataError(f"{where}: each rule needs at least 'offer' (and usually 'when' and 'reason')")
        when = item.get("when") or {}
        if not isinstance(when, dict):
            raise DataError(f"{where}: 'when' must map fields to conditions")
        for field_name, condition in when.items():
            if field_name not in FIELDS:
                raise DataError(f"{where}: unknown field {field_name!r}; fields: {', '.join(sorted(FIELDS))}")
            if isinstance(condition, dict) and not set(condition) <= OPERATORS:
                raise DataError(f"{where}: field {field_name!r} uses {sorted(set(condition) - OPERATORS)}; "
                                f"conditions are a value, a list, or {{min, max, in, not}}")
        rules.append(OfferRule(name=str(item.get("name", f"rule {i}")), offer=str(item["offer"]), when=when,
                               reason=str(item.get("reason", item.get("name", "")))))
    return rules


def _as_list(value) -> list:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def condition_mask(values: pd.Series, condition) -> np.ndarray:
    """Which rows meet one condition; a missing value meets none."""
    present = values.notna().to_numpy()
    if isinstance(condition, dict):
        mask = present.copy()
        numbers = pd.to_numeric(values, errors="coerce")
        if "min" in condition:
            mask &= (numbers >= float(condition["min"])).to_numpy()
        if "max" in condition:
            mask &= (numbers <= float(condition["max"])).to_numpy()
        text = values.astype("string")
        if "in" in condition:
            mask &= text.isin(_as_list(condition["in"])).fillna(False).to_numpy(dtype=bool)
        if "not" in condition:
            mask &= ~text.isin(_as_list(condition["not"])).fillna(False).to_numpy(dtype=bool)
        return mask
    return present & values.astype("string").isin(_as_list(condition)).fillna(False).to_numpy(dtype=bool)


def _fill(template: str, row: dict) -> str:
    try:
        return template.format(**row)
    except (KeyError, ValueError, IndexError):  # a field the customer lacks, or a format that does not fit it
        return template


def evaluate_offers(customers: pd.DataFrame, rules: list[OfferRule]) -> pd.DataFrame:
    """One row per (customer, matching rule): customer_id, offer, rule, reason."""
    rows = []
    records = customers.to_dict("records")
    for rule in rules:
        mask = np.ones(len(customers), dtype=bool)
        for field_name, condition in rule.when.items():
            values = customers[field_name] if field_name in customers else pd.Series(pd.NA, index=customers.index)
            mask &= condition_mask(values, condition)
        for i in np.flatnonzero(mask):
            record = records[i]
            rows.append({"customer_id": record.get("customer_id"), "offer": _fill(rule.offer, record), "rule": rule.name,
                         "reason": _fill(rule.reason, record)})
    return pd.DataFrame(rows, columns=["customer_id", "offer", "rule", "reason"])
