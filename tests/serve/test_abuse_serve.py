"""/api/v1/abuse and the dashboard's abuse page on a small simulated marketplace: online decisions for the
takeover pattern and its look-alike, the case queue by ring and seller, resolving a case, a ring drawn in a
real browser (headless Chromium)."""

from __future__ import annotations

import shutil

import pytest

from niaga.config import Settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def abuse_system(tmp_path_factory):
    from niaga.abuse import pipeline, schema
    from niaga.abuse.simulate import simulate
    from niaga.modeling import save_model
    from niaga.store import Store

    root = tmp_path_factory.mktemp("abuse-system")
    tables = simulate(accounts=400, days=30, seed=1)
    model, metrics = pipeline.train(schema.from_frames(tables), params={"n_estimators": 20})
    save_model(model, root / "abuse", metrics=metrics)
    settings = Settings(store=root / "niaga.duckdb", models=root, require_api_key=True)
    with Store(settings.store) as store:
        store.register_model("abuse", "marketplace", root / "abuse")
        key = store.add_key("tests")
    return settings, key, tables


@pytest.fixture(scope="module")
def client(abuse_system):
    from fastapi.testclient import TestClient

    from niaga.serve.app import create_app

    settings, key, _ = abuse_system
    with TestClient(create_app(settings), headers={"X-API-Key": key}) as test_client:
        yield test_client


def known_account(tables):
    logins = tables["logins"]
    row = logins[logins["success"]].iloc[-1]
    return row["account_id"], row["device_id"], row["ip"]


def test_login_new_device_without_otp_is_challenged_and_with_otp_approved(client, abuse_system):
    account, device, ip = known_account(abuse_system[2])
    same = client.post("/api/v1/abuse/login", json={"account_id": account, "time": "2026-11-20 10:00:00",
                                                    "success": True, "ip": ip, "device_id": device})
    assert same.status_code == 200 and same.json()["decision"] == "approve"
    new = client.post("/api/v1/abuse/login", json={"account_id": account, "time": "2026-11-20 11:00:00",
                                                   "success": True, "ip": "203.0.113.9", "device_id": "dev-unseen-1"})
    assert new.json()["decision"] == "otp" and new.json()["reasons"][0].startswith("ATO02")
    owner = client.post("/api/v1/abuse/login", json={"account_id": account, "time": "2026-11-20 11:05:00",
                                                     "success": True, "ip": "203.0.113.10",
                                                     "device_id": "dev-unseen-2", "otp": True})
    assert owner.json()["decision"] == "approve"  # the honest new phone passed its OTP


def test_stuffing_then_takeover_is_blocked_and_its_order_stopped(client, abuse_system):
    accounts = abuse_system[2]["accounts"]["account_id"].tolist()[:8]
    answers = [client.post("/api/v1/abuse/login", json={"account_id": a, "time": "2026-11-21 02:00:00",
                                                        "success": False, "ip": "198.51.100.7"}).json()
               for a in accounts]
    assert answers[0]["decision"] == "approve" and answers[-1]["decision"] == "block"
    victim = accounts[-1]
    login = client.post("/api/v1/abuse/login", json={"account_id": victim, "time": "2026-11-21 03:00:00",
                                                     "success": True, "ip": "198.51.100.8", "device_id": "dev-attacker"})
    assert login.json()["decision"] == "block" and login.json()["typology"] == "account_takeover"
    change = client.post("/api/v1/abuse/change", json={"account_id": victim, "time": "2026-11-21 03:20:00",
                                                       "field": "phone", "device_id": "dev-attacker"})
    assert change.json()["decision"] == "otp"
    order = client.post("/api/v1/abuse/order", json={
        "order_id": "o-1", "account_id": victim, "seller_id": "shop-x", "time": "2026-11-21 04:00:00",
        "amount": 5_000_000, "shipping_address": "Jl. Gudang Gelap No. 13, Batam", "category": "voucher"})
    assert order.json()["decision"] == "block" and order.json()["typology"] == "account_takeover"


def test_bad_requests_are_refused_with_the_field(client):
    bad = client.post("/api/v1/abuse/order", json={"order_id": "o", "account_id": "a", "seller_id": "s",
                                                   "time": "2026-11-21", "amount": -5})
    assert bad.status_code == 422 and "amount" in bad.text
    assert client.post("/api/v1/abuse/login", json={"account_id": "a", "time": "x", "success": True}).status_code in (
        400, 422)


def test_case_queue_groups_rings_and_resolves(client):
    cases = client.get("/api/v1/abuse/cases").json()
    assert any(c["kind"] == "ring" and len(c["members"]) >= 2 for c in cases)
    ring = next(c for c in cases if c["kind"] == "ring")
    graph = client.get(f"/api/v1/abuse/accounts/{ring['members'][0]}/ring").json()
    assert graph["ring_id"] == ring["case_id"] and set(ring["members"]) <= set(graph["accounts"]) and graph["links"]
    alone = client.get("/api/v1/abuse/accounts/nobody/ring").json()
    assert alone == {"ring_id": None, "accounts": ["nobody"], "links": []}
    done = client.post(f"/api/v1/abuse/cases/{ring['case_id']}/resolve", json={"verdict": "abuse"})
    assert done.status_code == 200
    assert ring["case_id"] not in {c["case_id"] for c in client.get("/api/v1/abuse/cases").json()}
    assert client.post("/api/v1/abuse/cases/nope/resolve", json={"verdict": "abuse"}).status_code == 422
    reported = client.post("/api/v1/abuse/cases/account:acc-reported/resolve", json={"verdict": "abuse"})
    assert reported.status_code == 200  # an account a customer reported, outside the queue


@pytest.fixture(scope="module")
def live_server(abuse_system, app_server):
    with app_server(abuse_system[0]) as url:
        yield url


def test_dashboard_draws_a_ring_and_resolves_a_case(live_server):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed: 'make install' installs Debian's chromium package (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(base_url=live_server)
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto("/abuse")
        rings = page.locator("#rings tr[data-case]")
        assert rings.count() >= 1
        rings.first.locator("a.show-ring").click()
        page.wait_for_selector("#ring-graph .main-svg")  # plotly drew the ring from the bundled script
        first = page.locator("#rings tr[data-case]").first
        case = first.get_attribute("data-case")
        first.locator("button.approve").click()
        page.wait_for_url("**/abuse")
        assert case not in page.locator("#rings tr[data-case]").evaluate_all("rows => rows.map(r => r.dataset.case)")
        browser.close()
        assert not errors, errors
