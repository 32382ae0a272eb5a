"""Both fleets behind one fixture, so the behaviour the UI relies on is tested once for ThingsBoard and PocketBase.

`backend` is parametrized: the ThingsBoard fleet against the emulator (`tb_server`), and the PocketBase fleet against a
real local PocketBase holding the demo schema with a small seeded fleet (`pb_demo_server`, one per session).
Each `Backend` knows how to post telemetry the way a device would, so live and history tests are the same for both.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from console.demo import data
from console.demo.schema import LATEST, TELEMETRY, row_id
from console.demo.seeding import device_id, enable_batch, ensure_schema, seed
from console.fleet.base import Fleet
from console.fleet.pocketbase import PocketBaseFleet
from console.fleet.thingsboard import ThingsboardFleet
from console.pocketbase.client import PocketBase
from console.pocketbase.local import LocalPocketBase

SMALL_DEMO = data.DemoConfig(
    devices=80,
    fast_devices=4,
    history_minutes=30,
    long_history_devices=1,
    long_history_days=1,
    long_history_step_s=3600,
)


@dataclass
class Backend:
    name: str
    fleet: Any  # PocketBaseFleet | ThingsboardFleet; typed loosely so tests can reach backend-specific parts
    device: str  # a device with telemetry history
    post: Callable[[str, int, dict[str, Any]], Awaitable[None]]  # (device id, ts ms, {key: value})
    missing_device: str
    make_fleet: Callable[[str], Fleet]  # a fresh, unconnected fleet with this password


WAIT_LIMIT_S = 30.0  # only stops a broken test; nothing asserts on how long events take


async def wait_for(condition: Callable[[], bool]) -> None:
    """Poll until `condition()` holds."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the expected events did not arrive")
        await asyncio.sleep(0.05)


def unique_key(prefix: str = "probe") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def pb_demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPocketBase]:
    """A real PocketBase with the demo schema and a small seeded fleet (no simulator), for the whole session."""
    server = LocalPocketBase(Path(tmp_path_factory.mktemp("pb_demo")))
    server.start()

    async def prepare() -> None:
        async with PocketBase(server.url) as pb:
            await pb.collection("_superusers").auth_with_password(server.superuser_email, server.superuser_password)
            await enable_batch(pb)
            await ensure_schema(pb)
            await seed(pb, SMALL_DEMO, int(time.time() * 1000))

    try:
        asyncio.run(prepare())
        yield server
    finally:
        server.stop()


async def _pocketbase_backend(server: LocalPocketBase) -> Backend:
    def make(password: str) -> PocketBaseFleet:
        return PocketBaseFleet(server.url, identity=server.superuser_email, password=password)

    fleet = make(server.superuser_password)
    await fleet.connect()

    async def post(device: str, ts: int, values: dict[str, Any]) -> None:
        """What a demo device does: a telemetry row, and its latest value kept up to date."""
        for key, value in values.items():
            point = {"device": device, "key": key, "ts": ts, "value": value}
            await fleet.pb.collection(TELEMETRY).create(point)
            batch = fleet.pb.create_batch()
            batch.collection(LATEST).upsert({"id": row_id(device, key), **point})
            await batch.send()

    first = data.make_devices(SMALL_DEMO, 0)[0]
    return Backend("pocketbase", fleet, device_id(first.name), post, "zzzzzzzzzzzzzzz", make)


async def _thingsboard_backend(url: str) -> Backend:
    from console.thingsboard import EntityId

    def make(password: str) -> ThingsboardFleet:
        return ThingsboardFleet(url, username="tenant@thingsboard.org", password=password)

    fleet = make("tenant")
    await fleet.connect()

    async def post(device: str, ts: int, values: dict[str, Any]) -> None:
        await fleet.tb.attributes.save_entity_telemetry(EntityId("DEVICE", device), "ANY", {"ts": ts, "values": values})

    device = ""
    async for rows in fleet.iter_device_pages(fleet_query(), 100):
        for row in rows:
            if await fleet.telemetry_keys(row.id):
                device = row.id
                break
        if device:
            break
    assert device, "the emulator has no device with telemetry"
    return Backend("thingsboard", fleet, device, post, str(uuid.UUID(int=12345)), make)


def fleet_query() -> Any:
    from console.fleet.base import DeviceQuery

    return DeviceQuery(sort="name", descending=False)


@pytest.fixture(params=["thingsboard", "pocketbase"])
def backend_target(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """Which server the `backend` fixture talks to (resolved outside the event loop: the servers start sync)."""
    if request.param == "thingsboard":
        return "thingsboard", request.getfixturevalue("tb_server").url
    return "pocketbase", request.getfixturevalue("pb_demo_server")


@pytest.fixture
async def backend(backend_target: tuple[str, Any]) -> AsyncIterator[Backend]:
    kind, target = backend_target
    made = await (_thingsboard_backend(target) if kind == "thingsboard" else _pocketbase_backend(target))
    try:
        yield made
    finally:
        await made.fleet.close()
