"""Readable abuse rules per typology (YAML) and the policy that turns a score into a decision.

A rule names its typology, the entity it reads (account or seller), a severity, a reason and conditions
``<feature> <op> <number>``; all must hold. Rules run vectorized over the feature frames of
``niaga.abuse.features``: one pass per rule over every entity.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from niaga.abuse.schema import TYPOLOGIES
from niaga.errors import DataError

OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt}
CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(-?[0-9.]+)\s*$")
DEFAULT_SEVERITY = {"low": 0.30, "medium": 0.50, "high": 0.75, "critical": 0.95}
DEFAULT_THRESHOLDS = {"otp": 0.30, "review": 0.60, "block": 0.90}


def default_rules_path() -> Path:
    return Path(str(resources.files("niaga") / "resources" / "abuse_rules.yaml"))


@dataclass
class Rule:
    id: str
    typology: str
    entity: str
    severity: str
    reason: str
    conditions: list[tuple[str, str, float]]


@dataclass
class RuleSet:
    rules: list[Rule]
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    severity_score: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    otp_first: tuple[str, ...] = ("account_takeover",)
    text: str = ""

    def fired(self, frame: pd.DataFrame, entity: str) -> pd.DataFrame:
        """One boolean column per rule of ``entity`` (missing features: the rule cannot fire)."""
        out = {}
        for rule in self.rules:
            if rule.entity != entity:
                continue
            hit = np.ones(len(frame), bool)
            for name, op, value in rule.conditions:
                if name not in frame.columns:
                    hit[:] = False
                    break
                hit &= OPS[op](frame[name].to_numpy(float), value)
            out[rule.id] = hit
        return pd.DataFrame(out, index=frame.index)

    def scores(self, fired: pd.DataFrame, entity: str) -> pd.DataFrame:
        """Per typology: the highest severity score of the rules that fired, plus 0.01 per further rule."""
        out = {}
        for typology in TYPOLOGIES:
            ids = [r.id for r in self.rules if r.entity == entity and r.typology == typology and r.id in fired]
            if not ids:
                continue
            weights = np.array([self.severity_score[r.severity] for r in self.rules if r.id in ids])
            hits = fired[ids].to_numpy(bool)
            best = np.where(hits, weights, 0.0).max(axis=1)
            out[typology] = np.minimum(0.99, best + 0.01 * np.maximum(hits.sum(axis=1) - 1, 0))
        return pd.DataFrame(out, index=fired.index)

    def reasons(self, fired: pd.DataFrame) -> list[list[str]]:
        """Per entity: "RULE_ID: reason" of every rule that fired, most severe first."""
        order = sorted((r for r in self.rules if r.id in fired), key=lambda r: -self.severity_score[r.severity])
        hits = fired[[r.id for r in order]].to_numpy(bool) if order else np.zeros((len(fired), 0), bool)
        return [[f"{order[j].id}: {order[j].reason}" for j in np.flatnonzero(row)] for row in hits]

    def decide(self, score: np.ndarray, typology: np.ndarray) -> np.ndarray:
        """approve / otp / review / block from the score. A typology in ``otp_first`` (takeover) gets an OTP instead
        of a review below the block threshold: the owner passes it, the attacker does not."""
        score = np.asarray(score, float)
        out = np.full(len(score), "approve", dtype=object)
        for decision in ("otp", "review", "block"):
            out[score >= self.thresholds[decision]] = decision
        out[(out == "review") & np.isin(np.asarray(typology, dtype=object), self.otp_first)] = "otp"
        return out


def parse(text: str, source: str = "rules") -> RuleSet:
    try:
        spec = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"{source}: not valid YAML ({exc})") from exc
    decision = spec.get("decision") or {}
    rules = []
    for n, item in enumerate(spec.get("rules") or [], 1):
        where = f"{source}: rule {n} ({item.get('id', '?')})"
        for key in ("id", "typology", "entity", "severity", "when"):
            if key not in item:
                raise DataError(f"{where}: '{key}' is missing")
        if item["typology"] not in TYPOLOGIES:
            raise DataError(f"{where}: typology must be one of {', '.join(TYPOLOGIES)}")
        if item["entity"] not in ("account", "seller"):
            raise DataError(f"{where}: entity must be account or seller")
        conditions = []
        for condition in item["when"]:
            match = CONDITION.match(str(condition))
            if not match:
                raise DataError(f"{where}: condition {condition!r} is not '<feature> <op> <number>'")
            conditions.append((match[1], match[2], float(match[3])))
        rules.append(Rule(str(item["id"]), item["typology"], item["entity"], str(item["severity"]),
                          str(item.get("reason", item["id"])), conditions))
    severity = {**DEFAULT_SEVERITY, **(decision.get("severity_score") or {})}
    for rule in rules:
        if rule.severity not in severity:
            raise DataError(f"{source}: rule {rule.id}: severity must be one of {', '.join(severity)}")
    return RuleSet(rules, {**DEFAULT_THRESHOLDS, **(decision.get("thresholds") or {})}, severity,
                   tuple(decision.get("otp_first") or ()), text)


def load_rules(path=None) -> RuleSet:
    path = Path(path) if path else default_rules_path()
    if not path.is_file():
        raise DataError(f"{path}: rules file not found")
    return parse(path.read_text(encoding="utf-8"), str(path))
