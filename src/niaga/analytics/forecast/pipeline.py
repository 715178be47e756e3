"""The forecast use cases the CLI, the API, the dashboard and the benchmark call.

    panel = load_panel("orders.csv", freq="W")        # or "store:orders"
    model = train(panel, out="runs/forecast")           # picks the forecaster by holdout MASE, saves it
    model = load_model("runs/forecast")
    predict(model)                                       # item, period, forecast, lo_80, hi_80, lo_95, hi_95
    reorder(model, stock_frame, lead_time_days=7, service=0.95)
    whatif(model, "85123A", 2.5)                         # demand and revenue at that price, or "unknown"
    backtest(panel, horizon=8, origins=3)                # rolling-origin MASE / bias / coverage per model
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from niaga.analytics.forecast.base import QUANTILES, DemandPanel, mase_scale
from niaga.analytics.forecast.calendar import check_freq, next_periods, period_range, period_start
from niaga.analytics.forecast.model import CANDIDATES, DemandModel, fit_forecasters
from niaga.analytics.forecast.price import UNKNOWN
from niaga.analytics.forecast.reorder import reorder_plan
from niaga.data.columns import ids_as_text, match_columns, require_fields
from niaga.data.transactions import classify_lines, exclusion_counts, read_log
from niaga.errors import DataError
from niaga.modeling import fingerprint, save_model
from niaga.modeling import load_model as _load

#: the fields a demand forecast needs (no customer: an anonymous sale is still demand)
DEMAND_FIELDS = ("invoice", "date", "quantity", "price", "item")
STOCK_ALIASES = {"item": ["item", "stockcode", "itemid", "productid", "sku", "product"],
                 "stock": ["stock", "onhand", "stockonhand", "inventory", "quantity", "qty", "available"]}
Log = Callable[[str], None]


def _quiet(message: str) -> None:
    pass


# -- data ---------------------------------------------------------------------------------------------------

def demand_lines(raw: pd.DataFrame, source: str | Path = "orders") -> tuple[pd.DataFrame, dict[str, int]]:
    """Purchase lines (item, date, quantity, price) and the count of lines left out per reason: cancellations,
    returns, bad prices, duplicates, unreadable lines, as the customer segmentation leaves them out."""
    frame, reason = classify_lines(raw, source, required=DEMAND_FIELDS)
    keep = reason.isna()
    lines = frame.loc[keep, ["item", "date", "quantity", "price"]].reset_index(drop=True)
    if lines.empty:
        raise DataError(f"{source}: no purchase line left (left out: {exclusion_counts(reason)})")
    return lines, exclusion_counts(reason)


def build_panel(lines: pd.DataFrame, freq: str = "W", last_day: pd.Timestamp | None = None) -> DemandPanel:
    """Items × periods of units sold (0 where an item sold nothing after its first sale) and average price.

    The log's last period is left out when the log ends before that period does (a week cut on Friday would
    read as a bad week); the forecast then starts after it, with the period after the log's last day.
    """
    freq = check_freq(freq)
    last_day = pd.Timestamp(last_day or lines["date"].max()).normalize()
    lines = lines[lines["date"] < last_day + pd.Timedelta(days=1)]
    period = period_start(lines["date"], freq)
    grouped = (lines.assign(period=period.to_numpy(), revenue=lines["quantity"] * lines["price"])
               .groupby(["item", "period"])[["quantity", "revenue"]].sum())
    last_period = period_start(pd.Series([last_day]), freq).iloc[0]
    gap = 0
    if next_periods(last_period, 1, freq)[0] - pd.Timedelta(days=1) > last_day:
        gap, last_period = 1, last_period - (next_periods(last_period, 1, freq)[0] - last_period)
        grouped = grouped[grouped.index.get_level_values("period") <= last_period]
    if grouped.empty:
        raise DataError("the log holds less than one whole period: use a finer --freq")
    periods = period_range(grouped.index.get_level_values("period").min(), last_period, freq)
    quantity = grouped["quantity"].unstack("period").reindex(columns=periods)
    revenue = grouped["revenue"].unstack("period").reindex(columns=periods)
    quantity = quantity.sort_index()
    revenue = revenue.reindex(quantity.index)
    q = quantity.to_numpy(dtype=float)
    started = np.cumsum(~np.isnan(q), axis=1) > 0
    q = np.where(started, np.nan_to_num(q), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        price = np.where(q > 0, revenue.to_numpy(dtype=float) / q, np.nan)
    return DemandPanel(quantity.index.to_numpy().astype(str), periods, q, price, freq, last_day, gap)


def load_panel(data: str | Path, freq: str = "W", log: Log = _quiet) -> DemandPanel:
    raw = read_log(data)
    lines, counts = demand_lines(raw, data)
    if counts:
        log(f"{data}: {len(lines):,} purchase lines kept; left out: "
            + ", ".join(f"{n:,} {why}" for why, n in counts.items()))
    return build_panel(lines, freq)


def revenue(panel: DemandPanel) -> np.ndarray:
    """Each item's revenue over the panel."""
    return np.nansum(panel.quantity * np.nan_to_num(panel.price), axis=1)


# -- train, load, predict ---------------------------------------------------------------------------------

def train(panel: DemandPanel, out: str | Path | None = None, horizon: int = 8, kind: str = "auto",
          log: Log = _quiet) -> DemandModel:
    """Fit the demand model (``kind="auto"``: every candidate, keep the best holdout MASE) and save it to ``out``."""
    if horizon < 1:
        raise DataError(f"--horizon must be at least 1, got {horizon}")
    if panel.quantity.shape[1] < 3:
        raise DataError(f"only {panel.quantity.shape[1]} whole period(s) of history: a forecast needs at "
                        "least 3 (use a finer --freq or a longer log)")
    model = DemandModel(kind=kind, horizon=horizon).fit(panel, log=log)
    log(f"kept {model.kind_} (holdout MASE per model: {model.holdout_mase_})")
    if out is not None:
        save_model(model, out, metrics={"holdout_mase": model.holdout_mase_, "kind": model.kind_},
                   data_sha256=fingerprint(panel.items, np.nan_to_num(panel.quantity).sum(axis=1)),
                   data_rows=int(len(panel)),
                   extra={"freq": panel.freq, "last_day": model.last_day_, "horizon": horizon})
    return model


def load_model(directory: str | Path) -> DemandModel:
    model = _load(directory, task="forecast")
    if not isinstance(model, DemandModel):
        raise DataError(f"{directory}: not a demand model (train one with 'niaga forecast train')")
    return model


def predict(model: DemandModel, horizon: int | None = None) -> pd.DataFrame:
    """item, period (ISO date of the period's start), forecast, lo_80, hi_80, lo_95, hi_95."""
    if horizon is not None and horizon < 1:
        raise DataError(f"--horizon must be at least 1, got {horizon}")
    return model.predict(horizon)


def top_forecasts(model: DemandModel, n: int = 10, horizon: int | None = None) -> pd.DataFrame:
    """``predict``'s rows of the ``n`` items with the most units forecast over the horizon (for an overview)."""
    frame = predict(model, horizon)
    top = frame.groupby("item")["forecast"].sum().nlargest(n).index
    return frame[frame["item"].isin(top)].reset_index(drop=True)


def item_forecast(model: DemandModel, item: str, horizon: int | None = None) -> pd.DataFrame:
    """One item's rows of ``predict``; DataError when the model does not know it."""
    if str(item) not in set(model.items.tolist()):
        raise DataError(f"item {item!r} is not in the model's training data")
    frame = predict(model, horizon)
    return frame[frame["item"] == str(item)].reset_index(drop=True)


def items_of(table: pd.DataFrame, source: str | Path = "items") -> list[str]:
    """The item ids of a table (its item / StockCode / sku column), as text."""
    found = match_columns(table.columns, {"item": STOCK_ALIASES["item"]})
    require_fields(found, ("item",), STOCK_ALIASES, table.columns, source, what="item table")
    return ids_as_text(table[found["item"]]).dropna().tolist()


# -- reorder ----------------------------------------------------------------------------------------------

def reorder(model: DemandModel, stock: pd.DataFrame, lead_time_days: float, service: float = 0.95,
            source: str | Path = "stock", log: Log = _quiet) -> pd.DataFrame:
    """The stock table with, per row: forecast_per_period, lead_time_demand, safety_stock, reorder_point,
    order_up_to, order_quantity, reorder (True: order now) and note (why a row has no plan)."""
    if lead_time_days < 0:
        raise DataError(f"--lead-time must be 0 or more days, got {lead_time_days}")
    if not 0.5 <= service < 1:
        raise DataError(f"--service must be between 0.5 and 1 (e.g. 0.95), got {service}")
    found = match_columns(stock.columns, STOCK_ALIASES)
    require_fields(found, ("item", "stock"), STOCK_ALIASES, stock.columns, source, what="stock table")
    items = ids_as_text(stock[found["item"]])
    on_hand = pd.to_numeric(stock[found["stock"]], errors="coerce")
    horizon = max(int(model.horizon), int(np.ceil(lead_time_days / {"D": 1, "W": 7, "M": 30.4}[model.freq_])) + 1)
    mean, bounds = model.forecast(horizon)
    plan = reorder_plan(mean, bounds, np.zeros(len(mean)), lead_time_days, service, model.freq_)
    row_of = {item: i for i, item in enumerate(model.items.tolist())}
    rows = items.map(row_of)
    known = rows.notna() & on_hand.notna()
    idx = rows[known].astype(int).to_numpy()
    out = pd.DataFrame(index=stock.index)
    out["forecast_per_period"] = np.nan
    out.loc[known, "forecast_per_period"] = mean[idx, 0]
    for name in ("lead_time_demand", "safety_stock", "reorder_point", "order_up_to"):
        out[name] = np.nan
        out.loc[known, name] = plan[name][idx]
    order = np.where(on_hand[known] <= plan["reorder_point"][idx],
                     np.ceil(np.maximum(plan["order_up_to"][idx] - on_hand[known].to_numpy(), 0)), 0)
    out["order_quantity"] = np.nan
    out.loc[known, "order_quantity"] = order
    out["reorder"] = pd.Series(pd.NA, index=stock.index, dtype="boolean")
    out.loc[known, "reorder"] = order > 0
    out["note"] = ""
    out.loc[rows.isna(), "note"] = "item not in the model's training data"
    out.loc[rows.notna() & on_hand.isna(), "note"] = f"stock is not a number (column {found['stock']!r})"
    for column in ("forecast_per_period", "lead_time_demand", "safety_stock", "reorder_point", "order_up_to"):
        out[column] = out[column].round(2)
    if (~known).any():
        log(f"{int((~known).sum()):,} stock row(s) without a plan (see the note column)")
    return out


# -- price response ---------------------------------------------------------------------------------------

def whatif(model: DemandModel, item: str, price: float) -> dict:
    """Demand and revenue per period at ``price`` for the next forecast period, with the 95 % interval of the
    elasticity; ``{"answer": "unknown"}`` with the reason when the item's price never varied in the log."""
    item = str(item)
    items = model.price_.items_.tolist()
    if item not in items:
        raise DataError(f"item {item!r} is not in the model's training data")
    if not price > 0:
        raise DataError(f"--price must be a positive number, got {price}")
    i = items.index(item)
    pr = model.price_
    base = {"item": item, "price": float(price)}
    if pr.source_[i] == UNKNOWN:
        return {**base, "answer": "unknown",
                "reason": "the item's price never varied in the log (or it sold in too few periods), so how its "
                          "demand moves with price cannot be estimated"}
    mean, _ = model.forecast(1)
    reference_price, reference_demand = float(pr.reference_price_[i]), float(mean[i, 0])
    ratio = price / reference_price
    demand = {name: reference_demand * ratio ** float(e)
              for name, e in (("demand", pr.elasticity_[i]), ("low", pr.low_[i]), ("high", pr.high_[i]))}
    low, high = sorted((demand["low"], demand["high"]))
    low, high = min(low, demand["demand"]), max(high, demand["demand"])
    answer = {**base, "answer": "estimate", "period": model.future_periods(1)[0].date().isoformat(),
              "reference_price": round(reference_price, 4), "reference_demand": round(reference_demand, 3),
              "demand": round(demand["demand"], 3), "demand_low": round(low, 3), "demand_high": round(high, 3),
              "revenue": round(demand["demand"] * price, 2), "revenue_low": round(low * price, 2),
              "revenue_high": round(high * price, 2), "elasticity": round(float(pr.elasticity_[i]), 3),
              "elasticity_low": round(float(pr.low_[i]), 3), "elasticity_high": round(float(pr.high_[i]), 3),
              "elasticity_source": str(pr.source_[i]),
              "observed_prices": [round(float(pr.price_min_[i]), 4), round(float(pr.price_max_[i]), 4)]}
    if not pr.price_min_[i] <= price <= pr.price_max_[i]:
        answer["note"] = "the price is outside the prices seen in the log: the answer extrapolates"
    return answer


# -- backtest ---------------------------------------------------------------------------------------------

def backtest(panel: DemandPanel, horizon: int = 8, origins: int = 3, models: tuple = CANDIDATES,
             items: np.ndarray | None = None, log: Log = _quiet) -> tuple[pd.DataFrame, dict]:
    """Rolling origins ``horizon`` periods apart, the last ending with the panel; at each, every model is fitted
    on the history before it (its intervals calibrated on that history too) and forecasts ``horizon`` periods.

    ``items``: the item ids scored (default: every item sold before the first origin). Returns the per-item,
    per-origin, per-model error table and the forecasts (model → origin → (items, mean, bounds, actual)).
    """
    T = panel.quantity.shape[1]
    fits = (T - 3) // horizon  # origins that leave at least 3 periods of history before the first
    if fits < 1:
        raise DataError(f"{T} whole periods cannot hold {horizon} periods to score after at least 3 of history: "
                        "lower --horizon or use a finer --freq")
    if fits < origins:
        log(f"{T} periods hold {fits} origin(s) of {horizon} periods, not {origins}: backtesting {fits}")
        origins = fits
    starts = [T - horizon * k for k in range(origins, 0, -1)]
    rows, forecasts = [], {}
    for start in starts:
        history = panel.head(start)
        scored = np.isin(history.items, items) if items is not None else np.ones(len(history), dtype=bool)
        actual_rows = np.searchsorted(panel.items, history.items)
        actual = np.nan_to_num(panel.quantity[actual_rows, start:start + horizon])
        scale = mase_scale(history.quantity)
        weight = revenue(history)
        origin = str(panel.periods[start].date())
        fitted = fit_forecasters(history, models, horizon, lambda m: log(f"origin {origin}: {m}"))
        for kind, forecaster in fitted.items():
            mean, bounds = forecaster.predict(horizon)
            forecasts.setdefault(kind, {})[origin] = (history.items[scored], mean[scored],
                                                      None if bounds is None else bounds[scored], actual[scored])
            error = np.abs(mean - actual).mean(axis=1) / scale
            inside = {}
            for level, (lo, hi) in ((80, (0.10, 0.90)), (95, (0.025, 0.975))):
                if bounds is None:
                    inside[level] = np.full(len(mean), np.nan)
                else:
                    low = np.minimum(bounds[:, :, QUANTILES.index(lo)], mean)
                    high = np.maximum(bounds[:, :, QUANTILES.index(hi)], mean)
                    inside[level] = ((actual >= low) & (actual <= high)).mean(axis=1)
            rows.append(pd.DataFrame({"origin": origin, "model": kind, "item": history.items, "mase": error,
                                      "forecast": mean.sum(axis=1), "actual": actual.sum(axis=1),
                                      "coverage_80": inside[80], "coverage_95": inside[95],
                                      "weight": weight, "holdout_mase": forecaster.holdout_mase_})[scored])
    return pd.concat(rows, ignore_index=True), forecasts


def with_auto(errors: pd.DataFrame) -> pd.DataFrame:
    """The errors with rows for ``auto``: at each origin, the model ``train`` would have kept there (the lowest
    MASE on the periods just before the origin; nothing after the origin decides it)."""
    scored = errors.dropna(subset=["holdout_mase"])
    if scored.empty:
        return errors
    picks = scored.groupby("origin")[["model", "holdout_mase"]].apply(
        lambda block: block.loc[block["holdout_mase"].idxmin(), "model"])
    auto = pd.concat([errors[(errors["origin"] == origin) & (errors["model"] == model)].assign(model="auto",
                                                                                             picked=model)
                      for origin, model in picks.items()])
    return pd.concat([errors, auto], ignore_index=True)


def summarize(errors: pd.DataFrame) -> pd.DataFrame:
    """Per model: mean MASE, revenue-weighted MASE, bias ((forecast − actual) / actual, summed), coverage."""
    def one(block: pd.DataFrame) -> pd.Series:
        weights = block["weight"].clip(lower=0)
        return pd.Series({
            "mase": block["mase"].mean(),
            "revenue_weighted_mase": float(np.average(block["mase"], weights=weights)) if weights.sum() > 0
            else float("nan"),
            "bias": (block["forecast"].sum() - block["actual"].sum()) / max(block["actual"].sum(), 1e-9),
            "coverage_80": block["coverage_80"].mean(), "coverage_95": block["coverage_95"].mean(),
            "items": block["item"].nunique()})
    return errors.groupby("model", sort=False)[errors.columns.tolist()].apply(one).round(4)


def evaluate(panel: DemandPanel, report: str | Path, horizon: int = 8, origins: int = 3,
             models: tuple = CANDIDATES, top_items: int | None = None, log: Log = _quiet) -> dict:
    """Backtest and write metrics.json, errors.csv, mase.png and report.md into ``report``."""
    from niaga.analytics.forecast.report import write_backtest_report

    items = None
    if top_items:
        first = max(panel.quantity.shape[1] - horizon * origins, 3)
        early = panel.head(first)  # ranked on what the first origin saw
        items = early.items[np.argsort(-revenue(early))[:top_items]]
    errors, _ = backtest(panel, horizon, origins, models, items, log)
    errors = with_auto(errors) if len(models) > 1 else errors
    table = summarize(errors)
    return write_backtest_report(report, table, errors, panel, horizon, origins)
