"""The Upstash REST gateway speaks the protocol the official upstash-redis client expects."""

from __future__ import annotations

import httpx
import pytest
from upstash_redis import Redis
from upstash_redis.errors import UpstashError

from tests.conftest import GATEWAY_TOKEN


@pytest.fixture
def upstash(upstash_gateway):
    client = Redis(upstash_gateway.url, GATEWAY_TOKEN, rest_retries=0)
    yield client
    client.close()


def test_the_official_client_works_unchanged(upstash, redis_prefix):
    key = f"{redis_prefix}k"
    assert upstash.ping() == "PONG"
    assert upstash.set(key, 'héllo {json} "quoted"', ex=30) is True
    assert upstash.get(key) == 'héllo {json} "quoted"'  # base64 on the wire, decoded by the client
    assert upstash.get(f"{redis_prefix}missing") is None
    assert upstash.hset(f"{redis_prefix}h", values={"a": "1", "b": "2"}) == 2
    assert upstash.hgetall(f"{redis_prefix}h") == {"a": "1", "b": "2"}
    assert upstash.eval("return {1, 'two', KEYS[1]}", keys=[key]) == [1, "two", key]

    pipeline = upstash.pipeline()
    pipeline.incr(f"{redis_prefix}n")
    pipeline.incr(f"{redis_prefix}n")
    pipeline.get(f"{redis_prefix}n")
    assert pipeline.exec() == [1, 2, "2"]
    transaction = upstash.multi()
    transaction.set(f"{redis_prefix}t", "v")
    transaction.get(f"{redis_prefix}t")
    assert transaction.exec() == [True, "v"]
    assert upstash.delete(key, f"{redis_prefix}h", f"{redis_prefix}n", f"{redis_prefix}t") == 4


def test_errors_come_back_as_upstash_does(upstash, upstash_gateway):
    with pytest.raises(UpstashError, match="^NOSCRIPT "):
        upstash.evalsha("0" * 40)
    with pytest.raises(UpstashError, match="^ERR unknown command 'NOPE'"):
        upstash.execute(["NOPE"])
    with pytest.raises(UpstashError, match="^Unauthorized$"):
        Redis(upstash_gateway.url, "wrong", rest_retries=0).ping()

    url, auth = upstash_gateway.url, {"Authorization": f"Bearer {GATEWAY_TOKEN}"}
    assert httpx.post(url, json=["GET"], headers=auth).status_code == 400
    assert httpx.post(url, content=b"[", headers=auth).json() == {
        "error": "ERR failed to parse the request body as JSON"
    }
    assert httpx.post(url, json=["SELECT", "1"], headers=auth).json() == {"error": "ERR Command is not allowed: select"}
    assert httpx.post(url, json=["PING"]).status_code == 401
    assert httpx.delete(url, headers=auth).status_code == 405
    assert httpx.get(f"{url}/echo/a%20b", params={"_token": GATEWAY_TOKEN}).json() == {"result": "a b"}
    pipeline = httpx.post(f"{url}/pipeline", json=[["PING"], ["NOPE"]], headers=auth)
    assert pipeline.status_code == 200
    assert pipeline.json()[0] == {"result": "PONG"} and pipeline.json()[1]["error"].startswith("ERR unknown command")
    aborted = httpx.post(f"{url}/multi-exec", json=[["PING"], ["NOPE"]], headers=auth)
    assert aborted.status_code == 400 and aborted.json()["error"].startswith("EXECABORT")
