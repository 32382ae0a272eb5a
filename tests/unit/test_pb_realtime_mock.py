"""Realtime reconnect logic through httpx's transport seam: a clean end of stream (the server's idle close)
is a disconnect like any error, and every new PB_CONNECT resubmits all topics."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from console.errors import PermissionDeniedError
from console.pocketbase import PocketBase, RealtimeEvent

WAIT = 30.0


def _frame(event: str, data: dict) -> bytes:
    return f"id:x\nevent:{event}\ndata:{json.dumps(data)}\n\n".encode()


async def test_clean_eof_reconnects_and_resubmits() -> None:
    connections = 0
    posts: list[dict] = []
    hold = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal connections
        if request.method == "GET":
            connections += 1
            client_id = f"client{connections}"
            number = connections

            async def stream():
                yield _frame("PB_CONNECT", {"clientId": client_id})
                if number == 1:
                    await asyncio.sleep(0.05)
                    return  # a clean end of stream, like the 5-minute idle close
                yield _frame("devices/*", {"action": "create", "record": {"id": "r1", "collectionName": "devices"}})
                await hold.wait()

            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream())
        posts.append(json.loads(request.content))
        return httpx.Response(204)

    async with PocketBase("http://pb.test", transport=httpx.MockTransport(handler)) as pb:
        pb.realtime.reconnect_delays = (0.01,)
        connects: asyncio.Queue[bool] = asyncio.Queue()
        drops: list[list[str]] = []
        pb.realtime.on_connect(connects.put_nowait)
        pb.realtime.on_disconnect(drops.append)
        events: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        await pb.collection("devices").subscribe("*", events.put_nowait)
        async with asyncio.timeout(WAIT):
            assert await connects.get() is False
            assert await connects.get() is True
            event = await events.get()
        assert event.action == "create" and event.record.id == "r1" and event.topic == "devices/*"
        assert drops == [["devices/*"]]
        assert {"clientId": "client2", "subscriptions": ["devices/*"]} in posts
        assert all(p["subscriptions"] == ["devices/*"] for p in posts)
        hold.set()


async def test_refused_stream_fails_subscribe_readably() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"status": 403, "message": "Realtime is off.", "data": {}})

    async with PocketBase("http://pb.test", transport=httpx.MockTransport(handler)) as pb:
        with pytest.raises(PermissionDeniedError, match="Realtime is off"):
            await pb.collection("devices").subscribe("*", lambda event: None)
        assert pb.realtime.topics == [] and not pb.realtime.is_connected


async def test_stale_client_id_waits_for_the_next_connection() -> None:
    """A subscribe POST that meets a dead client id (404) waits for the next PB_CONNECT and resubmits there."""
    connections = 0
    posts: list[dict] = []
    first_stream_ends = asyncio.Event()
    hold = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal connections
        if request.method == "GET":
            connections += 1
            client_id, number = f"client{connections}", connections

            async def stream():
                yield _frame("PB_CONNECT", {"clientId": client_id})
                if number == 1:
                    await first_stream_ends.wait()
                    return
                await hold.wait()

            return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream())
        posts.append(json.loads(request.content))
        if len(posts) == 2:  # the subscriber's own POST: the client died meanwhile
            first_stream_ends.set()
            return httpx.Response(404, json={"status": 404, "message": "Missing or invalid client id.", "data": {}})
        return httpx.Response(204)

    async with PocketBase("http://pb.test", transport=httpx.MockTransport(handler)) as pb:
        pb.realtime.reconnect_delays = (0.01,)
        async with asyncio.timeout(WAIT):
            await pb.collection("devices").subscribe("*", lambda event: None)
        assert pb.realtime.client_id == "client2" and pb.realtime.is_connected
        assert posts[-1] == {"clientId": "client2", "subscriptions": ["devices/*"]}
        hold.set()
