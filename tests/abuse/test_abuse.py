"""niaga abuse on small simulated marketplaces: the simulator's contract, loading others' data, the address
normalizer, rules, the entity graph, train and score through the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niaga.abuse import pipeline, schema
from niaga.abuse.address import normalize_address
from niaga.abuse.graph import EntityGraph
from niaga.abuse.rules import load_rules, parse
from niaga.abuse.simulate import TABLES, simulate, split_period, write
from niaga.cli import main
from niaga.errors import DataError


@pytest.fixture(scope="module")
def market():
    return simulate(accounts=600, days=40, seed=3)


@pytest.fixture(scope="module")
def market_dir(tmp_path_factory, market):
    out = tmp_path_factory.mktemp("market")
    write(market, out, "csv")
    return out


def test_simulator_writes_the_contract(market):
    for name in TABLES:
        required, optional = schema.SCHEMA[name]
        assert set(required) | set(optional) <= set(market[name].columns), name
    labels = market["labels"]
    assert set(labels["typology"]) == set(schema.TYPOLOGIES)
    assert labels["entity_id"].isin(set(market["accounts"]["account_id"]) | set(market["sellers"]["seller_id"])).all()
    # ids say nothing about who is who: abusive and honest accounts are interleaved
    ids = market["accounts"]["account_id"].sort_values().reset_index(drop=True)
    bad = ids.isin(set(labels["entity_id"]))
    assert 0.05 < bad[: len(ids) // 2].sum() / max(bad.sum(), 1) < 0.95
    # look-alikes: a household shares an address; carrier NAT puts many honest accounts on one IP
    per_ip = market["logins"].groupby("ip")["account_id"].nunique()
    assert per_ip.max() > 50
    # the same place written in variant forms
    keys = market["orders"]["shipping_address"].map(normalize_address)
    assert (market["orders"].groupby(keys)["shipping_address"].nunique() > 1).any()


def test_simulator_is_seeded():
    a, b = simulate(300, 21, seed=7), simulate(300, 21, seed=7)
    pd.testing.assert_frame_equal(a["orders"], b["orders"])


def test_address_normalizer_joins_variant_forms():
    key = normalize_address("Jl. Mawar No. 5")
    assert key == normalize_address("jalan mawar no5") == normalize_address("JALAN MAWAR 5")
    assert normalize_address("Jl. Mawar No. 5 RT 02/RW 03, Bandung") == normalize_address("jln mawar nomor 5 bandung")
    assert normalize_address("Jl. Mawar No. 15") != key
    assert normalize_address(None) is None


def test_loader_reads_any_column_order_and_keeps_bad_rows(tmp_path, market):
    orders = market["orders"].head(200).copy()
    orders = orders[list(reversed(orders.columns))].rename(columns={"order_id": "ORDER_ID"})
    orders["extra_note"] = "x"
    orders = orders.astype({"time": object, "amount": object})
    orders.loc[orders.index[3], "time"] = "not a time"
    orders.loc[orders.index[4], "amount"] = None
    orders.to_csv(tmp_path / "orders.csv", index=False)
    market["accounts"].to_csv(tmp_path / "accounts.csv", index=False)
    logins = market["logins"].drop(columns=["device_id"])
    logins.to_csv(tmp_path / "logins.csv", index=False)
    loaded = schema.load(tmp_path)
    assert len(loaded.tables["orders"]) == 200 and "extra_note" in loaded.tables["orders"].columns
    assert len(loaded.table("orders")) == 198
    bad = loaded.malformed()
    assert set(bad["row"]) == {5, 6} and "time: not a date-time" in set(bad["problem"])
    summary = "\n".join(loaded.summary())
    assert "refunds: missing" in summary and "logins.device_id: missing" in summary
    result, _ = pipeline.score(loaded)
    assert set(result["entity_type"]) <= {"account", "seller", "order"} and len(result)


def test_loader_refuses_a_folder_without_orders(tmp_path):
    with pytest.raises(DataError, match="orders"):
        schema.load(tmp_path)


def test_rules_yaml_errors_name_the_rule():
    with pytest.raises(DataError, match="R9"):
        parse("rules:\n  - {id: R9, typology: promo_abuse, entity: account, severity: high, when: ['x ~ 3']}")
    rules = load_rules()
    assert {r.typology for r in rules.rules} == set(schema.TYPOLOGIES)
    assert any("Shopee" in r.reason for r in rules.rules)


def test_graph_links_shared_entities_and_ignores_nat():
    accounts = pd.DataFrame({"account_id": list("abcdef"), "created_at": pd.Timestamp("2026-01-01"),
                             "phone": ["1", "2", "3", "4", "5", "6"]})
    orders = pd.DataFrame({"order_id": list("123456"), "account_id": list("abcdef"), "seller_id": "s",
                           "time": pd.Timestamp("2026-01-02"), "amount": 1,
                           "shipping_address": ["Jl. Mawar No. 5", "jalan mawar no5", "Jl. Melati 3", "x", "y", "z"],
                           "ip": ["9.9.9.9"] * 6, "payment_account": [None, None, "p", "p", None, None]})
    graph = EntityGraph().fit({"accounts": accounts, "orders": orders})
    ring = dict(zip(graph.accounts_, graph.ring_))
    assert ring["a"] == ring["b"] >= 0 and ring["c"] == ring["d"] >= 0 and ring["a"] != ring["c"]
    assert ring["e"] == ring["f"] == -1  # one IP shared by six: down-weighted, links no one


def test_rules_only_scoring_finds_every_typology(market):
    result, summary = pipeline.score(schema.from_frames(market))
    assert "rules and the entity graph only" in " ".join(summary)
    labels = market["labels"]
    for typology in schema.TYPOLOGIES:
        entity = "seller" if typology in schema.SELLER_TYPOLOGIES else "account"
        truth = set(labels[(labels["typology"] == typology) & (labels["entity_type"] == entity)]["entity_id"])
        flagged = result[(result["entity_type"] == entity) & (result["typology"] == typology)]
        found = len(truth & set(flagged["entity_id"])) / len(truth)
        assert found >= 0.5, (typology, found)
    assert set(result["decision"]) <= {"approve", "otp", "review", "block"}
    flagged = result[result["decision"] != "approve"]
    assert flagged["reasons"].str.len().gt(0).all()


def test_cli_simulate_train_score(tmp_path):
    data, model, out = tmp_path / "m", tmp_path / "model", tmp_path / "scored.csv"
    assert main(["abuse", "simulate", "--out", str(data), "--accounts", "500", "--days", "40", "--seed", "1"]) == 0
    first, second = split_period({name: pd.read_parquet(data / f"{name}.parquet") for name in (*TABLES, "labels")},
                                 pd.Timestamp("2026-10-15") + pd.Timedelta(days=20))
    write(first, tmp_path / "m1")
    write({k: v for k, v in second.items() if k != "labels"}, tmp_path / "m2")
    assert main(["abuse", "train", "--data", str(tmp_path / "m1"), "--out", str(model),
                 "--param", "n_estimators=30"]) == 0
    assert not list(model.glob("*.pkl")) and (model / "state" / "orders.parquet").exists()
    assert main(["abuse", "score", "--model", str(model), "--data", str(tmp_path / "m2"), "--output", str(out),
                 "--history", str(tmp_path / "m1")]) == 0
    result = pd.read_csv(out)
    assert list(result.columns[:7]) == list(pipeline.OUTPUT_COLUMNS)
    assert result["score"].between(0, 1).all()
    assert {"account", "seller"} <= set(result["entity_type"])


def test_cli_score_without_model_says_so_and_lists_bad_rows(tmp_path, market_dir, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(market_dir, data)
    orders = pd.read_csv(data / "orders.csv", dtype=str)
    orders.loc[2, "amount"] = "lots"
    orders.drop(columns=["payment_account"]).to_csv(data / "orders.csv", index=False)
    (data / "reviews.csv").unlink()
    out = tmp_path / "s.parquet"
    assert main(["abuse", "score", "--data", str(data), "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert "rules and the entity graph only" in err
    assert "reviews: missing" in err and "orders.payment_account: missing" in err
    bad = pd.read_csv(tmp_path / "s.malformed.csv")
    assert bad.to_dict("records")[0] == {"table": "orders", "row": 4, "problem": "amount: not a number",
                                         "left_out": True}
    assert len(pd.read_parquet(out))


def test_label_propagation_reaches_linked_accounts_only():
    from niaga.abuse.propagation import LabelPropagation

    accounts = pd.DataFrame({"account_id": list("abcd"), "created_at": pd.Timestamp("2026-01-01")})
    orders = pd.DataFrame({"order_id": list("1234"), "account_id": list("abcd"), "seller_id": "s",
                           "time": pd.Timestamp("2026-01-02"), "amount": 1,
                           "payment_account": ["p", "p", "q", "r"]})
    graph = EntityGraph().fit({"accounts": accounts, "orders": orders})
    scores = LabelPropagation().fit({"promo_abuse": {"a"}}).score(graph, ["a", "b", "c", "d"])["promo_abuse"]
    assert scores[0] > scores[1] > 0 and scores[2] == scores[3] == 0


def test_sequence_model_reads_event_sequences(market):
    from niaga.abuse import sequence

    frames = {k: v for k, v in schema.from_frames(market).tables.items() if k != "labels"}
    frames = {k: v[v["_problem"].isna()] for k, v in frames.items()}
    events = sequence.events(frames)
    ids = pd.Index(pd.unique(events["account_id"]))
    X = sequence.sequences(events, ids, length=8)
    assert X.shape == (len(ids), 8, sequence.WIDTH + 1) and np.abs(X).sum() > 0
    labels = market["labels"]
    y = ids.isin(set(labels[labels["typology"] == "account_takeover"]["entity_id"]))
    scores = sequence.SequenceModel(epochs=2).fit(X, y).predict_proba(X)
    assert scores.shape == (len(ids),) and ((scores >= 0) & (scores <= 1)).all()
