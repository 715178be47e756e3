"""The dashboard in a real browser: headless Chromium from Debian's packages, driven by Playwright."""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed: 'make install' installs Debian's chromium package (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture()
def page(browser, live_server):
    url, _ = live_server
    context = browser.new_context(base_url=url)
    opened = context.new_page()
    errors = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_overview_shows_the_business_and_the_models_page_lists_the_models(page, live_server):
    import httpx

    url, key = live_server
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as api:  # a recommendation shown, then clicked
        shown = api.get("/api/v1/recommend/users/12003", params={"k": 3, "experiment": "reco-ab"}).json()
        api.post("/api/v1/events", json={"events": [{"event": "click", "user_id": "12003", "request_id":
                                                     shown["request_id"], "item_id": shown["items"][0]["item"]}]})
    page.goto("/")
    assert float(page.inner_text("#kpi-gmv").replace(",", "")) > 0 and int(page.inner_text("#kpi-orders")) > 0
    for chart in ("sales", "customers-chart", "cohorts", "segments", "reviews-chart", "ctr"):
        page.wait_for_selector(f"#{chart} .main-svg")  # plotly drew it from the bundled script, no CDN
    assert page.locator("#top-products tr").count() > 1
    page.wait_for_selector("#forecast .main-svg")  # the served demand model's top items with their intervals
    assert page.locator("#forecast-items tr").count() > 1
    assert "reco-ab" in page.inner_text("#by-arm")
    page.fill("#start", "2011-03-01")
    page.fill("#end", "2011-03-31")
    page.select_option("#freq", "day")
    page.click("#apply")
    assert "start=2011-03-01" in page.url and "GMV and orders per day" in page.inner_text("#sales")
    page.click("nav a[href='/models']")
    assert "reviews" in page.inner_text("#models") and "segments" in page.inner_text("#models")
    assert page.locator("#models td.key-figure").count() >= 5


def test_reviews_form_classifies_pasted_reviews(page):
    page.goto("/reviews")
    page.fill("#text", "barang bagus sekali mantap\nbarang rusak parah kecewa")
    page.click("#classify")
    labels = page.locator("td.label-emotion strong").all_inner_texts()
    assert labels == ["Happy", "Anger"]
    page.wait_for_selector("#labels .main-svg")
    assert "no reviews model 'sentiment' is registered" in page.inner_text("#error")  # said, not a crash


def test_social_form_highlights_what_it_extracted(page):
    page.goto("/social")
    page.fill("#text", "sudah transfer 150rb tapi pesanan belum diproses")
    page.click("#analyse")
    assert page.inner_text("#verdict").startswith("TRANSACTION")
    assert page.inner_text("#highlighted mark.price") == "150rb"
    assert page.inner_text("#highlighted mark.payment") == "transfer"


def test_customers_page_charts_segments_and_shows_a_profile_with_offers(page):
    page.goto("/customers")
    page.wait_for_selector("#segments .main-svg")
    page.fill("#customer_id", "2000")
    page.click("#lookup")
    assert page.inner_text("#segment") in ("at risk", "cannot lose")
    assert page.locator("#offers li:not(.muted)").count() >= 1


def test_fraud_page_streams_a_replay_and_works_the_review_queue(page):
    page.goto("/fraud")
    page.fill("#count", "150")
    page.click("#replay")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('replay done')", timeout=60_000)
    assert page.locator("#feed tr").count() > 1  # the latest decisions
    page.wait_for_selector("#by-decision .main-svg")
    page.goto("/fraud")
    rows = page.locator("#queue tr[id^=case-]")
    assert rows.count() >= 1  # the card tried 12 times in a minute (conftest) is one
    case = rows.first.get_attribute("id")
    rows.first.locator("button.approve").click()
    assert page.locator(f"#{case}").count() == 0  # resolved: gone from the open queue


def test_recommend_page_lists_items_with_reasons_and_says_the_fallback(page):
    page.goto("/recommend")
    page.fill("#user_id", "12003")
    page.fill("#k", "5")
    page.click("#recommend")
    assert page.locator("#for-user tr").count() == 6  # header + 5 items
    assert page.locator(".fallback").count() == 0
    page.fill("#user_id", "someone-new")
    page.click("#recommend")
    assert "no history" in page.inner_text(".fallback")


def test_products_page_recognizes_an_uploaded_photo_and_shows_similar_products(page, photo):
    page.goto("/products")
    page.set_input_files("#image", files=[{"name": "heels.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.click("#recognize")
    assert "article" in page.inner_text("#labels")
    images = page.locator("#similar img")
    assert images.count() >= 1
    page.wait_for_function("[...document.querySelectorAll('#similar img')].every(i => i.complete && i.naturalWidth > 0)")
