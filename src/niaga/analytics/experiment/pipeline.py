"""The experiment use cases the CLI and the API call: plan a size, assign a user, analyze a table of users (or
the logged events) into one row per experiment, metric and arm against the control."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from niaga.analytics.experiment.analysis import (SRM_ALPHA, benjamini_hochberg, cuped, ratio_lift,
                                                 sequential_p_value, srm_p_value)
from niaga.analytics.experiment.assignment import Split, assign
from niaga.analytics.experiment.design import Plan, users_per_arm
from niaga.errors import DataError

ID_COLUMNS = ("experiment", "user", "variant")
#: names a column of the input may have for each id column (the warehouse's events table says ``user_id``)
ALIASES = {"experiment": ("experiment", "experiment_id", "experiment_name", "test", "test_name"),
           "user": ("user", "user_id", "customer_id", "visitor_id", "userid", "customerid"),
           "variant": ("variant", "arm", "group", "bucket", "variation", "variation_id")}
#: words that name a pre-period column (CUPED's covariate), never a metric
COVARIATE_WORDS = ("pre", "before", "baseline", "previous", "prior", "covariate", "preperiod")
#: event names other logs use for an order (an ingested recommendation log says "purchase")
ORDER_SYNONYMS = {"purchase": "order", "transaction": "order", "checkout": "order", "buy": "order"}
OUTPUT_COLUMNS = ["experiment", "metric", "variant", "users", "rate", "lift", "ci_low", "ci_high", "p_value",
                  "srm_p_value", "control_users", "control_rate", "p_value_adjusted", "sequential_p_value",
                  "significant", "srm", "cuped_covariate", "variance_reduction"]


def plan(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8, std: float | None = None) -> Plan:
    return users_per_arm(baseline, mde, alpha, power, std)


def assign_user(experiment: str, user: str, arms: str | None = None, split: str | None = None,
                salt: str = "") -> dict:
    parsed = Split.parse(arms, split)
    return {"experiment": experiment, "user": user, "variant": assign(experiment, user, parsed, salt),
            "arms": list(parsed.arms), "split": [round(float(s), 6) for s in parsed.shares]}


def _rename_ids(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    renames = {}
    lower = {str(c).lower(): c for c in frame.columns}
    for name, aliases in ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is None and name == "experiment":  # a table of one experiment may not name it
            return _rename_ids(frame.assign(experiment=Path(str(source)).stem or "experiment"), source)
        if found is None:
            raise DataError(f"{source}: no {name!r} column (also read as {', '.join(aliases[1:])}); columns present: "
                            f"{', '.join(map(str, frame.columns[:20]))}")
        if found != name:
            renames[found] = name
    return frame.rename(columns=renames)


def read_data(data: str) -> pd.DataFrame:
    """The table ``analyze`` reads: a file, or the warehouse's logged events (``store:events``, only the columns
    an analysis needs)."""
    from niaga.data.io import read_table

    if data.strip() != "store:events":
        return read_table(data)
    from niaga.config import settings
    from niaga.store import Store
    from niaga.store.tracking import experiment_events

    with Store(settings().store, read_only=True) as store:
        return experiment_events(store)


def users_from_events(events: pd.DataFrame, source: str = "events") -> pd.DataFrame:
    """One row per experiment and user from a log of shown / click / order events: the arm the user was shown
    (events that name an experiment and arm), and what the user did from the first exposure on, whether or not
    the click or order names the experiment: ``clicked`` (any click), ``converted`` (any order) and ``revenue``
    (the orders' value)."""
    events = _rename_ids(events, source)
    events = events[events["user"].notna()]
    kind = events["event"].astype(str).str.lower().replace(ORDER_SYNONYMS)
    times = pd.to_datetime(events["timestamp"], errors="coerce") if "timestamp" in events else pd.Series(
        pd.NaT, index=events.index)
    exposed = events["experiment"].notna() & events["variant"].notna()
    exposures = pd.DataFrame({"experiment": events.loc[exposed, "experiment"].astype(str),
                              "user": events.loc[exposed, "user"].astype(str),
                              "variant": events.loc[exposed, "variant"].astype(str), "first_seen": times[exposed]})
    exposures = exposures.groupby(["experiment", "user", "variant"], sort=False).agg(
        first_seen=("first_seen", "min")).reset_index()
    acted = kind.isin(["click", "order"])
    value = pd.to_numeric(events["value"], errors="coerce") if "value" in events else pd.Series(0.0, index=events.index)
    outcomes = pd.DataFrame({"user": events.loc[acted, "user"].astype(str), "time": times[acted],
                             "clicked": (kind[acted] == "click").astype(np.int8),
                             "converted": (kind[acted] == "order").astype(np.int8),
                             "revenue": np.where(kind[acted] == "order", value[acted].fillna(0.0), 0.0)})
    joined = exposures.merge(outcomes, on="user", how="left")
    before = joined["time"].notna() & joined["first_seen"].notna() & (joined["time"] < joined["first_seen"])
    joined.loc[before, ["clicked", "converted", "revenue"]] = 0  # what the user did before seeing the test
    joined[["clicked", "converted", "revenue"]] = joined[["clicked", "converted", "revenue"]].fillna(0)
    return joined.groupby(["experiment", "user", "variant"], sort=False).agg(
        clicked=("clicked", "max"), converted=("converted", "max"), revenue=("revenue", "sum")).reset_index()


def _metrics(frame: pd.DataFrame, metrics: list[str] | None, covariates: dict[str, str], segment: str | None,
             source: str) -> list[str]:
    if metrics:
        missing = [m for m in metrics if m not in frame.columns]
        if missing:
            raise DataError(f"{source}: no metric column(s) {', '.join(map(repr, missing))}")
        return metrics
    skip = {*ID_COLUMNS, *covariates.values(), segment, "timestamp", "time", "date"}
    found = [c for c in frame.columns if c not in skip and not _covariate_like(c) and _mostly_numeric(frame[c])]
    if not found:
        raise DataError(f"{source}: no numeric metric column (such as converted or revenue) besides "
                        f"{', '.join(ID_COLUMNS)}; columns present: {', '.join(map(str, frame.columns[:20]))}")
    return found


def _mostly_numeric(values: pd.Series) -> bool:
    """A numeric column, or a text column most of whose values are numbers (its other values are errors)."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return True
    present = values.dropna()
    return len(present) > 0 and pd.to_numeric(present, errors="coerce").notna().mean() > 0.5


def _covariate_like(column) -> bool:
    """A pre-period column by its name: pre_revenue, revenue_pre, revenue_before, baseline_orders, ..."""
    return any(word in re.split(r"[^a-z0-9]+", str(column).lower()) for word in COVARIATE_WORDS)


def _covariates(frame: pd.DataFrame, metrics: list[str], covariate: str | None) -> dict[str, str]:
    """metric -> its pre-period column: the one given for all; else a pre-period column naming the metric
    (pre_revenue for revenue); else, when the table has a single pre-period column naming no metric (pre_spend),
    that one for every metric (CUPED stays unbiased with any covariate measured before the test)."""
    if covariate:
        if covariate not in frame.columns:
            raise DataError(f"--covariate: no column {covariate!r}")
        return {m: covariate for m in metrics if m != covariate}
    candidates = [c for c in frame.columns if _covariate_like(c) and _mostly_numeric(frame[c])]
    found = {}
    for metric in metrics:
        named = [c for c in candidates if str(metric).lower() in str(c).lower()]
        if named:
            found[metric] = named[0]
    if not found and len(candidates) == 1:  # one pre-period column that names no metric: for all of them
        found = dict.fromkeys(metrics, candidates[0])
    return found


def _numeric(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    values = frame[column]
    if pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{source}: row {row + 2}, column {column!r}: {values.iloc[row]!r} is not a number")
    return numbers.astype(float)


def _shares(split: dict[str, float] | None, arms: list[str]) -> np.ndarray | None:
    if not split:
        return None
    missing = [a for a in arms if a not in split]
    if missing:
        raise DataError(f"--split: no share for arm(s) {', '.join(missing)} (give NAME=SHARE for each arm)")
    return np.array([split[a] for a in arms], dtype=float)


def analyze(frame: pd.DataFrame, control: str = "control", metrics: list[str] | None = None,
            covariate: str | None = None, segment: str | None = None, split: dict[str, float] | None = None,
            alpha: float = 0.05, planned_users: int | None = None, source: str = "data",
            log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """One row per experiment, (segment,) metric and arm against the control: see ``OUTPUT_COLUMNS``."""
    say = log or (lambda message: None)
    if "event" in frame.columns:
        frame = users_from_events(frame, source)
        say(f"{source}: an event log; {len(frame):,} users in experiments (clicked, converted, revenue per user)")
    frame = _rename_ids(frame, source)
    if segment and segment not in frame.columns:
        raise DataError(f"--segment: no column {segment!r}")
    if not 0 < alpha < 1:
        raise DataError(f"--alpha: between 0 and 1, got {alpha}")
    missing = frame[list(ID_COLUMNS)].isna().any(axis=1)
    if missing.any():
        say(f"{source}: {int(missing.sum()):,} rows without an experiment, user or variant: left out (first: row "
            f"{int(np.flatnonzero(missing.to_numpy())[0]) + 2})")
        frame = frame[~missing.to_numpy()]
    metrics = _metrics(frame, metrics, {}, segment, source)
    covariates = _covariates(frame, metrics, covariate)
    metrics = [m for m in metrics if m not in covariates.values()]
    values = {c: _numeric(frame, c, source) for c in {*metrics, *covariates.values()}}
    # categories: grouping a million ids as categories takes a fraction of the time strings take
    ids = pd.DataFrame({c: frame[c].astype(str).astype("category") for c in ID_COLUMNS})
    table = pd.concat([ids, pd.DataFrame(values)], axis=1)
    if segment:
        table["segment"] = frame[segment].astype(str).astype("category")
    table = _one_row_per_user(table, say)
    if not segment:
        table["segment"] = pd.Categorical(np.full(len(table), "all"))
    else:  # every user counts in "all" and in their own segment
        table = pd.concat([table.assign(segment="all"), table], ignore_index=True)
        table["segment"] = table["segment"].astype(str).astype("category")
    if table.empty:
        raise DataError(f"{source}: no user in any experiment (rows need experiment, user and variant)")
    keys = ["experiment", "segment", "variant"]
    counts: dict[tuple, dict[str, int]] = {}
    for (experiment, segment_value, arm), n in table.groupby(keys, sort=True, observed=True).size().items():
        counts.setdefault((experiment, segment_value), {})[arm] = int(n)
    sums = {metric: _sums(table, keys, metric, covariates.get(metric)) for metric in metrics}
    rows, starts = [], []
    for (experiment, segment_value), arms in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] != "all",
                                                                                    kv[0][1])):
        if segment_value == "all":
            starts.append(len(rows))
        rows += _compare(arms, {m: sums[m].get((experiment, segment_value), {}) for m in metrics}, experiment,
                         segment_value, metrics, covariates, control, split, alpha, planned_users, source)
    if not rows:  # only control users so far
        say(f"{source}: no arm besides {control!r} yet: nothing to compare")
        columns = OUTPUT_COLUMNS[:1] + (["segment"] if segment else []) + OUTPUT_COLUMNS[1:]
        return pd.DataFrame(columns=columns)
    result = _tests(pd.DataFrame(rows), alpha, planned_users)
    adjusted = np.empty(len(result))
    for begin, end in zip(starts, starts[1:] + [len(result)]):  # Benjamini-Hochberg within each experiment
        adjusted[begin:end] = benjamini_hochberg(result["p_value"].to_numpy()[begin:end])
    result["p_value_adjusted"] = adjusted
    result["significant"] = result["p_value_adjusted"] < alpha
    columns = OUTPUT_COLUMNS[:1] + (["segment"] if segment else []) + OUTPUT_COLUMNS[1:]
    return result[columns]


def _one_row_per_user(table: pd.DataFrame, say) -> pd.DataFrame:
    """A user in two arms of one experiment is left out (their outcome belongs to neither); a user's repeated
    rows in one arm are summed."""
    if not table.duplicated(["experiment", "user"]).any():
        return table
    arms = table.groupby(["experiment", "user"], sort=False, observed=True)["variant"].nunique()
    mixed = arms[arms > 1]
    if len(mixed):
        say(f"{len(mixed):,} users appear in more than one arm of an experiment: left out")
        keys = pd.MultiIndex.from_frame(table[["experiment", "user"]])
        table = table[~keys.isin(mixed.index)]
    if table.duplicated(["experiment", "user"]).any():
        keys = ["experiment", "user", "variant"] + (["segment"] if "segment" in table else [])
        table = table.groupby(keys, sort=False, as_index=False, observed=True).sum(min_count=1)
        say("users with several rows in one arm: their metrics are summed")
    return table


SUM_COLUMNS = ("n", "y", "y2", "x", "x2", "xy")


def _sums(table: pd.DataFrame, keys: list[str], metric: str, covariate: str | None) -> dict[tuple, dict[str, np.ndarray]]:
    """Per (experiment, segment), per arm: the count, sum and sum of squares of the metric (and of the covariate,
    and their cross products; zeros without one) over users who have them: all the tests need, in one group-by."""
    present = table[metric].notna() & (table[covariate].notna() if covariate else True)
    y = table.loc[present, metric].to_numpy(float)
    x = table.loc[present, covariate].to_numpy(float) if covariate else np.zeros(len(y))
    parts = {key: table.loc[present, key].reset_index(drop=True) for key in keys}
    parts.update(n=np.ones(len(y)), y=y, y2=y * y, x=x, x2=x * x, xy=x * y)
    grouped = pd.DataFrame(parts).groupby(keys, sort=True, observed=True)[list(SUM_COLUMNS)].sum()
    found: dict[tuple, dict[str, np.ndarray]] = {}
    for (experiment, segment, arm), values in zip(grouped.index, grouped.to_numpy()):
        found.setdefault((experiment, segment), {})[arm] = values
    return found


def _compare(counts: dict[str, int], sums: dict[str, dict[str, np.ndarray]], experiment: str, segment: str,
             metrics: list[str], covariates: dict[str, str], control: str, split: dict[str, float] | None,
             alpha: float, planned_users: int | None, source: str) -> list[dict]:
    """The rows of one experiment (and segment): each arm against the control, for every metric."""
    if control not in counts:  # "Control" or "CONTROL" is the control too
        control = next((arm for arm in counts if str(arm).casefold() == control.casefold()), control)
    if control not in counts:
        if segment != "all":
            return []  # a segment without control users has nothing to compare
        raise DataError(f"{source}: experiment {experiment!r} has no arm named {control!r} (arms: "
                        f"{', '.join(sorted(counts))}); name the baseline with --control")
    arms = [control] + sorted(a for a in counts if a != control)
    srm = srm_p_value([counts[a] for a in arms], _shares(split, arms))
    rows = []
    for metric in metrics:
        covariate = covariates.get(metric)
        empty = np.zeros(len(SUM_COLUMNS))
        table = np.array([sums[metric].get(arm, empty) for arm in arms])  # arms x SUM_COLUMNS
        n, sum_y, sum_y2, sum_x, sum_x2, sum_xy = table.T
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = sum_y / n
            var = (sum_y2 / n - mean ** 2) * n / np.maximum(n - 1, 1)
        adjusted_mean, adjusted_var, reduction = mean, var, np.nan
        if covariate and n.min() > 1:
            fitted = cuped(n, sum_y, sum_y2, sum_x, sum_x2, sum_xy)
            adjusted_mean, adjusted_var, reduction = fitted["mean"], fitted["var"], float(fitted["variance_reduction"])
        for i, arm in enumerate(arms[1:], start=1):  # the tests run afterwards, for all rows at once
            rows.append({"experiment": experiment, "segment": segment, "metric": metric, "variant": arm,
                         "users": int(n[i]), "rate": mean[i], "srm_p_value": srm, "control_users": int(n[0]),
                         "control_rate": mean[0], "srm": bool(srm < SRM_ALPHA), "cuped_covariate": covariate or "",
                         "variance_reduction": reduction, "_mean_c": adjusted_mean[0], "_var_c": adjusted_var[0],
                         "_mean_t": adjusted_mean[i], "_var_t": adjusted_var[i]})
    return rows


def _tests(result: pd.DataFrame, alpha: float, planned_users: int | None) -> pd.DataFrame:
    """Lift, interval, p-value and sequential p-value of every row, vectorized."""
    n_c, n_t = result["control_users"].to_numpy(float), result["users"].to_numpy(float)
    test = ratio_lift(n_c, result.pop("_mean_c"), result.pop("_var_c"), n_t, result.pop("_mean_t"),
                      result.pop("_var_t"), alpha)
    for key in ("lift", "ci_low", "ci_high", "p_value"):
        result[key] = test[key]
    planned = planned_users if planned_users else np.maximum(n_c, n_t)
    result["sequential_p_value"] = sequential_p_value(test["lift"], test["se"], n_c, n_t, planned, alpha)
    return result


def write_report(result: pd.DataFrame, directory: str | Path, source: str, alpha: float) -> Path:
    """report.md (the verdicts in words), lifts.png (each lift with its interval) and summary.json."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    overall = result[result["segment"] == "all"] if "segment" in result else result
    labels = [f"{r.experiment} · {r.metric} · {r.variant}" for r in overall.itertuples()]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * max(len(labels), 1)))
    y = np.arange(len(labels))
    ax.errorbar(overall["lift"] * 100, y, xerr=[(overall["lift"] - overall["ci_low"]) * 100,
                                                 (overall["ci_high"] - overall["lift"]) * 100],
                fmt="o", color="#0f4c5c", capsize=3)
    ax.axvline(0, color="#9b2226", linewidth=1)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"relative lift over control (%), {1 - alpha:.0%} interval")
    ax.set_title("Lift per experiment, metric and arm")
    fig.tight_layout()
    fig.savefig(directory / "lifts.png", dpi=120)
    plt.close(fig)
    lines = [f"# Experiment analysis of {source}", "",
             f"Two-sided tests at alpha = {alpha}; p_value_adjusted is Benjamini-Hochberg within each experiment; "
             f"a sample-ratio mismatch (srm_p_value < {SRM_ALPHA}) means the split is broken and no lift should be "
             "trusted.", "", "![lifts](lifts.png)", "",
             "| experiment | metric | variant | users | rate | control rate | lift | interval | p | adjusted p | "
             "sequential p | SRM p | verdict |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in overall.itertuples():
        verdict = ("SAMPLE RATIO MISMATCH: do not trust" if r.srm else
                   ("significant " + ("gain" if r.lift > 0 else "loss")) if r.significant else "no significant change")
        if r.cuped_covariate:
            verdict += f" (CUPED on {r.cuped_covariate}: {r.variance_reduction:.0%} less variance)"
        lines.append(f"| {r.experiment} | {r.metric} | {r.variant} | {r.users:,} | {r.rate:.4g} | {r.control_rate:.4g} "
                     f"| {r.lift:+.2%} | [{r.ci_low:+.2%}, {r.ci_high:+.2%}] | {r.p_value:.3g} | "
                     f"{r.p_value_adjusted:.3g} | {r.sequential_p_value:.3g} | {r.srm_p_value:.3g} | {verdict} |")
    (directory / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = {"source": source, "alpha": alpha, "rows": len(result),
               "significant": int(result["significant"].sum()), "srm_flags": int(result["srm"].sum())}
    (directory / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return directory
