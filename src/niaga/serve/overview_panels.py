"""The overview page's panels as charts and rows: the business figures of ``niaga.analytics.overview``, the
segments and their movement, the demand forecast (when a forecast model is registered), CTR and conversion of
the recommendations, and the models page's rows. Charts are plotly figures as JSON, drawn by the bundled
plotly.js."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from niaga.analytics.forecast import pipeline as forecast_pipeline
from niaga.analytics.overview import Overview, cohort_matrix, segment_movement
from niaga.errors import NiagaError
from niaga.modeling import read_metadata
from niaga.serve.routers import forecast as forecast_router
from niaga.serve.services import NotServed

INK, ACCENT, MUTED = "#0f4c5c", "#ffb703", "#9aa5b1"
FORECAST_MODEL = ("forecast", forecast_router.MODEL_NAME)  # the served demand model, as the API serves it
FORECAST_ITEMS = 5
MIN_CATEGORY_COVERAGE = 0.5  # the share of revenue whose product has a category, to chart categories
FORECAST_HINT = ("no forecast model yet: run niaga forecast train --data store:orders --out runs/forecast, then "
                 "niaga serve models add forecast orders runs/forecast")
#: review labels in colours a reader takes in at once (unhappy in reds, happy in greens); others: plotly's
LABEL_COLOURS = {"anger": "#9b2226", "negative": "#9b2226", "sadness": "#e76f51", "fear": "#f4a261",
                 "neutral": MUTED, "happy": "#2a9d8f", "positive": "#2a9d8f", "love": "#8ab17d"}
#: metrics a model is judged by, best first: the first one a model has is its key figure
KEY_METRICS = ("f1_macro", "macro_f1", "roc_auc", "average_precision", "ndcg@10", "hr@10", "mase", "accuracy",
               "top1_accuracy", "silhouette", "r2")


def _layout(figure: go.Figure, title: str, x_title: str = "", y_title: str = "", **more) -> str:
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, margin=dict(t=50, l=60, r=20, b=50),
                         legend=dict(orientation="h", y=-0.2), **more)
    return figure.to_json()


def charts(data: Overview) -> dict[str, str]:
    """Chart JSON per panel id; a panel without data has no entry."""
    found = {}
    unit = {"day": "day", "week": "week (from Monday)", "month": "month"}[data.freq]
    if not data.sales.empty:
        sales = data.sales
        figure = go.Figure([go.Bar(x=sales["period"], y=sales["gmv"], name="GMV", marker_color=INK),
                            go.Scatter(x=sales["period"], y=sales["orders"], name="orders", yaxis="y2",
                                       mode="lines+markers", line=dict(color=ACCENT))])
        found["sales"] = _layout(figure, f"GMV and orders per {data.freq}", unit, "GMV (the log's currency)",
                                 yaxis2=dict(title="orders", overlaying="y", side="right"))
        figure = go.Figure([go.Bar(x=sales["period"], y=sales["new_customers"], name="new", marker_color=ACCENT),
                            go.Bar(x=sales["period"], y=sales["returning_customers"], name="returning",
                                   marker_color=INK)])
        found["customers"] = _layout(figure, f"New and returning customers per {data.freq}", unit, "customers",
                                     barmode="stack")
    gmv = data.totals.get("gmv", 0.0)
    covered = float(data.top_categories["revenue"].sum()) / gmv if gmv and not data.top_categories.empty else 0.0
    # categories come from the products table: when most of the revenue's products are not in it (orders and
    # catalogue from different sources, as in the demo warehouse), a chart of the matches would mislead
    if covered >= MIN_CATEGORY_COVERAGE:
        top = data.top_categories
        found["categories"] = _layout(go.Figure(go.Bar(x=top["category"], y=top["revenue"], marker_color=INK)),
                                      f"Revenue per category ({covered:.0%} of revenue has a category)", "",
                                      "revenue")
    matrix = cohort_matrix(data.cohorts)
    if not matrix.empty:
        shares = (matrix.to_numpy() * 100).round(1)
        labels = [[f"{v:.0f}%" if v == v else "" for v in row] for row in shares]  # a month not reached yet: blank
        figure = go.Figure(go.Heatmap(z=shares, x=[str(c) for c in matrix.columns], y=list(matrix.index),
                                      colorscale="Blues", zmin=0, zmax=100, colorbar=dict(title="% active"),
                                      hovertemplate="%{y}, month %{x}: %{z}%", text=labels, texttemplate="%{text}"))
        found["cohorts"] = _layout(figure, "Cohort retention: share of each month's new customers buying N months "
                                           "later", "months after the first order", "cohort (customers)",
                                   yaxis=dict(autorange="reversed"))
    if not data.fraud_per_hour.empty:
        hours = data.fraud_per_hour
        figure = go.Figure([go.Bar(x=part["hour"], y=part["decisions"], name=decision)
                            for decision, part in hours.groupby("decision")])
        found["fraud"] = _layout(figure, "Fraud decisions per hour (last 48 hours of the log)", "hour", "decisions",
                                 barmode="stack")
    if not data.reviews.empty:
        reviews = data.reviews
        figure = go.Figure([go.Bar(x=part["period"], y=part["reviews"], name=str(label),
                                   marker_color=LABEL_COLOURS.get(str(label).lower()))
                            for label, part in reviews.groupby("label")])
        found["reviews"] = _layout(figure, "Reviews per label over time", "period", "reviews", barmode="stack")
    return found


@dataclass
class Segments:
    chart: str | None = None
    movement: str | None = None
    note: str = ""


def segments(services) -> Segments:
    from niaga.serve.routers import customers

    try:
        summary = customers.segments_summary(services)
        path = services.path("customers", "segments")
    except NiagaError as exc:
        return Segments(note=str(exc))
    names = [s.segment for s in summary.segments]
    chart = _layout(go.Figure(go.Bar(x=names, y=[s.customers for s in summary.segments], marker_color=INK)),
                    f"{summary.customers:,} customers by segment", "", "customers")
    moved = segment_movement(path)
    if moved.empty:
        return Segments(chart, None, "no movement table in the segmentation (segment with an earlier cut-off)")
    table = moved.pivot(index="segment_before", columns="segment_after", values="customers").fillna(0)
    figure = go.Figure(go.Heatmap(z=table.to_numpy(), x=list(table.columns), y=list(table.index), colorscale="Blues",
                                  hovertemplate="%{y} → %{x}: %{z} customers"))
    return Segments(chart, _layout(figure, "Segment movement since the earlier cut-off (customers)", "segment now",
                                   "segment before"))


@dataclass
class Forecast:
    chart: str | None = None
    rows: list[dict] | None = None
    note: str = ""


def forecast(services, horizon: int = 8) -> Forecast:
    """The next weeks' demand for the top items with 80 % intervals, through the forecast pipeline, when a forecast
    model is registered; else what to run."""
    try:
        services.path(*FORECAST_MODEL)
    except NotServed:
        return Forecast(note=FORECAST_HINT)
    try:
        predictions = forecast_pipeline.top_forecasts(forecast_router.model(services), FORECAST_ITEMS, horizon)
    except NiagaError as exc:
        return Forecast(note=str(exc))
    top = predictions.groupby("item")["forecast"].sum().nlargest(FORECAST_ITEMS).index
    figure = go.Figure()
    for item in top:
        part = predictions[predictions["item"] == item]
        figure.add_trace(go.Scatter(x=list(part["period"]) + list(part["period"])[::-1],
                                    y=list(part["hi_80"]) + list(part["lo_80"])[::-1], fill="toself", opacity=0.2,
                                    line=dict(width=0), showlegend=False, hoverinfo="skip", legendgroup=str(item)))
        figure.add_trace(go.Scatter(x=part["period"], y=part["forecast"], name=str(item), mode="lines+markers",
                                    legendgroup=str(item)))
    chart = _layout(figure, f"Demand forecast of the top {len(top)} items (80 % intervals)", "period", "units")
    rows = (predictions[predictions["item"].isin(top)].groupby("item")
            .agg(forecast=("forecast", "sum"), lo_80=("lo_80", "sum"), hi_80=("hi_80", "sum"))
            .sort_values("forecast", ascending=False).reset_index().to_dict("records"))
    return Forecast(chart, rows)


@dataclass
class Feedback:
    by_source: list[dict]
    by_arm: list[dict]
    chart: str | None = None


def feedback(services) -> Feedback:
    """CTR and conversion of the recommendations shown, per source and per experiment arm."""
    from niaga.serve.routers import experiments

    found = experiments.rates(services)
    chart = None
    if found["by_source"]:
        frame = pd.DataFrame(found["by_source"])
        figure = go.Figure([go.Bar(x=frame["source"], y=frame["ctr"] * 100, name="CTR", marker_color=INK),
                            go.Bar(x=frame["source"], y=frame["conversion"] * 100, name="conversion",
                                   marker_color=ACCENT)])
        chart = _layout(figure, "Recommendations: CTR and conversion per source", "source", "% of items shown")
    return Feedback(found["by_source"], found["by_arm"], chart)


def key_figure(metrics: dict) -> str:
    """The metric a model is judged by, as 'name value'; '' when it has none."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}{key}.", inner)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[prefix[:-1]] = value

    walk("", metrics)
    for wanted in KEY_METRICS:
        for name, value in flat.items():
            if name.lower().split(".")[-1] == wanted:
                return f"{name} {value:.4g}"
    counts = ("rows", "users", "items", "count", "seconds", "size", "classes", "epochs")
    return next((f"{name} {value:.4g}" for name, value in flat.items()  # a count is no figure of merit
                 if not any(part in name.lower().split(".")[-1] for part in counts)
                 and name.lower().split(".")[-1] not in ("k", "n")), "")


def model_rows(services) -> list[dict]:
    rows = []
    for model in services.registered():
        try:
            metrics = json.loads(model["metrics"] or "{}")
        except (TypeError, json.JSONDecodeError):
            metrics = {}
        try:
            metadata = read_metadata(model["path"])
        except NiagaError:
            metadata = {}
        data = metadata.get("training_data") or {}
        on_what = ", ".join(filter(None, [f"{data['rows']:,} rows" if data.get("rows") else "",
                                          f"data sha256 {data['sha256'][:12]}" if data.get("sha256") else ""]))
        rows.append({"capability": model["capability"], "name": model["name"],
                     "task": model["task"] or metadata.get("task") or "",
                     "kind": str(metadata.get("class", "")).rsplit(".", 1)[-1] or "segmentation output",
                     "key_figure": key_figure(metrics), "trained": metadata.get("created") or str(model["registered_at"]),
                     "on_what": on_what or "—", "path": model["path"]})
    return rows
