"""Realtime over SSE against a real PocketBase: events, options, unsubscribe, reconnect after a restart."""

from __future__ import annotations

import asyncio

import pytest

from console.errors import NetworkError
from console.pocketbase import PocketBase, RealtimeEvent

WAIT = 30.0  # seconds; a generous bound so a broken stream fails the test instead of hanging it


async def _next(queue: asyncio.Queue[RealtimeEvent]) -> RealtimeEvent:
    async with asyncio.timeout(WAIT):
        return await queue.get()


async def _quiet(queue: asyncio.Queue[RealtimeEvent], writer: PocketBase, collection: str) -> None:
    """Prove nothing else is queued: a marker write on the same topic must be the very next event."""
    marker = await writer.collection(collection).create({"name": "marker"})
    event = await _next(queue)
    assert event.record.id == marker.id, f"unexpected event {event.action} {event.record.get('name')}"


async def _superuser(server) -> PocketBase:
    client = PocketBase(server.url)
    await client.collection("_superusers").auth_with_password(server.superuser_email, server.superuser_password)
    return client


async def test_create_update_delete_events(pb_server, pb, make_collection) -> None:
    col = await make_collection()
    async with PocketBase(pb_server.url) as listener:
        queue: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        unsubscribe = await listener.collection(col.name).subscribe("*", queue.put_nowait)
        assert listener.realtime.is_connected and listener.realtime.client_id
        # subscribe() returned, so the server already has it: the very next write must arrive
        record = await pb.collection(col.name).create({"name": "rt", "temperature": 1})
        await pb.collection(col.name).update(record.id, {"temperature": 2})
        await pb.collection(col.name).delete(record.id)
        events = [await _next(queue) for _ in range(3)]
        assert [e.action for e in events] == ["create", "update", "delete"]
        assert all(e.record.id == record.id for e in events)
        assert events[1].record.get_int_value("temperature") == 2
        assert events[0].topic == f"{col.name}/*"
        await unsubscribe()
        assert not listener.realtime.is_connected, "the last unsubscribe closes the stream"
        await pb.collection(col.name).create({"name": "unheard"})
        await asyncio.sleep(0.2)
        assert queue.empty()


async def test_record_topic_filter_and_expand_options(pb_server, pb, make_collection) -> None:
    sites = await make_collection("sites", fields=[{"name": "title", "type": "text"}])
    col = await make_collection(
        fields=[
            {"name": "name", "type": "text"},
            {"name": "temperature", "type": "number"},
            {"name": "site", "type": "relation", "collectionId": sites.id, "maxSelect": 1},
        ]
    )
    site = await pb.collection(sites.name).create({"title": "Plant A"})
    watched = await pb.collection(col.name).create({"name": "watched"})
    other = await pb.collection(col.name).create({"name": "other"})
    async with PocketBase(pb_server.url) as listener:
        one: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        hot: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        await listener.collection(col.name).subscribe(watched.id, one.put_nowait, expand="site")
        await listener.collection(col.name).subscribe(
            "*", hot.put_nowait, filter=listener.filter("temperature > {:t}", t=50)
        )
        await pb.collection(col.name).update(other.id, {"temperature": 10})
        await pb.collection(col.name).update(watched.id, {"temperature": 99, "site": site.id})
        event = await _next(one)
        assert event.record.id == watched.id
        expanded = event.record.get_expanded("site")
        assert expanded is not None and not isinstance(expanded, list)
        assert expanded.get_string_value("title") == "Plant A"
        hot_event = await _next(hot)
        assert hot_event.record.id == watched.id, "the cold update must be filtered out by the server"
        assert one.empty() and hot.empty()


async def test_several_listeners_and_async_callbacks(pb_server, pb, make_collection) -> None:
    col = await make_collection()
    async with PocketBase(pb_server.url) as listener:
        first: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        second: asyncio.Queue[RealtimeEvent] = asyncio.Queue()

        async def slow(event: RealtimeEvent) -> None:
            await asyncio.sleep(0)
            second.put_nowait(event)

        def broken(event: RealtimeEvent) -> None:
            raise RuntimeError("a buggy listener must not stop the others")

        await listener.collection(col.name).subscribe("*", broken)
        remove_first = await listener.collection(col.name).subscribe("*", first.put_nowait)
        await listener.collection(col.name).subscribe("*", slow)
        created = await pb.collection(col.name).create({"name": "both"})
        assert (await _next(first)).record.id == created.id
        assert (await _next(second)).record.id == created.id
        await remove_first()
        assert listener.realtime.is_connected
        await pb.collection(col.name).create({"name": "only second"})
        assert (await _next(second)).record.get_string_value("name") == "only second"
        await _quiet(second, pb, col.name)
        assert first.empty()
        await listener.collection(col.name).unsubscribe()
        assert not listener.realtime.is_connected


async def test_events_arrive_again_after_the_server_restarts(pb_server_factory) -> None:
    server = pb_server_factory()
    writer = await _superuser(server)
    listener = await _superuser(server)
    try:
        await writer.collections.create(
            {"name": "devices", "type": "base", "listRule": None, "fields": [{"name": "name", "type": "text"}]}
        )
        queue: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        connects: asyncio.Queue[bool] = asyncio.Queue()
        drops: list[list[str]] = []
        listener.realtime.on_connect(connects.put_nowait)
        listener.realtime.on_disconnect(drops.append)
        await listener.collection("devices").subscribe("*", queue.put_nowait)
        first_client = listener.realtime.client_id
        await writer.collection("devices").create({"name": "before"})
        assert (await _next(queue)).record.get_string_value("name") == "before"

        await asyncio.to_thread(server.restart)
        async with asyncio.timeout(WAIT):
            while not await connects.get():  # wait for a connect that says "reconnected"
                pass
        assert drops and drops[0] == ["devices/*"]
        assert listener.realtime.client_id != first_client
        created = await writer.collection("devices").create({"name": "after"})
        event = await _next(queue)
        assert event.action == "create" and event.record.id == created.id
    finally:
        await writer.close()
        await listener.close()


async def test_auth_change_reconnects_with_the_new_auth(pb_server_factory) -> None:
    """The server refuses to switch a live client's auth; signing in must transparently start a new stream."""
    server = pb_server_factory()
    writer = await _superuser(server)
    try:
        await writer.collections.create(
            {"name": "secrets", "type": "base", "listRule": None, "fields": [{"name": "name", "type": "text"}]}
        )
        async with PocketBase(server.url) as listener:
            queue: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
            await listener.collection("secrets").subscribe("*", queue.put_nowait)
            await writer.collection("secrets").create({"name": "hidden from guests"})
            await asyncio.sleep(0.3)
            assert queue.empty(), "a guest must not see superuser-only records"
            connected: asyncio.Queue[bool] = asyncio.Queue()
            listener.realtime.on_connect(connected.put_nowait)
            await listener.collection("_superusers").auth_with_password(
                server.superuser_email, server.superuser_password
            )
            async with asyncio.timeout(WAIT):
                await connected.get()
            created = await writer.collection("secrets").create({"name": "visible now"})
            assert (await _next(queue)).record.id == created.id
    finally:
        await writer.close()


async def test_subscribe_to_a_dead_server_fails_readably(pb_server_factory) -> None:
    server = pb_server_factory()
    url = server.url
    server.stop()
    async with PocketBase(url) as pb:
        pb.realtime.connect_timeout = 1.0
        with pytest.raises(NetworkError) as caught:
            await pb.collection("devices").subscribe("*", lambda event: None)
        assert "Could not connect" in caught.value.message  # the reason, not just "timed out"
        assert pb.realtime.topics == []


async def test_raw_topic_and_unsubscribe_by_topic(pb_server, pb, make_collection) -> None:
    col = await make_collection()
    async with PocketBase(pb_server.url) as listener:
        queue: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        connects: list[RealtimeEvent] = []
        await listener.realtime.subscribe("PB_CONNECT", connects.append)
        assert [e.action for e in connects] == ["connect"]
        await listener.realtime.subscribe(f"{col.name}/*", queue.put_nowait)
        created = await pb.collection(col.name).create({"name": "raw"})
        assert (await _next(queue)).record.id == created.id
        await listener.realtime.unsubscribe(f"{col.name}/*")
        assert listener.realtime.topics == ["PB_CONNECT"]
        await listener.realtime.unsubscribe()
        assert listener.realtime.topics == [] and not listener.realtime.is_connected


async def test_token_refresh_keeps_the_stream(pb_server, pb, make_collection) -> None:
    """Refreshing the same record's token must not drop the stream (no reconnect, no missed events)."""
    col = await make_collection()
    listener = await _superuser(pb_server)
    try:
        queue: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        await listener.collection(col.name).subscribe("*", queue.put_nowait)
        client_id = listener.realtime.client_id
        await listener.collection("_superusers").auth_refresh()
        other: asyncio.Queue[RealtimeEvent] = asyncio.Queue()
        await listener.collection(col.name).subscribe("*", other.put_nowait, filter="temperature > 5")
        created = await pb.collection(col.name).create({"name": "after refresh", "temperature": 9})
        assert (await _next(queue)).record.id == created.id
        assert (await _next(other)).record.id == created.id
        assert listener.realtime.client_id == client_id
    finally:
        await listener.close()
