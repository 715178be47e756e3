"""The abuse use cases the CLI, the benchmark and the server call: simulate, train, score."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from niaga.abuse import features as feats
from niaga.abuse import schema
from niaga.abuse.model import AbuseModel, entity_matrix, ring_lift
from niaga.abuse.rules import RuleSet, load_rules
from niaga.abuse.schema import ACCOUNT_TYPOLOGIES, SELLER_TYPOLOGIES, Marketplace
from niaga.errors import DataError

OUTPUT_COLUMNS = ("entity_type", "entity_id", "score", "typology", "ring_id", "decision", "reasons")
ENTITY_TYPOLOGIES = {"account": ACCOUNT_TYPOLOGIES, "seller": SELLER_TYPOLOGIES}


def usable(market: Marketplace) -> dict[str, pd.DataFrame]:
    return {name: market.table(name) for name in market.tables if name != "labels"}


def label_vectors(labels: pd.DataFrame | None, ids: pd.Index, entity: str) -> dict[str, np.ndarray]:
    out = {}
    for typology in ENTITY_TYPOLOGIES[entity]:
        if labels is None or not len(labels):
            out[typology] = np.zeros(len(ids), int)
            continue
        mine = labels[(labels["entity_type"].astype(str) == entity) & (labels["typology"].astype(str) == typology)]
        out[typology] = ids.isin(set(mine["entity_id"].astype(str))).astype(int)
    return out


def matrices(features: feats.Features, rules: RuleSet, kind: str) -> tuple[dict, dict]:
    """typology → entity matrix, and entity → fired rules."""
    fired = {"account": rules.fired(features.accounts, "account"), "seller": rules.fired(features.sellers, "seller")}
    frames = {"account": features.accounts, "seller": features.sellers}
    out = {}
    for entity, typologies in ENTITY_TYPOLOGIES.items():
        matrix = entity_matrix(frames[entity], fired[entity], kind)
        for typology in typologies:
            out[typology] = matrix
    return out, fired


def train(data: Marketplace, kind: str = "stacked", rules: RuleSet | None = None, params: dict | None = None,
          log: Callable[[str], None] = lambda m: None) -> tuple[AbuseModel, dict]:
    """Fit one booster per typology on the export's labels; the model carries the export as its state."""
    if "labels" not in data.tables or not len(data.table("labels")):
        raise DataError("training needs a labels table (entity_type, entity_id, typology) in the data folder")
    rules = rules or load_rules()
    tables = usable(data)
    features = feats.build(tables)
    X, _ = matrices(features, rules, kind)
    labels = data.table("labels")
    y = {**label_vectors(labels, features.accounts.index, "account"),
         **label_vectors(labels, features.sellers.index, "seller")}
    log(f"features: {len(features.accounts):,} accounts, {len(features.sellers):,} sellers; positives: "
        + ", ".join(f"{t} {int(v.sum())}" for t, v in y.items()))
    by_rules = rule_scores(features, rules)[0]
    floor = {t: by_rules[entity][t].to_numpy() for entity, typologies in ENTITY_TYPOLOGIES.items() for t in typologies}
    model = AbuseModel(kind=kind, **(params or {})).fit(X, y, state=tables, rule_scores=floor)
    for typology, check in model.validation_.items():
        log(f"{typology}: {check['uses']} ("
            + (f"out-of-fold average precision {check['model_ap']:.3f} with the model, {check['rules_ap']:.3f} "
               "rules alone)" if "model_ap" in check else check["reason"] + ")"))
    metrics = {"positives": {t: int(v.sum()) for t, v in y.items()}, "accounts": len(features.accounts),
               "sellers": len(features.sellers), "validation": model.validation_}
    return model, metrics


def rule_scores(features: feats.Features, rules: RuleSet) -> tuple[dict, dict, dict]:
    """entity → per-typology rule score frame, fired rules, readable reasons."""
    out, fired, reasons = {}, {}, {}
    for entity, frame in (("account", features.accounts), ("seller", features.sellers)):
        fired[entity] = rules.fired(frame, entity)
        out[entity] = rules.scores(fired[entity], entity).reindex(columns=list(ENTITY_TYPOLOGIES[entity])).fillna(0.0)
        reasons[entity] = rules.reasons(fired[entity])
    return out, fired, reasons


def score_entities(features: feats.Features, rules: RuleSet, model: AbuseModel | None = None) -> dict[str, pd.DataFrame]:
    """entity → frame of per-typology scores (0-1): the rules' alone, or the model's stacked on them."""
    by_rules, fired, _ = rule_scores(features, rules)
    if model is None:
        return by_rules
    X, _ = matrices(features, rules, model.kind)
    predicted = model.predict_scores(X)
    out = {}
    for entity, frame in (("account", features.accounts), ("seller", features.sellers)):
        table = by_rules[entity].copy()
        for typology in ENTITY_TYPOLOGIES[entity]:
            if typology in predicted and model.validation_.get(typology, {}).get("uses", "model") == "model":
                value = predicted[typology]
                if model.kind == "stacked":
                    # the ring scored as a whole; the rules stay a floor (a critical rule blocks whatever the
                    # model says): with a few dozen labelled cases a month the model alone misses what the rules know
                    value = np.maximum(ring_lift(value, frame["ring"].to_numpy()), table[typology].to_numpy())
                table[typology] = value
        out[entity] = table
    return out


def describe_ring(graph, ring: int) -> str:
    members, links = graph.ring_members(ring)
    kinds = links.drop_duplicates(["kind", "value"])["kind"].value_counts()
    return f"ring of {len(members)} accounts sharing " + ", ".join(f"{n} {k}{'s' if n > 1 else ''}"
                                                                   for k, n in kinds.items())


def score(data: Marketplace, model: AbuseModel | None = None, history: Marketplace | None = None,
          rules: RuleSet | None = None, orders: bool = True, features: feats.Features | None = None
          ) -> tuple[pd.DataFrame, list[str]]:
    """One row per scored account and seller (and per order placed in a flagged takeover), with
    ``OUTPUT_COLUMNS`` plus the score of every typology; and summary lines. ``features``: already built
    (``build_features``), to score one export with several models."""
    rules = rules or load_rules()
    if features is None:
        features = build_features(data, model, history)
    scores = score_entities(features, rules, model)
    _, _, reasons = rule_scores(features, rules)
    rows = []
    ring_text: dict[int, str] = {}
    for entity, frame in (("account", features.accounts), ("seller", features.sellers)):
        table = scores[entity]
        values = table.to_numpy(float)
        best = values.argmax(axis=1) if values.shape[1] else np.zeros(len(table), int)
        top = values.max(axis=1) if values.shape[1] else np.zeros(len(table))
        typology = np.array(table.columns, dtype=object)[best] if values.shape[1] else np.full(len(table), None)
        decision = rules.decide(top, typology)
        ring = frame["ring"].to_numpy()
        flagged = decision != "approve"
        # a ring is a case when a member scores at the review threshold or above (a low-score OTP makes no case)
        ring_id = np.where((top >= rules.thresholds["review"]) & (ring >= 0), np.char.add("ring-", ring.astype(str)),
                           None)
        text = []
        for i in range(len(table)):
            parts = list(reasons[entity][i]) if flagged[i] else []
            if model is not None and flagged[i] and typology[i] in model.boosters_:
                parts.insert(0, f"model: {typology[i]} score {top[i]:.2f}")
            if flagged[i] and ring[i] >= 0:
                if ring[i] not in ring_text:
                    ring_text[ring[i]] = describe_ring(features.graph, int(ring[i]))
                parts.append(ring_text[ring[i]])
            text.append("; ".join(parts))
        part = pd.DataFrame({"entity_type": entity, "entity_id": table.index.to_numpy(object), "score": top.round(4),
                             "typology": np.where(flagged, typology, None), "ring_id": ring_id, "decision": decision,
                             "reasons": text})
        for t in table.columns:
            part[f"score_{t}"] = table[t].to_numpy().round(4)
        rows.append(part)
    result = ring_members_of_sellers(pd.concat(rows, ignore_index=True), features)
    if orders:
        result = pd.concat([result, takeover_orders(features, result)], ignore_index=True)
    result = result.sort_values(["score", "entity_type"], ascending=[False, True], kind="stable").reset_index(drop=True)
    summary = data.summary()
    summary.append(f"period {features.period[0]:%Y-%m-%d %H:%M} to {features.period[1]:%Y-%m-%d %H:%M}; "
                   f"{len(features.accounts):,} accounts, {len(features.sellers):,} sellers scored with "
                   + ("the rules and the entity graph only (no --model: no labels learned)" if model is None
                      else f"the model ({model.kind}) stacked on the rules and the entity graph"))
    counts = result[result["decision"] != "approve"].groupby(["entity_type", "typology"]).size()
    summary.append("flagged: " + (", ".join(f"{n:,} {e} {t}" for (e, t), n in counts.items()) or "none"))
    return result, summary


def ring_members_of_sellers(result: pd.DataFrame, features: feats.Features) -> pd.DataFrame:
    """A seller flagged for brushing with a ring (its own account or its bursts' buyers linked) brings the ring's
    accounts into the case: they are the seller's fake buyers, scored and decided with it."""
    sellers = result[(result["entity_type"] == "seller") & result["ring_id"].notna() & (result["typology"] == "brushing")]
    if not len(sellers):
        return result
    by_ring = sellers.drop_duplicates("ring_id").set_index("ring_id")
    accounts = result["entity_type"].eq("account").to_numpy()
    ring_of = pd.Series(features.accounts["ring"].to_numpy(), index=features.accounts.index)
    member_ring = np.char.add("ring-", ring_of.reindex(result["entity_id"]).fillna(-1).astype(int).astype(str).to_numpy())
    lift = accounts & np.isin(member_ring, by_ring.index.to_numpy()) & (result["score"].to_numpy() < np.asarray(
        by_ring["score"].reindex(member_ring).fillna(2.0).to_numpy(), float))
    if lift.any():
        seller = by_ring.reindex(member_ring[lift])
        result = result.copy()
        idx = np.flatnonzero(lift)
        result.loc[idx, "score"] = seller["score"].to_numpy()
        result.loc[idx, "typology"] = seller["typology"].to_numpy()
        result.loc[idx, "decision"] = seller["decision"].to_numpy()
        result.loc[idx, "ring_id"] = member_ring[lift]
        result.loc[idx, "reasons"] = [f"buyer account in {r} of seller {e} ({t})" for r, e, t in
                                      zip(member_ring[lift], seller["entity_id"], seller["typology"])]
    return result


def build_features(data: Marketplace, model: AbuseModel | None = None, history: Marketplace | None = None
                   ) -> feats.Features:
    """The export's features against the model's state plus ``history``."""
    state = dict(model.state_) if model is not None else {}
    if history is not None:
        for name, frame in usable(history).items():
            state[name] = pd.concat([state[name], frame], ignore_index=True) if name in state else frame
    state = {k: v for k, v in state.items() if k != "labels"}
    return feats.build(usable(data), state or None)


def takeover_orders(features: feats.Features, entities: pd.DataFrame) -> pd.DataFrame:
    """Orders placed within 48 h of a security change on an account flagged for takeover."""
    ato = entities[(entities["entity_type"] == "account") & (entities["typology"] == "account_takeover")]
    O = features.orders
    hit = O[O["after_change"] & O["account_id"].isin(set(ato["entity_id"]))]
    if not len(hit):
        return pd.DataFrame(columns=entities.columns)
    by = ato.set_index("entity_id")
    return pd.DataFrame({"entity_type": "order", "entity_id": hit["order_id"].to_numpy(object),
                         "score": by.loc[hit["account_id"], "score"].to_numpy(), "typology": "account_takeover",
                         "ring_id": by.loc[hit["account_id"], "ring_id"].to_numpy(),
                         "decision": by.loc[hit["account_id"], "decision"].replace({"otp": "review"}).to_numpy(),
                         "reasons": [f"placed {h:.0f} h after a security change on account {a}, flagged for takeover"
                                     for h, a in zip(hit["hours_after_change"], hit["account_id"])]})


def load_data(directory) -> Marketplace:
    return schema.load(Path(directory))
