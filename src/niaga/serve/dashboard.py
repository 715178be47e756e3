"""The dashboard: server-rendered pages (Jinja2) over the same functions as the API, charts drawn with the
plotly.js that the plotly package bundles (served from /static: nothing comes from a CDN)."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

import plotly
import plotly.graph_objects as go
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from niaga.analytics.overview import business_overview
from niaga.errors import NiagaError
from niaga.fraud.live import LiveReplay
from niaga.serve import overview_panels
from niaga.serve.routers import abuse, customers, fraud, recommend, reviews, social, vision
from niaga.store.database import describe
from niaga.store.queries import review_label_counts

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PAGES = [("/", "Overview"), ("/reviews", "Reviews"), ("/social", "Social"), ("/fraud", "Fraud"), ("/abuse", "Abuse"),
         ("/customers", "Customers"), ("/recommend", "Recommendations"), ("/products", "Products"),
         ("/models", "Models")]
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def mount_static(app) -> None:
    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="application/javascript")


def page(request: Request, template: str, title: str, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, template, {"title": title, "pages": PAGES,
                                                          "here": request.url.path, **context})


def bar(x, y, title: str, x_title: str = "", y_title: str = "") -> str:
    figure = go.Figure(go.Bar(x=list(x), y=list(y), marker_color="#0f4c5c"))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, margin=dict(t=50, l=60, r=20, b=60))
    return figure.to_json()


def services(request: Request):
    return request.app.state.services


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, start: str = "", end: str = "", freq: str = "week"):
    """What the owner reads first: the business over a date range (see ``niaga.analytics.overview``)."""
    service = services(request)
    freq = freq if freq in ("day", "week", "month") else "week"
    error = None
    try:
        chosen = [_day(start, "start"), _day(end, "end")]
    except NiagaError as exc:
        chosen, error = [None, None], str(exc)
    try:
        open_cases = fraud.open_count(service)  # first: it writes the decisions answered so far
    except NiagaError:
        open_cases = None

    def summary():  # the warehouse's business over the range: kept for a while (Services.view), not per request
        data = service.read(lambda store: business_overview(store, *chosen, freq))
        return (data, overview_panels.charts(data), overview_panels.segments(service),
                overview_panels.forecast(service), service.read(lambda store: store.counts()))

    data, charts, segments, forecast, counts = service.view(("overview", *chosen, freq), summary)
    # CTR and conversion change with every event logged: computed again when the events table has grown
    events = service.read(lambda store: store.count("events"))
    feedback = service.view(("feedback", events), lambda: overview_panels.feedback(service))
    return page(request, "overview.html", "Overview", data=data, totals=data.totals, charts=charts,
                products=data.top_products.to_dict("records"), complaints=data.complaints, segments=segments,
                open_cases=open_cases, forecast=forecast, feedback=feedback, error=error,
                store=describe(service.settings.store),  # a PostgreSQL URL without its password
                counts=counts)


def _day(text: str, name: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise NiagaError(f"{name}: {text!r} is not a date (YYYY-MM-DD)") from None


@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request):
    """The models serving: name, task, the key figure, when it was trained and on what."""
    return page(request, "models.html", "Models serving", models=overview_panels.model_rows(services(request)))


@router.get("/reviews", response_class=HTMLResponse)
@router.post("/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, text: str = Form("")):
    service = services(request)
    lines = [line.strip() for line in text.splitlines() if line.strip()][:50]
    rows, tasks, error = [], [], None
    if lines:
        try:
            for task in ("emotion", "sentiment"):
                try:
                    results = reviews.classify(service, lines, task).results
                except NiagaError as exc:
                    if task == "emotion":
                        raise
                    error = str(exc)
                    continue
                tasks.append(task)
                for i, result in enumerate(results):
                    if len(rows) <= i:
                        rows.append({"text": lines[i]})
                    rows[i][task] = result
        except NiagaError as exc:
            error = str(exc)
    labels = service.read(review_label_counts)
    chart = bar([l for l, _ in labels], [n for _, n in labels], "Stored reviews by label", y_title="reviews") \
        if labels else None
    return page(request, "reviews.html", "Reviews: emotion and sentiment", text=text, rows=rows, tasks=tasks,
                labels_chart=chart, error=error)


def highlight(text: str, extraction) -> str:
    """The text with the extracted spans marked (price, payment, product, other amounts), HTML-escaped."""
    marks = [(a, b, "price") for a, b in extraction.price_spans]
    marks += [(a, b, "payment") for a, b in extraction.payment_spans]
    marks += [(span[0], span[1], "other") for _, _, span in extraction.other_amounts]
    if extraction.product_span:
        marks.append((*extraction.product_span, "product"))
    out, at = [], 0
    for start, end, kind in sorted(marks):
        if start < at:
            continue  # overlapping spans: the first one wins
        out += [html.escape(text[at:start]), f'<mark class="{kind}">{html.escape(text[start:end])}</mark>']
        at = end
    return "".join(out) + html.escape(text[at:])


@router.get("/social", response_class=HTMLResponse)
@router.post("/social", response_class=HTMLResponse)
def social_page(request: Request, text: str = Form("")):
    post, highlighted, error = None, "", None
    if text.strip():
        try:
            post = social.classify(services(request), [text.strip()]).results[0]
            highlighted = highlight(text.strip(), post.extraction)
        except NiagaError as exc:
            error = str(exc)
    return page(request, "social.html", "Social posts: transactions and what they say", text=text, post=post,
                highlighted=highlighted, error=error)


@router.get("/customers", response_class=HTMLResponse)
@router.post("/customers", response_class=HTMLResponse)
def customers_page(request: Request, customer_id: str = Form("")):
    service = services(request)
    segments_chart = rfm_chart = profile = error = None
    try:
        summary = customers.segments_summary(service)
        segments_chart = bar([s.segment for s in summary.segments], [s.customers for s in summary.segments],
                             f"{summary.customers:,} customers by RFM segment", y_title="customers")
        figure = go.Figure(go.Scatter(x=[s.median_recency for s in summary.segments],
                                      y=[s.median_monetary for s in summary.segments],
                                      text=[s.segment for s in summary.segments], mode="markers+text",
                                      marker=dict(size=[max(8, s.customers ** 0.5) for s in summary.segments]),
                                      textposition="top center"))
        figure.update_layout(title="Segments: median recency against median spend (marker size: customers)",
                             xaxis_title="median recency (days)", yaxis_title="median spend (the log's currency)")
        rfm_chart = figure.to_json()
        if customer_id.strip():
            profile = customers.profile(service, customer_id.strip(), {})
    except NiagaError as exc:
        error = str(exc)
    return page(request, "customers.html", "Customers: segments, profiles and offers", customer_id=customer_id,
                segments_chart=segments_chart, rfm_chart=rfm_chart, profile=profile, error=error)


def fraud_replay_of(request: Request) -> LiveReplay:
    """The dashboard's replay lives on the app's state: one per server, none shared between apps."""
    state = request.app.state
    if getattr(state, "fraud_replay", None) is None:
        state.fraud_replay = LiveReplay()
    return state.fraud_replay


@router.get("/fraud", response_class=HTMLResponse)
def fraud_page(request: Request):
    service = services(request)
    queue, error, open_cases = [], None, 0
    try:
        queue = fraud.cases(service, "open", 25)
        open_cases = fraud.open_count(service)
    except NiagaError as exc:
        error = str(exc)
    return page(request, "fraud.html", "Fraud: live decisions and the review queue", cases=queue,
                open_cases=open_cases, status=fraud_replay_of(request).status, error=error)


@router.post("/fraud/replay")
def fraud_replay(request: Request, count: int = Form(500)):
    service = services(request)
    fraud_replay_of(request).start(lambda: fraud.next_transactions(service, max(1, min(count, 100_000))),
                                   lambda record: fraud.score(service, record).model_dump())
    return RedirectResponse("/fraud", status_code=303)


@router.get("/fraud/feed.json")
def fraud_feed(request: Request) -> dict:
    replay = fraud_replay_of(request)
    return {"running": replay.running, "status": replay.status, "counts": dict(replay.counts),
            "latest": list(replay.latest)}


@router.post("/fraud/resolve")
def fraud_resolve(request: Request, transaction_id: str = Form(...), label: str = Form(...)):
    fraud.resolve(services(request), transaction_id, label, "resolved on the dashboard")
    return RedirectResponse("/fraud", status_code=303)


def ring_figure(ring: dict, title: str) -> str:
    """Accounts on an outer circle, what links them (devices, IPs, payment accounts, phones, addresses) inside."""
    import math

    accounts = ring["accounts"]
    entities = list(dict.fromkeys((link["kind"], link["value"]) for link in ring["links"]))
    place = {("account", a): (math.cos(2 * math.pi * i / len(accounts)), math.sin(2 * math.pi * i / len(accounts)))
             for i, a in enumerate(accounts)}
    for i, entity in enumerate(entities):
        angle = 2 * math.pi * (i + 0.5) / max(len(entities), 1)
        place[entity] = (0.45 * math.cos(angle), 0.45 * math.sin(angle))
    xs, ys = [], []
    for link in ring["links"]:
        (x0, y0), (x1, y1) = place[("account", link["account"])], place[(link["kind"], link["value"])]
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    figure = go.Figure([go.Scatter(x=xs, y=ys, mode="lines", line=dict(color="#bbb", width=1), hoverinfo="skip",
                                   showlegend=False)])
    figure.add_trace(go.Scatter(x=[place[("account", a)][0] for a in accounts],
                                y=[place[("account", a)][1] for a in accounts], mode="markers+text", name="accounts",
                                text=accounts, textposition="top center", marker=dict(size=14, color="#0f4c5c")))
    kinds = sorted({k for k, _ in entities})
    for kind in kinds:
        mine = [e for e in entities if e[0] == kind]
        figure.add_trace(go.Scatter(x=[place[e][0] for e in mine], y=[place[e][1] for e in mine], mode="markers",
                                    name=kind, text=[v for _, v in mine], hoverinfo="text+name",
                                    marker=dict(size=10, symbol="diamond")))
    figure.update_layout(title=title, xaxis=dict(visible=False), yaxis=dict(visible=False),
                         margin=dict(t=40, l=10, r=10, b=10), height=420)
    return figure.to_json()


@router.get("/abuse", response_class=HTMLResponse)
def abuse_page(request: Request, case: str | None = None):
    service = services(request)
    queue, error, chart, members = [], None, None, None
    try:
        queue = abuse.cases(service, "open", 100)
        if case:
            ring = abuse.service(service).ring_graph(case)
            members = ring["accounts"]
            chart = ring_figure(ring, f"{case}: {len(members)} accounts and what links them")
    except NiagaError as exc:
        error = str(exc)
    rings = [c for c in queue if c.kind == "ring"]
    sellers = [c for c in queue if c.kind == "seller"]
    accounts = [c for c in queue if c.kind == "account"]
    return page(request, "abuse.html", "Abuse: the case queue by ring and seller", rings=rings, sellers=sellers,
                accounts=accounts, case=case, chart=chart, members=members, error=error)


@router.post("/abuse/resolve")
def abuse_resolve(request: Request, case_id: str = Form(...), verdict: str = Form(...)):
    abuse.service(services(request)).resolve(case_id, verdict, "resolved on the dashboard")
    return RedirectResponse("/abuse", status_code=303)


@router.get("/recommend", response_class=HTMLResponse)
@router.post("/recommend", response_class=HTMLResponse)
def recommend_page(request: Request, user_id: str = Form(""), item_id: str = Form(""), k: int = Form(10)):
    service = services(request)
    k = max(1, min(k, recommend.MAX_K))
    for_user = together = error = None
    try:
        if user_id.strip():
            for_user = recommend.for_user(service, user_id.strip(), k)
        if item_id.strip():
            together = recommend.bought_together(service, item_id.strip(), k)
    except NiagaError as exc:
        error = str(exc)
    return page(request, "recommend.html", "Recommendations: for you and bought together", user_id=user_id,
                item_id=item_id, k=k, for_user=for_user, together=together, error=error)


@router.get("/products", response_class=HTMLResponse)
@router.post("/products", response_class=HTMLResponse)
def products_page(request: Request, image: UploadFile | None = File(None), k: int = Form(8)):
    service = services(request)
    labels = found = error = None
    try:
        if image is not None and image.filename:
            data = image.file.read(vision.MAX_IMAGE_BYTES + 1)
            _, _, index = vision.served(service)
            if index is None:
                labels = vision.recognize(service, data, image.filename)
            else:
                found = vision.similar(service, data, max(1, min(k, 50)), image.filename)
                labels = found.predicted
        else:
            vision.served(service)  # say at once when no model is registered
    except NiagaError as exc:
        error = str(exc)
    return page(request, "products.html", "Products: recognition and visual search", labels=labels, found=found,
                error=error)


@router.get("/products/catalogue/{row}")
def catalogue_image(request: Request, row: int):
    """A catalogue image of the served index, by its row: only indexed files are ever sent."""
    _, _, index = vision.served(services(request))
    if index is None or not 0 <= row < len(index) or "path" not in index.items.columns:
        return HTMLResponse("no such catalogue image", status_code=404)
    return FileResponse(index.items["path"].iloc[row])
