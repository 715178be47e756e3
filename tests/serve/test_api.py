"""The API: auth, every endpoint on the tiny system, errors as one line of JSON, metrics."""

from fastapi.testclient import TestClient

from niaga.serve.app import create_app


def test_endpoints_need_a_valid_key_and_a_revoked_key_stops_working(system):
    settings, key = system
    with TestClient(create_app(settings)) as anonymous:
        body = {"texts": ["bagus"]}
        assert anonymous.post("/api/v1/text/normalize", json=body).status_code == 401
        assert anonymous.post("/api/v1/text/normalize", json=body, headers={"X-API-Key": key + "x"}).status_code == 401
        assert anonymous.post("/api/v1/text/normalize", json=body, headers={"X-API-Key": key}).status_code == 200
        assert anonymous.get("/healthz").status_code == 200 and anonymous.get("/metrics").status_code == 200
        from niaga.store import Store

        services = anonymous.app.state.services
        temporary = services.read(lambda store: store.add_key("temporary"))
        assert anonymous.post("/api/v1/text/normalize", json=body, headers={"X-API-Key": temporary}).status_code == 200
        services.read(lambda store: store.revoke_key(temporary.split("_")[1]))
        services._keys.clear()  # the cache would otherwise trust it for a few more seconds
        assert anonymous.post("/api/v1/text/normalize", json=body, headers={"X-API-Key": temporary}).status_code == 401


def test_text_reviews_social_customers(client):
    normalized = client.post("/api/v1/text/normalize", json={"texts": ["Barang2 bagusss bgt 😍"], "emoji": "word"})
    assert normalized.json()["normalized"] == ["barang-barang bagus banget suka"]
    reviews = client.post("/api/v1/reviews/classify", json={"texts": ["barang bagus sekali", "rusak parah kecewa"]}).json()
    assert [r["label"] for r in reviews["results"]] == ["Happy", "Anger"] and reviews["model"] == "reviews/emotion"
    assert abs(sum(reviews["results"][0]["probabilities"].values()) - 1) < 1e-3
    missing = client.post("/api/v1/reviews/classify", json={"texts": ["x"], "task": "sentiment"})
    assert missing.status_code == 404 and "niaga serve models add reviews sentiment" in missing.json()["detail"]
    extracted = client.post("/api/v1/social/extract", json={"texts": ["sudah bayar Rp150rb pakai GoPay"]}).json()
    first = extracted["results"][0]
    assert first["price"] == [150000] and first["payment_methods"] == ["GoPay"]
    text = "sudah bayar Rp150rb pakai GoPay"
    assert text[slice(*first["payment_spans"][0])] == "GoPay"
    posts = client.post("/api/v1/social/classify", json={"texts": ["sudah transfer 150rb tapi pesanan belum diproses",
                                                                   "nonton bola malam ini"]}).json()["results"]
    assert [p["label"] for p in posts] == ["TRANSACTION", "NON_TRANSACTION"] and posts[0]["activity"] == "payment"
    segments = client.get("/api/v1/customers/segments").json()
    assert segments["customers"] == 40 and sum(s["customers"] for s in segments["segments"]) == 40
    profile = client.get("/api/v1/customers/2000/profile", params={"age": "19"}).json()
    assert profile["customer_id"] == "2000" and profile["segment"] in ("at risk", "cannot lose")
    assert any(o["rule"] == "win back" for o in profile["offers"])
    unknown = client.get("/api/v1/customers/999999/profile")
    assert unknown.status_code == 422 and "is not in" in unknown.json()["detail"]


def test_limits_and_errors_are_json_without_tracebacks(client):
    assert client.post("/api/v1/text/normalize", json={"texts": []}).status_code == 422
    assert client.post("/api/v1/text/normalize", json={"texts": ["x" * 20_001]}).status_code == 422
    assert client.post("/api/v1/text/normalize", json={"texts": ["a"] * 257}).status_code == 422
    broken = client.post("/api/v1/reviews/classify", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "Traceback" not in broken.text


def test_metrics_count_requests_by_route_and_observe_scores(client):
    client.post("/api/v1/reviews/classify", json={"texts": ["barang bagus sekali"]})
    text = client.get("/metrics").text
    assert 'niaga_requests_total{method="POST",route="/api/v1/reviews/classify",status="200"}' in text
    assert 'niaga_request_seconds_bucket{le="0.5",method="POST",route="/api/v1/reviews/classify"}' in text
    assert 'niaga_model_score_count{capability="reviews"}' in text


def test_every_endpoint_documents_a_request_example_that_works(client):
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody")
            if not body:
                continue
            schema = body["content"]["application/json"]["schema"]
            ref = schema["$ref"].rsplit("/", 1)[1]
            examples = spec["components"]["schemas"][ref].get("examples")
            assert examples, f"{method.upper()} {path}: no request example"
            response = client.request(method, path, json=examples[0])
            assert response.status_code == 200, (path, response.text)
