"""The transaction schema (both datasets' columns, per-row validation) and the YAML rules and decisions."""

import numpy as np
import pandas as pd
import pytest

from niaga.errors import DataError
from niaga.fraud.features import FeatureConfig
from niaga.fraud.rules import RECORD_FIELDS, load_rules, parse_rules
from niaga.fraud.schema import normalize, problems_table, read_transactions

from .conftest import ecommerce_like

NAMES = FeatureConfig().names


def test_both_datasets_map_onto_one_schema(stream):
    handbook = normalize(stream.head(50))
    assert handbook["terminal_id"].notna().all() and handbook["device_id"].isna().all()
    assert handbook["label"].isin([0, 1]).all() and (handbook["error"] == "").all()
    shop = normalize(ecommerce_like(30))
    assert shop["terminal_id"].isna().all() and shop["device_id"].notna().all()
    # one purchase per user and no transaction id: the user id serves as both
    assert (shop["transaction_id"] == shop["customer_id"]).all()
    assert (shop["ts"] - shop["signup_ts"] >= 0).all()


def test_bad_rows_are_reported_with_row_field_and_reason():
    frame = pd.DataFrame({"transaction_id": [1, 2, 2, None, 5, 6],
                          "timestamp": ["2018-01-01 10:00", "not a time", "2018-01-02", "", "2018-01-03", "2018-01-03"],
                          "customer_id": ["a", "b", None, "c", "d", "e"], "amount": [1, -5, "abc", None, 3, 4],
                          "terminal_id": [1, 2, 3, 4, None, 6]})
    canonical = normalize(frame, "bad.csv")
    assert len(canonical) == len(frame)
    problems = problems_table(canonical)
    found = {(r.row, r.field, r.reason) for r in problems.itertuples()}
    # rows are the file's lines, header = 1
    assert {(3, "timestamp", "cannot parse 'not a time'"), (3, "amount", "negative -5.0"),
            (4, "customer_id", "missing"), (4, "transaction_id", "duplicate of row 3"),
            (4, "amount", "not a number 'abc'"), (5, "transaction_id", "missing"), (5, "timestamp", "missing"),
            (5, "amount", "missing"), (6, "terminal_id", "missing")} <= found
    assert canonical.loc[[0, 5], "error"].tolist() == ["", ""]


def test_a_missing_required_column_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match=r"x.csv: no column for amount: one of amount, tx_amount"):
        normalize(pd.DataFrame({"transaction_id": [1], "timestamp": ["2018-01-01"], "customer_id": [1]}), "x.csv")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (a, b):
        pd.DataFrame({"transaction_id": [7], "timestamp": ["2018-01-01"], "customer_id": [1], "amount": [2]}).to_csv(
            path, index=False)
    canonical, _ = read_transactions([a, b])
    assert canonical["error"].tolist() == ["", "transaction_id: duplicate of an earlier file's row"]


def fired(rules, values: dict, fields: dict | None = None, score: float = 0.01):
    """Fire the rules on one transaction given as feature values (others missing) and fields."""
    row = [values.get(name, None if name in ("country", "source", "browser", "sex") else np.nan) for name in NAMES]
    fields = {"transaction_id": "t", "customer_id": "c1", "terminal_id": None, "device_id": None,
              "ip_address": np.nan, **(fields or {})}
    hits = rules.fire(row, tuple(fields[f] for f in RECORD_FIELDS))
    return [rules.rules[i].id for i in hits], rules.decide(score, hits)


def test_the_seed_rules_are_expressible_and_fire():
    rules = load_rules().compile(NAMES)
    assert fired(rules, {"customer_sum_amount_1h": 12_000_000})[0] == ["R01_AMOUNT_1H"]
    assert fired(rules, {"customer_nb_tx_2min": 10}) == (["R02_VELOCITY_2MIN"], "review")
    assert fired(rules, {"customer_nb_tx_2min": 9}) == ([], "approve")
    assert fired(rules, {"customer_new_device": 1, "amount": 6_000_000}) == (["R03_NEW_DEVICE_BIG_AMOUNT"], "challenge")
    assert fired(rules, {"customer_new_device": 0, "amount": 6_000_000})[0] == []


def test_blacklist_blocks_and_whitelist_approves_unless_critical():
    rules = parse_rules("""
lists: {bad_devices: [DEV9], vip: [c1, 42]}
rules:
  - {id: BL, severity: critical, reason: blacklisted device, when: "device_id in bad_devices"}
  - {id: WL, severity: allow, reason: VIP customer, when: ["customer_id in vip"]}
  - {id: BIG, severity: high, reason: big, when: ["amount >= 100"]}
""").compile(NAMES)
    assert fired(rules, {"amount": 150}, {"customer_id": "c2"}) == (["BIG"], "review")
    assert fired(rules, {"amount": 150}) == (["WL", "BIG"], "approve")
    assert fired(rules, {"amount": 1}, {"customer_id": 42.0})[1] == "approve"  # ids compare as text
    assert fired(rules, {"amount": 1}, {"device_id": "DEV9"}) == (["BL", "WL"], "block")
    assert fired(rules, {"amount": np.nan}, {"customer_id": "c2"}) == ([], "approve")  # missing never fires
    assert [rules.decide(s, []) for s in (0.1, 0.35, 0.7, 0.95, np.nan)] == ["approve", "challenge", "review",
                                                                             "block", "approve"]


@pytest.mark.parametrize("text, message", [
    ("rules: [{id: A, severity: high, when: 'nosuch > 1'}]", "rule A: unknown field 'nosuch'"),
    ("rules: [{id: A, severity: huge, when: 'amount > 1'}]", "rule A: severity must be one of"),
    ("rules: [{id: A, severity: high, when: 'amount is big'}]", "rule A: cannot read condition 'amount is big'"),
    ("rules: [{id: A, severity: high, when: 'customer_id in nolist'}]", "rule A: in needs a list name"),
    ("rules: [{id: A, severity: high, when: 'country > 3'}]", "rule A: 'country' is compared as text"),
    ("rules: [{id: A, severity: high, when: \"amount > __import__('os')\"}]", "compared as text"),
    ("decision: {thresholds: {challenge: 0.9, review: 0.5, block: 0.95}}", "challenge <= review <= block"),
    ("rules: [{id: A, severity: high, when: 'amount > 1'}, {id: A, severity: low, when: 'amount > 2'}]",
     "rule A: id used twice"),
])
def test_bad_rule_files_name_the_rule_and_the_problem(text, message):
    with pytest.raises(DataError, match=message):
        parse_rules(text, "my.yaml").compile(NAMES)


@pytest.mark.parametrize("text,message", [
    ("rules: 5\n", "'rules' must be a list"),
    ("decision: [1]\n", "'decision' must be a mapping"),
    ("decision:\n  thresholds: 0.5\n", "decision: 'thresholds' must be a mapping"),
    ("lists: [a, b]\n", "'lists' must be a mapping"),
    ("rule:\n  - id: x\n", "unknown top-level key"),
])
def test_rules_yaml_of_the_wrong_shape_is_one_clear_error(text, message):
    with pytest.raises(DataError, match=message):
        parse_rules(text, "my_rules.yaml")
