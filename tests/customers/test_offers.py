"""Offer rules from YAML: conditions, reasons filled from the customer, errors that name the rule."""

import pandas as pd
import pytest

from niaga.customers.offers import evaluate_offers, load_offers
from niaga.errors import DataError

RULES = """
offers:
  - name: welcome
    offer: free shipping
    when: {segment: new}
    reason: "first order {tenure_days} days ago"
  - name: win back
    offer: cashback voucher
    when: {segment: [at risk, cannot lose], monetary: {min: 100}}
    reason: "{segment}, silent for {recency} days"
  - name: abroad
    offer: cheaper international shipping
    when: {country: {not: [United Kingdom]}}
    reason: "ships to {country}"
"""

CUSTOMERS = pd.DataFrame({
    "customer_id": ["a", "b", "c", "d"], "segment": ["new", "at risk", "at risk", "champions"],
    "monetary": [20.0, 500.0, 50.0, 900.0], "recency": [3, 120, 200, 1], "tenure_days": [3, 300, 400, 365],
    "country": ["United Kingdom", "France", "United Kingdom", None],
})


def test_rules_match_with_reasons(tmp_path):
    path = tmp_path / "offers.yaml"
    path.write_text(RULES)
    offers = evaluate_offers(CUSTOMERS, load_offers(path))
    got = {(r.customer_id, r.offer): r.reason for r in offers.itertuples()}
    assert got == {("a", "free shipping"): "first order 3 days ago",
                   ("b", "cashback voucher"): "at risk, silent for 120 days",
                   ("b", "cheaper international shipping"): "ships to France"}  # c spent too little; d's country unknown


def test_default_rules_load_and_cover_new_and_at_risk_customers():
    offers = evaluate_offers(CUSTOMERS.assign(preferred_promotion="free shipping"), load_offers())
    by_customer = offers.groupby("customer_id")["offer"].apply(set)
    assert any("free shipping" in o for o in by_customer["a"]) and any("cashback" in o for o in by_customer["b"])


@pytest.mark.parametrize("text, message", [
    ("offers: [{offer: x, when: {segmnt: new}}]", "rule 1: unknown field 'segmnt'"),
    ("offers: [{name: y}]", "rule 1: each rule needs at least 'offer'"),
    ("offers: [{offer: x, when: {monetary: {above: 3}}}]", "rule 1: field 'monetary' uses ['above']"),
    ("rules: []", "expected a top-level 'offers:' list"),
    ("offers: [unclosed", "not valid YAML"),
])
def test_bad_rule_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_offers(path)
