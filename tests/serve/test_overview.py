"""The overview shows the business (sales, products, cohorts, fraud, reviews, segments, forecast, what the
recommendations earned) and the models page lists the models with their key figure, without raw JSON."""


def test_overview_shows_the_business_for_a_date_range(client):
    page = client.get("/", params={"start": "2011-01-01", "end": "2011-12-31", "freq": "month"})
    assert page.status_code == 200
    html = page.text
    for panel in ('id="kpi-gmv"', 'id="sales"', 'id="customers-chart"', 'id="top-products"', 'id="cohorts"',
                  'id="forecast-panel"', 'id="segments"', 'id="reviews-chart"'):
        assert panel in html, panel
    # the served demand model (the fixture registers forecast/orders) charts its top items with their intervals
    assert "Demand forecast of the top" in html and "no forecast model yet" not in html
    assert "PRODUCT 2" in html  # a product's name from the order lines
    bad = client.get("/", params={"start": "yesterday"})
    assert bad.status_code == 200 and "start: &#39;yesterday&#39; is not a date" in bad.text


def test_models_page_has_the_key_figures_not_raw_json(client):
    html = client.get("/models").text
    assert "emotion" in html and "segments" in html and "{&#34;" not in html and '{"' not in html
    assert 'class="key-figure"' in html
