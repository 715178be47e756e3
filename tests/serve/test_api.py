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


def test_every_endpoint_documents_a_request_example_that_works(client, photo):
    """In the spec's order: the fraud score example logs the transaction the resolve example resolves."""
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            url, query = path, {}
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" or (parameter["in"] == "query" and parameter.get("required")):
                    examples = parameter["schema"].get("examples") or parameter.get("examples")
                    assert examples, f"{method.upper()} {path}: no example for {parameter['name']}"
                    if parameter["in"] == "path":
                        url = url.replace("{" + parameter["name"] + "}", str(examples[0]))
                    else:
                        query[parameter["name"]] = examples[0]
            body = operation.get("requestBody")
            payload = files = None
            if body and "multipart/form-data" in body["content"]:
                files = {"image": ("photo.jpg", photo, "image/jpeg")}  # an upload: no example can stand in the spec
                if "/ingest/" in path:
                    files = {"files": ("orders.csv", b"order_id,timestamp\nexample-1,2024-01-01\n", "text/csv")}
            elif body:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                examples = spec["components"]["schemas"][ref].get("examples")
                assert examples, f"{method.upper()} {path}: no request example"
                payload = examples[0]
            if body or url != path:
                response = client.request(method, url, json=payload, files=files, params=query)
                assert response.status_code == 200, (url, response.text)


def test_fraud_scores_logs_and_queues(client):
    services = client.app.state.services
    later = services.read(lambda store: store.table("transactions")).sort_values("timestamp")
    first = later.iloc[0]
    body = {"transaction_id": "api-1", "timestamp": str(first["timestamp"]), "customer_id": str(first["customer_id"]),
            "terminal_id": str(first["terminal_id"]), "amount": 10_000.0}
    scored = client.post("/api/v1/fraud/score", json=body).json()
    assert scored["transaction_id"] == "api-1" and 0 <= scored["fraud_score"] <= 1
    assert scored["decision"] in ("approve", "challenge", "review", "block")
    again = client.post("/api/v1/fraud/score", json=body).json()  # the same id twice: refused, with the reason
    assert again["decision"] == "review" and "duplicate" in again["reasons"]
    assert client.post("/api/v1/fraud/score", json={**body, "amount": -1}).status_code == 422
    assert 'niaga_fraud_decisions_total{decision="' in client.get("/metrics").text
    queue = client.get("/api/v1/fraud/cases", params={"status": "all", "limit": 1000}).json()
    assert any(case["transaction_id"] == "api-1" for case in queue)  # the duplicate went to review
    resolved = client.post("/api/v1/fraud/cases/api-1/resolve", json={"label": "legit", "note": "checked"})
    assert resolved.status_code == 200
    assert all(case["transaction_id"] != "api-1" for case in client.get("/api/v1/fraud/cases").json())
    assert client.post("/api/v1/fraud/cases/nope/resolve", json={"label": "legit"}).status_code == 422


def test_no_raw_personal_data_in_an_error_body_or_a_log_line(client, caplog):
    import logging

    response = client.get("/api/v1/customers/081234567890/profile")
    assert response.status_code == 422 and "081234567890" not in response.text and "[PHONE]" in response.text
    logging.getLogger("niaga.serve").error("lookup failed for budi@contoh.co.id", extra={"caller": "wa 081234567890"})
    assert "budi@contoh.co.id" not in caplog.text and "[EMAIL]" in caplog.text
    assert caplog.records[-1].caller == "wa [PHONE]"  # an extra field, set after the record was made


def test_a_stopped_server_leaves_logging_as_it_found_it(system):
    import logging

    settings, _ = system
    before = logging.Logger.makeRecord
    with TestClient(create_app(settings)):
        assert logging.Logger.makeRecord is not before
    assert logging.Logger.makeRecord is before


def test_recommendations_for_known_and_unknown_users_and_items(client):
    known = client.get("/api/v1/recommend/users/12003", params={"k": 5}).json()
    assert known["user"] == "12003" and known["fallback"] == "" and len(known["items"]) == 5
    assert all(item["source"] and item["reason"] for item in known["items"])
    new = client.get("/api/v1/recommend/users/no-such-customer", params={"k": 3}).json()
    assert len(new["items"]) == 3 and "no history" in new["fallback"]
    item = known["items"][0]["item"]
    together = client.get(f"/api/v1/recommend/items/{item}/together", params={"k": 4}).json()
    assert together["item"] == item and len(together["items"]) == 4 and item not in [i["item"] for i in together["items"]]
    unknown = client.get("/api/v1/recommend/items/nope/together").json()
    assert "not in the catalogue" in unknown["fallback"] and unknown["items"]
    assert client.get("/api/v1/recommend/users/12003", params={"k": 0}).status_code == 422


def test_products_are_recognized_and_found_from_an_uploaded_photo(client, photo):
    labels = client.post("/api/v1/vision/recognize", files={"image": ("heels.jpg", photo, "image/jpeg")}).json()
    assert set(labels["labels"]) >= {"master", "sub", "article", "gender"}
    assert all(0 <= c <= 1 for c in labels["confidences"].values())
    assert labels["labels"]["master"] in ("Footwear", "Apparel", "Accessories")
    found = client.post("/api/v1/vision/similar", params={"k": 3},
                        files={"image": ("heels.jpg", photo, "image/jpeg")}).json()
    assert [item["rank"] for item in found["items"]] == [1, 2, 3] and found["index_items"] > 0
    scores = [item["score"] for item in found["items"]]
    assert scores == sorted(scores, reverse=True)
    broken = client.post("/api/v1/vision/recognize", files={"image": ("x.jpg", b"not an image", "image/jpeg")})
    assert broken.status_code == 422 and "not an image" in broken.json()["detail"]
    assert 'niaga_model_score_count{capability="vision"}' in client.get("/metrics").text


def test_without_a_product_model_the_api_says_how_to_train_and_add_one(tmp_path, photo):
    from niaga.config import Settings

    with TestClient(create_app(Settings(store=tmp_path / "empty.duckdb", require_api_key=False))) as client:
        missing = client.post("/api/v1/vision/recognize", files={"image": ("x.jpg", photo, "image/jpeg")})
        assert missing.status_code == 404
        assert "niaga vision train" in missing.json()["detail"] and "models add vision products" in missing.json()["detail"]
        page = client.get("/products")
        assert page.status_code == 200 and "niaga vision train" in page.text
