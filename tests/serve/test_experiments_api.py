"""Experiments through the API: sticky assignment, recommendation responses stamped and logged as shown, clicks
and orders posted in batches (bad ones quarantined), and CTR / conversion per source and arm."""

from niaga.analytics.experiment.assignment import Split, assign


def test_assignment_is_sticky_and_follows_the_split(client):
    first = client.get("/api/v1/experiments/reco-v2/assign", params={"user": "12347"}).json()
    assert first["variant"] in ("control", "treatment") and first["split"] == [0.5, 0.5]
    assert client.get("/api/v1/experiments/reco-v2/assign", params={"user": "12347"}).json() == first
    arms = [client.get("/api/v1/experiments/banner/assign",
                       params={"user": f"u{i}", "arms": "a,b", "split": "90,10"}).json()["variant"] for i in range(200)]
    assert 0.8 < arms.count("a") / 200 < 0.97
    assert arms[5] == assign("banner", "u5", Split(("a", "b"), (90, 10)))  # the CLI and the API agree
    bad = client.get("/api/v1/experiments/x/assign", params={"user": "1", "split": "1,zz"})
    assert bad.status_code == 422 and "split" in bad.json()["detail"]


def test_recommendations_are_stamped_logged_and_measured(client):
    response = client.get("/api/v1/recommend/users/12003", params={"k": 3, "experiment": "reco-ab"}).json()
    assert len(response["request_id"]) == 32 and response["experiment"] == "reco-ab"
    assert response["variant"] == assign("reco-ab", "12003") and len(response["items"]) == 3
    item = response["items"][0]["item"]
    logged = client.post("/api/v1/events", json={"events": [
        {"event": "click", "user_id": "12003", "item_id": item, "request_id": response["request_id"]},
        {"event": "order", "user_id": "12003", "item_id": item, "request_id": response["request_id"], "value": 99000},
        {"event": "purchase?", "user_id": "12003", "item_id": item},
        {"event": "click", "item_id": item},
        {"event": "order", "user_id": "12003", "item_id": item, "value": "banyak"}]}).json()
    assert logged["stored"] == 2 and logged["quarantined"] == 3
    assert [(p["row"], p["field"]) for p in logged["problems"]] == [(3, "event"), (4, "user_id"), (5, "value")]
    rates = client.get("/api/v1/events/rates").json()
    source = response["items"][0]["source"]
    row = next(r for r in rates["by_source"] if r["source"] == source)
    assert row["shown"] >= 1 and row["clicks"] >= 1 and 0 < row["ctr"] <= 1
    arm = next(r for r in rates["by_arm"] if r["experiment"] == "reco-ab")
    assert arm["variant"] == response["variant"] and arm["users"] == 1 and arm["conversion"] == 1.0
    assert arm["revenue"] == 99000
    found = client.get("/api/v1/experiments/reco-ab/results")  # one user, so one arm: nothing to compare yet
    assert found.json() == [] if response["variant"] == "control" else "no arm named 'control'" in found.text
    assert client.get("/api/v1/experiments/never-run/results").json() == []


def test_results_of_logged_events_and_the_plan(client):
    events = []
    for i in range(400):  # 400 users shown recommendations; the treatment converts more
        user = f"exp-user-{i}"
        variant = client.get("/api/v1/experiments/banner-test/assign", params={"user": user}).json()["variant"]
        events.append({"event": "shown", "user_id": user, "item_id": "x", "request_id": f"q{i}",
                       "experiment": "banner-test", "variant": variant, "source": "popularity"})
        if i % (3 if variant == "treatment" else 6) == 0:
            events.append({"event": "order", "user_id": user, "item_id": "x", "value": 50_000})
    assert client.post("/api/v1/events", json={"events": events}).json()["quarantined"] == 0
    rows = {r["metric"]: r for r in client.get("/api/v1/experiments/banner-test/results").json()}
    converted = rows["converted"]
    assert converted["variant"] == "treatment" and converted["users"] + converted["control_users"] == 400
    assert converted["lift"] > 0.5 and converted["p_value"] < 0.05 and not converted["srm"]
    assert rows["clicked"]["lift"] is None or rows["clicked"]["p_value"] is None  # no clicks: nothing to say
    plan = client.get("/api/v1/experiments/plan", params={"baseline": 0.05, "mde": 0.1}).json()
    assert plan["users_per_arm"] == 34363 and plan["total_users"] == 68726
    assert client.get("/api/v1/experiments/plan", params={"baseline": 2, "mde": 0.1}).status_code == 422


def test_events_batches_have_limits(client):
    assert client.post("/api/v1/events", json={"events": []}).status_code == 422
    too_many = [{"event": "click", "user_id": "1", "item_id": "2"}] * 1001
    assert client.post("/api/v1/events", json={"events": too_many}).status_code == 422
