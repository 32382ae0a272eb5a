"""The SDK's live telemetry against the emulator: the seed example, streams, reconnect + backfill, 1008, idle close."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from console.errors import ApiError
from console.thingsboard import (
    AttributesSubscriptionCmd,
    Backoff,
    ConnectionState,
    EntityCountCmd,
    EntityCountQuery,
    EntityDataCmd,
    EntityDataPageLink,
    EntityDataQuery,
    EntityId,
    EntityKey,
    EntityKeyType,
    EntityTypeFilter,
    LoginRequest,
    SingleEntityFilter,
    TelemetryService,
    TelemetrySubscriber,
    ThingsboardClient,
    TimeSeriesCmd,
    TimeseriesSubscriptionCmd,
)
from tests.conftest import REPO
from tests.tbserver.ws_proxy import CuttingProxy

WAIT = 20  # seconds: a hang guard, not a speed assertion


async def next_item(stream: Any) -> Any:
    return await asyncio.wait_for(stream.__anext__(), WAIT)


async def until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


async def logged_in(url: str) -> ThingsboardClient:
    tb = ThingsboardClient(url)
    await tb.login(LoginRequest("tenant@thingsboard.org", "tenant"))
    return tb


def fast_service(tb: ThingsboardClient, **kwargs: Any) -> TelemetryService:
    return TelemetryService(tb, backoff=lambda: Backoff(initial=0.05, cap=0.2), **kwargs)


def device_query(device_id: str) -> EntityDataQuery:
    return EntityDataQuery(
        entity_filter=SingleEntityFilter(single_entity=EntityId("DEVICE", device_id)),
        page_link=EntityDataPageLink(page_size=10),
        entity_fields=[EntityKey(type=EntityKeyType.ENTITY_FIELD, key="name")],
        latest_values=[EntityKey(type=EntityKeyType.TIME_SERIES, key="temperature")],
    )


def collect_points(update: Any, into: list[tuple[int, str]], key: str = "temperature") -> None:
    entities = update.data.data if update.data is not None else update.update
    for entity in entities:
        into.extend((p.ts, p.value) for p in entity.timeseries.get(key, []))


def test_seed_websocket_example_runs(tb_server):
    result = subprocess.run(
        [sys.executable, "examples/thingsboard/websocket_api.py", "--url", tb_server.url, "--pause", "0.3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    updates = [line for line in lines if line.startswith("Received entity data update:")]
    assert "data=PageData(" in updates[0] and "My test device" in updates[0]  # the first answer: the page
    assert sum("update=[EntityData(" in line for line in updates) >= 1  # then the posted telemetry, live
    assert sum(line.startswith("Save telemetry request:") for line in lines) == 5
    names = tb_server.call(lambda: [d.name for d in tb_server.store.devices.values()])
    assert not [name for name in names if name.startswith("My test device")]  # the example cleaned up


async def test_streams_of_plain_subscriptions_count_and_errors(tb_server_factory):
    tb_server = await asyncio.to_thread(tb_server_factory, devices=3)  # this test writes telemetry: its own server
    device = sorted(tb_server.store.devices)[0]
    tb = await logged_in(tb_server.url)
    service = fast_service(tb)
    sub = TelemetrySubscriber(service, [
        TimeseriesSubscriptionCmd(entity_id=device, keys=["temperature"]),
        AttributesSubscriptionCmd(entity_id=device, keys=["active"], scope="SERVER_SCOPE"),
        EntityCountCmd(query=EntityCountQuery(entity_filter=EntityTypeFilter(entity_type="DEVICE"))),
        TimeseriesSubscriptionCmd(entity_id="00000000-0000-0000-0000-000000000000", keys=["x"]),
    ])
    ts_stream, attr_stream = sub.ts_data_stream, sub.attribute_data_stream
    count_stream, errors = sub.entity_count_stream, sub.error_stream
    try:
        sub.subscribe()
        assert "temperature" in (await next_item(ts_stream)).data
        assert "active" in (await next_item(attr_stream)).data
        assert (await next_item(count_stream)).count == len(tb_server.store.devices)
        error = await next_item(errors)
        assert isinstance(error, ApiError) and "Failed to fetch data!" in error.message and error.error_code == 1
        stamp = int(time.time() * 1000) + 10_000
        await tb.attributes.save_entity_telemetry(
            EntityId("DEVICE", device), "TELEMETRY", {"ts": stamp, "values": {"temperature": 42}}
        )
        live = await next_item(ts_stream)
        assert [(p.ts, p.value) for p in live.data["temperature"]] == [(stamp, "42")]
        sub.unsubscribe()
        with pytest.raises(StopAsyncIteration):
            await next_item(ts_stream)  # unsubscribe ends the streams
    finally:
        await service.close()
        await tb.close()


async def test_reconnect_backfills_the_gap_exactly_once_in_order(tb_server_factory):
    server = await asyncio.to_thread(tb_server_factory, devices=3)
    device = sorted(server.store.devices)[0]
    proxy = CuttingProxy(int(server.url.rsplit(":", 1)[1]))
    proxied = await logged_in(await proxy.start())
    direct = await logged_in(server.url)
    service = fast_service(proxied)
    states: list[ConnectionState] = []
    service.on_state(states.append)
    start = int(time.time() * 1000)
    sub = TelemetrySubscriber(service, [
        EntityDataCmd(query=device_query(device), ts_cmd=TimeSeriesCmd(keys=["temperature"], start_ts=start,
                                                                        time_window=3_600_000))
    ])
    stream = sub.entity_data_stream
    got: list[tuple[int, str]] = []
    backfills = []

    async def consume() -> None:
        async for update in stream:
            backfills.append(update.backfill)
            collect_points(update, got)

    consumer = asyncio.create_task(consume())
    stamps = iter(range(start + 1000, start + 100_000, 100))

    async def post(n: int) -> None:
        for _ in range(n):
            body = {"ts": next(stamps), "values": {"temperature": len(got) + 0.5}}
            await direct.attributes.save_entity_telemetry(EntityId("DEVICE", device), "TELEMETRY", body)

    try:
        sub.subscribe()
        await until(lambda: len(backfills) >= 1, "the first page")
        await post(5)
        await until(lambda: len(got) >= 5, "the live points")
        proxy.refusing = True
        proxy.cut()
        await until(lambda: any(s.state == "reconnecting" for s in states), "the drop to be noticed")
        await post(5)  # stored while the socket is down: only the backfill can bring them
        proxy.refusing = False
        await until(lambda: len(got) >= 10, "the backfill")
        await post(5)
        await until(lambda: len(got) >= 15, "the live tail after the reconnect")
        stored = server.call(lambda: [(ts, str(v)) for ts, v in server.store.history(device, "temperature")])
        expected = [(ts, value) for ts, value in stored if ts >= start]
        assert [ts for ts, _ in got] == [ts for ts, _ in expected]  # none missing, none twice, in order
        assert True in backfills
        assert any(s.state == "reconnecting" for s in states) and states[-1].state == "open"
    finally:
        sub.unsubscribe()
        await consumer
        await service.close()
        await proxy.close()
        await proxied.close()
        await direct.close()


async def test_session_limit_is_a_readable_warning_and_retries_slowly(tb_server_factory):
    server = await asyncio.to_thread(tb_server_factory, devices=2, ws_session_limit=1)
    tb = await logged_in(server.url)
    holder = TelemetryService(tb)
    service = TelemetryService(tb, backoff=lambda: Backoff(initial=0.01, cap=30.0, rng=lambda: 0.0))
    states: list[ConnectionState] = []
    service.on_state(states.append)
    query = EntityCountQuery(entity_filter=EntityTypeFilter(entity_type="DEVICE"))
    first = TelemetrySubscriber(holder, [EntityCountCmd(query=query)])
    second = TelemetrySubscriber(service, [EntityCountCmd(query=query)])
    counts = first.entity_count_stream
    try:
        first.subscribe()
        await next_item(counts)  # the first session holds the only slot
        second.subscribe()
        await until(lambda: any(s.state == "reconnecting" for s in states), "the refusal")
        refused = next(s for s in states if s.state == "reconnecting")
        assert refused.warning and "too many active sessions" in refused.reason
        assert refused.delay == 30.0  # the longest delay, not a retry storm
    finally:
        await service.close()
        await holder.close()
        await tb.close()
    assert service.state.state == "closed"


async def test_socket_closes_when_idle_and_reopens_for_a_new_subscriber(tb_server):
    tb = await logged_in(tb_server.url)
    service = fast_service(tb, idle_timeout=0.1)
    states: list[str] = []
    service.on_state(lambda s: states.append(s.state))
    query = EntityCountQuery(entity_filter=EntityTypeFilter(entity_type="DEVICE"))
    try:
        sub = TelemetrySubscriber(service, [EntityCountCmd(query=query)])
        counts = sub.entity_count_stream
        sub.subscribe()
        await next_item(counts)
        sub.unsubscribe()
        await until(lambda: service.state.state == "closed", "the idle close")
        assert states == ["connecting", "open", "closed"]
        again = TelemetrySubscriber(service, [EntityCountCmd(query=query)])
        counts = again.entity_count_stream
        again.subscribe()
        assert (await next_item(counts)).count > 0
        again.unsubscribe()
    finally:
        await service.close()
        await tb.close()


async def test_a_token_the_server_refuses_is_refreshed_before_reopening(tb_server_factory):
    server = await asyncio.to_thread(tb_server_factory, devices=2)
    proxy = CuttingProxy(int(server.url.rsplit(":", 1)[1]))
    tb = await logged_in(await proxy.start())
    service = fast_service(tb)
    states: list[ConnectionState] = []
    service.on_state(states.append)
    query = EntityCountQuery(entity_filter=EntityTypeFilter(entity_type="DEVICE"))
    sub = TelemetrySubscriber(service, [EntityCountCmd(query=query)])
    counts = sub.entity_count_stream
    try:
        sub.subscribe()
        await next_item(counts)
        refreshes = server.store.counters["refresh"]
        # The server's clock jumps past the access token's expiry; our clock still trusts the token.
        server.call(lambda: server.store.advance(server.options.access_token_ttl + 60))
        proxy.cut()
        assert (await next_item(counts)).count == 2  # resubscribed on a fresh token
        assert server.store.counters["refresh"] == refreshes + 1
        refused = [s for s in states if s.state == "reconnecting" and "sign-in" in s.reason]
        assert refused and refused[0].warning
    finally:
        await service.close()
        await proxy.close()
        await tb.close()


async def test_message_too_big_is_a_readable_warning_and_retries_slowly(tb_server_factory):
    server = await asyncio.to_thread(tb_server_factory, devices=2, extra={"ws_max_text": 300})
    tb = await logged_in(server.url)
    service = TelemetryService(tb, backoff=lambda: Backoff(initial=0.01, cap=30.0, rng=lambda: 0.0))
    states: list[ConnectionState] = []
    service.on_state(states.append)
    sub = TelemetrySubscriber(service, [EntityDataCmd(query=device_query(sorted(server.store.devices)[0]))])
    try:
        sub.subscribe()  # the first frame (a JWT and a query) is bigger than this server's 300-byte limit
        await until(lambda: any(s.state == "reconnecting" for s in states), "the refusal")
        refused = next(s for s in states if s.state == "reconnecting")
        assert refused.warning and "too much data" in refused.reason
        assert refused.delay == 30.0
    finally:
        await service.close()
        await tb.close()
