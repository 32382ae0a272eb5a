"""Fault injection: a proxy cuts the live socket again and again while a device posts at 10 Hz; afterwards the
subscriber must have delivered exactly the emulator's stored history — none missing, none twice, in order."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import Any

import pytest

from console.thingsboard import (
    Backoff,
    ConnectionState,
    EntityDataCmd,
    EntityDataPageLink,
    EntityDataQuery,
    EntityId,
    EntityKey,
    EntityKeyType,
    LoginRequest,
    SingleEntityFilter,
    TelemetryService,
    TelemetrySubscriber,
    ThingsboardClient,
    TimeSeriesCmd,
)
from tests.tbserver.ws_proxy import CuttingProxy

POST_SECONDS = 30.0
RATE_HZ = 10
CUT_EVERY = 1.8  # seconds at most between a reconnect and the next cut: about 20 cuts in 30 s
SETTLE = 90.0  # seconds to let the last reconnect and backfill land: a hang guard, not a speed assertion


async def _login(url: str) -> ThingsboardClient:
    tb = ThingsboardClient(url)
    await tb.login(LoginRequest("tenant@thingsboard.org", "tenant"))
    return tb


@pytest.mark.slow
async def test_points_survive_repeated_disconnects_exactly_once_in_order(tb_server_factory):
    server = await asyncio.to_thread(tb_server_factory, devices=3)
    device = sorted(server.store.devices)[0]
    proxy = CuttingProxy(int(server.url.rsplit(":", 1)[1]))
    subscriber_client = await _login(await proxy.start())  # REST backfill goes through the proxy too
    device_client = await _login(server.url)
    service = TelemetryService(subscriber_client, backoff=lambda: Backoff(initial=0.05, cap=0.4))
    opened: list[ConnectionState] = []
    is_open = asyncio.Event()

    def on_state(state: ConnectionState) -> None:
        if state.state == "open":
            opened.append(state)
            is_open.set()
        else:
            is_open.clear()

    service.on_state(on_state)

    start = int(time.time() * 1000)
    query = EntityDataQuery(
        entity_filter=SingleEntityFilter(single_entity=EntityId("DEVICE", device)),
        page_link=EntityDataPageLink(page_size=1),
        latest_values=[EntityKey(type=EntityKeyType.TIME_SERIES, key="temperature")],
    )
    sub = TelemetrySubscriber(service, [
        EntityDataCmd(query=query, ts_cmd=TimeSeriesCmd(keys=["temperature"], start_ts=start, time_window=3_600_000))
    ])
    stream = sub.entity_data_stream
    delivered: list[tuple[int, str]] = []
    first_page = asyncio.Event()
    caught_up = asyncio.Event()
    target = [-1]

    async def consume() -> None:
        async for update in stream:
            entities: list[Any] = update.data.data if update.data is not None else update.update
            for entity in entities:
                delivered.extend((p.ts, p.value) for p in entity.timeseries.get("temperature", []))
            first_page.set()
            if len(delivered) >= target[0] >= 0:
                caught_up.set()

    async def post() -> int:
        last, sent = start, 0
        deadline = time.monotonic() + POST_SECONDS
        while time.monotonic() < deadline:
            last = max(last + 1, int(time.time() * 1000))
            body = {"ts": last, "values": {"temperature": sent}}
            await device_client.attributes.save_entity_telemetry(EntityId("DEVICE", device), "TELEMETRY", body)
            sent += 1
            await asyncio.sleep(1 / RATE_HZ)
        return sent

    async def cut_repeatedly(done: asyncio.Event) -> None:
        chaos = random.Random(5)
        while not done.is_set():
            await is_open.wait()  # every cut hits a live connection, however slow the machine is
            await asyncio.sleep(CUT_EVERY * chaos.uniform(0.5, 1.0))
            if done.is_set():
                return
            outage = chaos.choice([0.0, 0.0, 0.3, 0.8])  # sometimes the server stays unreachable for a while
            proxy.refusing = outage > 0
            proxy.cut()
            await asyncio.sleep(outage)
            proxy.refusing = False

    consumer = asyncio.create_task(consume())
    try:
        sub.subscribe()
        await asyncio.wait_for(first_page.wait(), SETTLE)
        posting_done = asyncio.Event()
        cutter = asyncio.create_task(cut_repeatedly(posting_done))
        sent = await post()
        posting_done.set()
        is_open.set()  # release the cutter if it waits
        await cutter
        proxy.refusing = False

        stored = server.call(
            lambda: [(ts, str(value)) for ts, value in server.store.history(device, "temperature") if ts >= start]
        )
        assert len(stored) == sent
        target[0] = len(stored)
        if len(delivered) < len(stored):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(caught_up.wait(), SETTLE)

        assert proxy.cuts >= 10
        assert len(opened) >= 11  # it really reconnected after the cuts
        assert len(delivered) == len(set(delivered)), "a point was delivered twice"
        assert [ts for ts, _ in delivered] == sorted(ts for ts, _ in delivered), "points arrived out of order"
        missing = sorted(set(stored) - set(delivered))
        assert not missing, f"{len(missing)} points never arrived, first {missing[:3]}"
        assert delivered == stored
    finally:
        sub.unsubscribe()
        await consumer
        await service.close()
        await proxy.close()
        await subscriber_client.close()
        await device_client.close()
