"""The send path through httpx's transport seam: headers, bodies, errors, request keys, closing."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from console.errors import (
    AbortedError,
    ApiError,
    InvalidUrlError,
    NetworkError,
    RequestTimeoutError,
    ServerError,
)
from console.pocketbase import AuthStore, PocketBase, RecordModel

EMPTY_LIST = {"page": 1, "perPage": 30, "totalItems": 0, "totalPages": 0, "items": []}


def _client(handler) -> PocketBase:
    return PocketBase("http://pb.test", transport=httpx.MockTransport(handler))


async def test_headers_params_and_json_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "r1", "collectionName": "devices"})

    async with _client(handler) as pb:
        pb.auth_store.save("tok123")
        await pb.collection("devices").create({"name": "x", "n": 1, "ok": True}, expand="site")
        await pb.collection("my devices").get_one("r1", fields="id")
    create, view = seen
    assert create.method == "POST" and create.url.path == "/api/collections/devices/records"
    assert create.url.params["expand"] == "site"
    assert create.headers["authorization"] == "tok123" and create.headers["accept-language"] == "en-US"
    assert json.loads(create.content) == {"name": "x", "n": 1, "ok": True}
    assert view.url.raw_path == b"/api/collections/my%20devices/records/r1?fields=id"


async def test_multipart_sends_json_payload_and_files() -> None:
    captured: dict[str, bytes] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        captured["type"] = request.headers["content-type"].encode()
        captured["body"] = request.read()
        return httpx.Response(200, json={"id": "r1"})

    async with _client(handler) as pb:
        await pb.collection("docs").create(
            body={"title": "Hello", "n": 2, "meta": {"a": RecordModel({"id": "x"})}},
            files=[("document", ("example.txt", b"example content", "text/plain"))],
        )
    assert captured["type"].startswith(b"multipart/form-data")
    assert b'name="@jsonPayload"' in captured["body"]
    assert b'{"title": "Hello", "n": 2, "meta": {"a": {"id": "x"}}}' in captured["body"]
    assert b'filename="example.txt"' in captured["body"] and b"example content" in captured["body"]


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected_class", "expected_text"),
    [
        (404, b'{"status":404,"message":"Missing collection context.","data":{}}', "application/json",
         ApiError, "Missing collection context."),
        (502, b"<html><title>502 Bad Gateway</title></html>", "text/html", ServerError, "Bad gateway"),
        (500, b'{"status":500,"mess', "application/json", ServerError, "cut off"),
    ],
)
async def test_http_errors_are_readable(status, body, content_type, expected_class, expected_text) -> None:
    async with _client(lambda r: httpx.Response(status, content=body, headers={"content-type": content_type})) as pb:
        with pytest.raises(expected_class) as caught:
            await pb.collection("x").get_list()
    assert caught.value.status == status and expected_text in caught.value.message


async def test_transport_failures_map_into_the_family() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    async with _client(refuse) as pb:
        with pytest.raises(NetworkError, match="refused"):
            await pb.health.check()
    async with _client(slow) as pb:
        with pytest.raises(RequestTimeoutError):
            await pb.health.check()


async def test_malformed_success_body_is_a_readable_error() -> None:
    async with _client(lambda r: httpx.Response(200, content=b"<html>proxy login</html>")) as pb:
        with pytest.raises(ApiError) as caught:
            await pb.collection("x").get_list()
    assert "decoded" in caught.value.message


def test_bad_urls_are_refused_before_any_request() -> None:
    for url in ("pb.example.com", "ftp://pb.example.com", "http://"):
        with pytest.raises(InvalidUrlError):
            PocketBase(url)


async def test_request_key_supersedes_and_caller_cancel_propagates() -> None:
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("filter") == "slow":
            await release.wait()
        return httpx.Response(200, json=EMPTY_LIST)

    async with _client(handler) as pb:
        records = pb.collection("devices")
        first = asyncio.ensure_future(records.get_list(filter="slow", request_key="search"))
        await asyncio.sleep(0.01)
        second = await records.get_list(filter="fast", request_key="search")
        assert second.items == []
        with pytest.raises(AbortedError) as caught:
            await first
        assert caught.value.is_abort and "replaced" in caught.value.message

        pending = asyncio.ensure_future(records.get_list(filter="slow", request_key="search"))
        await asyncio.sleep(0.01)
        pb.cancel_request("search")
        with pytest.raises(AbortedError):
            await pending

        mine = asyncio.ensure_future(records.get_list(filter="slow", request_key="search"))
        await asyncio.sleep(0.01)
        mine.cancel()
        with pytest.raises(asyncio.CancelledError):
            await mine
        release.set()


async def test_close_aborts_and_refuses_further_requests() -> None:
    pb = _client(lambda r: httpx.Response(200, json=EMPTY_LIST))
    async with pb:
        pass
    with pytest.raises(AbortedError):
        await pb.collection("x").get_list()
    await pb.close()  # twice is fine


async def test_auth_store_can_be_shared_and_preloaded() -> None:
    store = AuthStore("preloaded")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json={"code": 200, "message": "API is healthy.", "data": {}})

    async with PocketBase("http://pb.test/", auth_store=store, transport=httpx.MockTransport(handler)) as pb:
        assert pb.base_url == "http://pb.test"
        await pb.health.check()
        store.clear()
        await pb.health.check()
    assert seen == ["preloaded", ""]


async def test_full_list_survives_the_servers_per_page_clamp() -> None:
    """PocketBase clamps perPage to 1000: a bigger batch must not be mistaken for the last page."""
    rows = [{"id": f"r{i:05d}", "n": i} for i in range(2500)]
    asked: list[tuple[int, int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        per_page = min(int(request.url.params["perPage"]), 1000)
        asked.append((page, int(request.url.params["perPage"])))
        chunk = rows[(page - 1) * per_page : page * per_page]
        total = -1 if request.url.params.get("skipTotal") else len(rows)
        pages = -1 if total < 0 else -(-len(rows) // per_page)
        body = {"page": page, "perPage": per_page, "totalItems": total, "totalPages": pages, "items": chunk}
        return httpx.Response(200, json=body)

    async with _client(handler) as pb:
        items = await pb.collection("big").get_full_list(batch=5000)
    assert [r.get_int_value("n") for r in items] == list(range(2500))
    assert sorted(page for page, _ in asked) == [1, 2, 3]
