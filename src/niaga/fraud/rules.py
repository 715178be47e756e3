"""Readable fraud rules (YAML) and the decision policy that turns a score and rule hits into an action.

A rule is an id, a severity, a reason and a list of conditions ``<field> <op> <value>`` that must all hold.
Rules are compiled once into plain Python functions, so checking all of them costs a few microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from niaga.errors import DataError
from niaga.fraud.features import CATEGORICAL

DECISIONS = ("approve", "challenge", "review", "block")
SEVERITIES = ("low", "medium", "high", "critical", "allow")
REASON_ORDER = ("critical", "allow", "high", "medium", "low")  # how fired rules are listed in the reasons
DEFAULT_SEVERITY_DECISION = {"low": "approve", "medium": "challenge", "high": "review", "critical": "block"}
DEFAULT_THRESHOLDS = {"challenge": 0.30, "review": 0.60, "block": 0.90}
#: transaction fields a rule may name besides the features (ids are compared as text)
RECORD_FIELDS = ("transaction_id", "customer_id", "terminal_id", "device_id", "ip_address")
CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<|not\s+in|in)\s+(.+?)\s*$")


def default_rules_path() -> Path:
    return Path(str(resources.files("niaga") / "resources" / "fraud_rules.yaml"))


def member_key(value) -> str:
    """How list members and looked-up values are compared: as text, whole numbers without ".0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class Rule:
    id: str
    severity: str
    reason: str
    conditions: list[str]


@dataclass
class RuleSet:
    """The rules, named lists and decision policy of one YAML file, compiled against a feature list."""

    rules: list[Rule]
    lists: dict[str, set]
    thresholds: dict[str, float]
    severity_decision: dict[str, str]
    top_features: int = 3
    source: str = ""
    text: str = ""

    def compile(self, feature_names: list[str]) -> "RuleSet":
        """Turn the rules into one Python function of (feature row, transaction fields) → fired rules.

        Its source is generated from parts that were all checked: a known field (its position), an operator
        from a fixed table, a number (its repr), a quoted text (its repr) or a list name; nothing from the file
        is evaluated as code. Checking every rule then costs about a microsecond per transaction.
        """
        index = {name: i for i, name in enumerate(feature_names)}
        expressions = [" and ".join(self._condition(rule, c, index) for c in rule.conditions) for rule in self.rules]
        order = sorted(range(len(self.rules)), key=lambda i: REASON_ORDER.index(self.rules[i].severity))
        # a rule that needs membership of an empty list can never fire: not worth a test per transaction
        never = {i for i, rule in enumerate(self.rules) for c in rule.conditions
                 if (m := CONDITION.match(str(c))) and m.group(2) == "in" and not self.lists[m.group(3)]}
        body = "".join(f"\n    if {expressions[i]}: fired.append({i})" for i in order if i not in never)
        namespace = {"key": member_key, "lists": self.lists}
        exec(compile(f"def fire(v, r):\n    fired = []{body}\n    return fired", f"<rules {self.source}>", "exec"),
             namespace)  # noqa: S102 (generated from checked parts, see above)
        self._fire = namespace["fire"]
        self._level = [DECISIONS.index(self.severity_decision[r.severity]) if r.severity != "allow" else 0
                       for r in self.rules]
        return self

    def _condition(self, rule: Rule, text: str, index: dict) -> str:
        """The Python expression of one condition; a missing value (None, NaN) never satisfies it."""
        match = CONDITION.match(str(text))
        if not match:
            raise DataError(f"{self.source}: rule {rule.id}: cannot read condition {text!r}; expected "
                            "'<field> <op> <value>' with op one of > >= < <= == != in 'not in'")
        name, op, raw = match.group(1), " ".join(match.group(2).split()), match.group(3)
        if name in index:
            ref, numeric = f"v[{index[name]}]", name not in CATEGORICAL
        elif name in RECORD_FIELDS:
            ref, numeric = f"r[{RECORD_FIELDS.index(name)}]", False
        else:
            known = ", ".join(list(index)[:60] + list(RECORD_FIELDS))
            raise DataError(f"{self.source}: rule {rule.id}: unknown field {name!r}; known fields: {known}")
        present = f"{ref} is not None and {ref} == {ref}"  # not None, not NaN
        if op in ("in", "not in"):
            if raw not in self.lists:
                raise DataError(f"{self.source}: rule {rule.id}: {op} needs a list name from 'lists:', got {raw!r}"
                                f" (lists: {', '.join(self.lists) or 'none'})")
            return f"({present} and key({ref}) {op} lists[{raw!r}])"
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        if isinstance(value, (int, float)) and not isinstance(value, bool) and numeric:
            return f"({present} and {ref} {op} {float(value)!r})"
        if op not in ("==", "!="):
            raise DataError(f"{self.source}: rule {rule.id}: {name!r} is compared as text: use == or != "
                            f"(or 'in' a list), not {op}")
        return f"({present} and key({ref}) {op} {member_key(value)!r})"

    def fire(self, features: list, fields: tuple) -> list[int]:
        """Indices of the rules that fire for one transaction: critical, whitelist, high, medium, low.

        ``features``: its feature row (the compiled ``feature_names`` order); ``fields``: its transaction
        fields in ``RECORD_FIELDS`` order."""
        return self._fire(features, fields)

    def describe(self, fired: list[int]) -> list[str]:
        return [f"{self.rules[i].id}: {self.rules[i].reason}" for i in fired]

    def decide(self, score: float, fired: list[int]) -> str:
        """approve < challenge < review < block: the strongest of what the score and the fired rules ask
        for; an ``allow`` (whitelist) rule approves unless a ``critical`` rule fires. A NaN score asks nothing."""
        t = self.thresholds
        level = 3 if score >= t["block"] else 2 if score >= t["review"] else 1 if score >= t["challenge"] else 0
        allowed = critical = False
        for i in fired:
            severity = self.rules[i].severity
            if severity == "allow":
                allowed = True
            else:
                critical = critical or severity == "critical"
                level = max(level, self._level[i])
        return "approve" if allowed and not critical else DECISIONS[level]


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Read and check a rules YAML (the packaged default when ``path`` is None); errors name the rule."""
    path = Path(path) if path else default_rules_path()
    if not path.exists():
        raise DataError(f"{path}: rules file not found")
    text = path.read_text(encoding="utf-8")
    return parse_rules(text, str(path))


def _section(spec: dict, key: str, kind: type, where: str):
    """``spec[key]`` (empty when absent), refusing a value of the wrong shape with a line that names it."""
    value = spec.get(key)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        shape = "a mapping (name: value lines)" if kind is dict else "a list (lines starting with '-')"
        raise DataError(f"{where}: '{key}' must be {shape}, got {type(value).__name__} {str(value)[:40]!r}")
    return value


def parse_rules(text: str, source: str = "rules") -> RuleSet:
    try:
        spec = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(spec, dict):
        raise DataError(f"{source}: expected a mapping with 'rules', 'lists' and 'decision'")
    unknown = sorted(map(str, set(spec) - {"rules", "lists", "decision"}))
    if unknown:
        raise DataError(f"{source}: unknown top-level key(s) {unknown}; expected 'rules', 'lists' and 'decision'")
    decision = _section(spec, "decision", dict, source)
    thresholds = {**DEFAULT_THRESHOLDS, **_section(decision, "thresholds", dict, f"{source}: decision")}
    if set(thresholds) != set(DEFAULT_THRESHOLDS) or not all(isinstance(v, (int, float)) for v in thresholds.values()):
        raise DataError(f"{source}: decision.thresholds must give numbers for challenge, review and block")
    if not thresholds["challenge"] <= thresholds["review"] <= thresholds["block"]:
        raise DataError(f"{source}: decision.thresholds must satisfy challenge <= review <= block, got {thresholds}")
    severity_decision = {**DEFAULT_SEVERITY_DECISION, **_section(decision, "severity", dict, f"{source}: decision")}
    bad = {k: v for k, v in severity_decision.items() if k not in SEVERITIES or v not in DECISIONS}
    if bad:
        raise DataError(f"{source}: decision.severity: {bad} — severities are {', '.join(SEVERITIES[:4])}, "
                        f"decisions {', '.join(DECISIONS)}")
    lists = {}
    for name, members in _section(spec, "lists", dict, source).items():
        if not isinstance(members, list):
            raise DataError(f"{source}: list {name!r} must be a YAML list")
        lists[str(name)] = {member_key(m) for m in members}
    rules, seen = [], set()
    for i, item in enumerate(_section(spec, "rules", list, source), start=1):
        if not isinstance(item, dict):
            raise DataError(f"{source}: rule #{i} must be a mapping with id, severity, reason and when")
        rule_id = str(item.get("id") or "").strip()
        where = f"{source}: rule {rule_id or '#' + str(i)}"
        if not rule_id:
            raise DataError(f"{where}: missing id")
        if rule_id in seen:
            raise DataError(f"{where}: id used twice")
        seen.add(rule_id)
        if item.get("severity") not in SEVERITIES:
            raise DataError(f"{where}: severity must be one of {', '.join(SEVERITIES)}, got {item.get('severity')!r}")
        when = item.get("when")
        when = [when] if isinstance(when, str) else when
        if not when or not isinstance(when, list):
            raise DataError(f"{where}: 'when' must be a condition or a list of conditions")
        reason = str(item.get("reason") or rule_id)
        rules.append(Rule(rule_id, item["severity"], reason, [str(c) for c in when]))
    return RuleSet(rules, lists, {k: float(v) for k, v in thresholds.items()}, severity_decision,
                   int(decision.get("top_features", 3)), source, text)
