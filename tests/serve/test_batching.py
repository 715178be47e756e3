"""Micro-batching of the review endpoint: concurrent requests share model calls and each gets its own answer."""

import asyncio
import time

import pytest

from niaga.serve.routers.reviews import MicroBatcher

from .conftest import NEG, POS


def test_concurrent_requests_share_model_calls_and_get_their_own_answers():
    calls = []

    def run(model, texts):
        calls.append(len(texts))
        time.sleep(0.01)  # a model call: requests arriving meanwhile wait for the next one
        return [t.upper() for t in texts], [[len(t)] for t in texts], ["only"]

    async def main():
        batcher = MicroBatcher(lambda: "model", run)

        async def one(i):
            await asyncio.sleep(i * 0.001)
            return await batcher([f"a{i}", f"b{i}"][: 1 + i % 2])

        return await asyncio.gather(*(one(i) for i in range(60)))

    results = asyncio.run(main())
    for i, (labels, proba, classes) in enumerate(results):
        texts = [f"a{i}", f"b{i}"][: 1 + i % 2]
        assert list(labels) == [t.upper() for t in texts] and [p[0] for p in proba] == [len(t) for t in texts]
        assert classes == ["only"]
    assert sum(calls) == sum(1 + i % 2 for i in range(60)) and len(calls) < 30  # batched, nothing lost


def test_a_failing_model_call_fails_every_request_of_its_batch_and_the_next_batch_runs():
    attempts = []

    def run(model, texts):
        attempts.append(texts)
        if len(attempts) == 1:
            raise ValueError("model broke")
        return texts, [[1.0]] * len(texts), ["x"]

    async def main():
        batcher = MicroBatcher(lambda: "model", run)
        first = await asyncio.gather(batcher(["a"]), return_exceptions=True)
        second = await batcher(["b"])
        return first, second

    first, second = asyncio.run(main())
    assert isinstance(first[0], ValueError) and list(second[0]) == ["b"]


def test_the_endpoint_answers_concurrent_requests_like_one_at_a_time(live_server):
    import httpx

    url, key = live_server
    texts = [POS[i % 3] if i % 2 else NEG[i % 3] for i in range(24)]

    async def main():
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=30) as client:
            alone = [(await client.post("/api/v1/reviews/classify", json={"texts": [t]})).json() for t in texts[:6]]
            together = await asyncio.gather(*(client.post("/api/v1/reviews/classify", json={"texts": [t]})
                                              for t in texts))
            return alone, [r.json() for r in together]

    alone, together = asyncio.run(main())
    for i, answer in enumerate(together):
        assert answer["results"][0]["label"] == ("Happy" if texts[i] in POS else "Anger")
    for one, many in zip(alone, together):  # the same figures in a batch as alone (4 decimals)
        a, b = one["results"][0], many["results"][0]
        assert a["label"] == b["label"] and a["confidence"] == pytest.approx(b["confidence"], abs=1e-4)
