"""The embedded demo: a real local PocketBase, seeded once, simulated devices a subscription can watch, clean stop."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import httpx
import pytest

from console.demo import DemoFleetRunner, data
from console.demo.runner import DemoBusyError
from console.demo.schema import TELEMETRY
from console.demo.seeding import device_id
from console.demo.simulator import Simulator, simulated_devices
from console.fleet import DeviceQuery, Point
from console.pocketbase.client import PocketBase
from tests.fleet.conftest import wait_for

CONFIG = data.DemoConfig(devices=300, history_minutes=15, long_history_days=1, long_history_step_s=3600)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); it is gone for our purposes once reaped or defunct
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


async def test_demo_starts_seeds_simulates_stops_and_restarts(tmp_path: Path):
    runner = DemoFleetRunner(tmp_path / "demo", config=CONFIG)
    fleet = await runner.start()
    first_title = fleet.title
    try:
        assert runner.seeded is not None and runner.seeded.devices == 300
        counts = await fleet.device_counts()
        assert counts.total == 300 and counts.inactive > 0 and counts.active + counts.inactive == 300
        assert len(await fleet.device_profiles()) == len(data.PROFILES)
        dashboards = await fleet.list_dashboards("", 0, 50)
        assert dashboards.total == len(data.dashboards())
        # "open in browser" works without the demo's password: a viewer page and a public view rule
        async with httpx.AsyncClient(trust_env=False) as browser:
            first = dashboards.rows[0]
            page = await browser.get(fleet.dashboard_url(first.id))
            assert page.status_code == 200 and "dashboards/records/" in page.text
            record = await browser.get(f"{runner.url}/api/collections/dashboards/records/{first.id}")
            assert record.status_code == 200 and record.json()["title"] == first.title
            listing = await browser.get(f"{runner.url}/api/collections/devices/records")
            assert listing.json()["items"] == []  # everything else still needs signing in

        live = [device_id(d.name) for d in data.make_devices(CONFIG, 0)[:3]]
        # the 2-hour-style history is there at once for the live devices
        now = int(time.time() * 1000)
        history = await fleet.telemetry_history(live[0], await fleet.telemetry_keys(live[0]), now - 20 * 60_000, now)
        assert history and all(len(points) >= 10 for points in history.values())

        got: dict[tuple[str, str], list[Point]] = {}
        subscription = await fleet.subscribe_telemetry(
            live, [], lambda device, key, points: got.setdefault((device, key), []).extend(points)
        )
        try:
            await wait_for(lambda: {d for d, _ in got} == set(live) and min(len(p) for p in got.values()) >= 2)
        finally:
            await subscription.close()
        for points in got.values():
            assert [p.ts for p in points] == sorted({p.ts for p in points})
            assert all(isinstance(p.value, int | float) for p in points)
        assert runner.simulator is not None and runner.simulator.errors == 0

        saved_key = f"kept_{random.randrange(10**6)}"
        await fleet.save_attributes(live[0], "SHARED_SCOPE", {saved_key: "survives a restart"})
        pid = runner.server.pid
        assert pid is not None and process_alive(pid)
    finally:
        await runner.stop()
    assert not runner.running and not process_alive(pid)

    again = DemoFleetRunner(tmp_path / "demo", config=CONFIG, simulate=False)
    fleet = await again.start()
    try:
        assert again.seeded is None  # reused, not seeded twice
        assert fleet.title == first_title  # the journal's server key: History and Undo find the last run's changes
        assert (await fleet.device_counts()).total == 300
        attributes = {a.key: a.value for a in await fleet.attributes(live[0], "SHARED_SCOPE")}
        assert attributes[saved_key] == "survives a restart"
    finally:
        await again.stop()


async def test_simulator_flips_states_and_keeps_history_bounded(tmp_path: Path):
    config = data.DemoConfig(devices=40, fast_devices=5, history_minutes=5, long_history_devices=0, flip_probability=1)
    runner = DemoFleetRunner(tmp_path / "demo", config=config, simulate=False)
    fleet = await runner.start()
    try:
        with pytest.raises(DemoBusyError, match="already running"):  # two servers must not share one database
            await DemoFleetRunner(tmp_path / "demo", config=config, simulate=False).start()
        async with PocketBase(runner.url) as pb:
            await pb.collection("_superusers").auth_with_password(
                runner.server.superuser_email, runner.server.superuser_password
            )
            stored = await simulated_devices(pb)  # what a restarted demo drives: read back, newest (live) first
            generated = data.make_devices(config, 0)
            assert [d.ident for d in stored] == [d.ident for d in generated]
            assert [d.active for d in stored] == [d.active for d in generated]
            simulator = Simulator(pb, config, generated, rng=random.Random(5))
            await simulator._load_active_states()
            now = int(time.time()) * 1000
            for tick in range(4):
                await simulator.tick(now + tick * 1000)
            assert simulator.flips == 4
            counts = await fleet.device_counts()
            assert counts.active == sum(simulator.active.values())
            inactive = {row.name for row in await _rows(fleet, DeviceQuery(active=False))}
            assert inactive == {name for name, active in simulator.active.items() if not active}

            device = device_id(simulator.fast[0].name)
            live_cut = now - config.live_retention_s * 1000
            minute = (live_cut - 30 * 60_000) // 60_000 * 60_000  # half an hour past the full-rate window
            quarter = (live_cut - 7 * 3_600_000) // 900_000 * 900_000  # past the 1-per-minute tier
            ancient = now - (config.max_retention_days + 1) * 86_400_000
            stamps = [minute, minute + 10_000, minute + 50_000, minute + 60_000, quarter, quarter + 60_000, ancient]
            for ts in stamps:
                await pb.collection(TELEMETRY).create({"device": device, "key": "prune_me", "ts": ts, "value": 1})
            pruner = Simulator(pb, config, [])  # a fresh start: thins what the last run left (2 hours back)
            await pruner.prune(now)
            kept = await fleet.telemetry_history(device, ["prune_me"], 0, now)
            # one point per minute, then one per quarter hour; the ancient one is gone
            assert [p.ts for p in kept["prune_me"]] == [quarter, minute, minute + 60_000]
            await pruner.prune(now + 60_000)  # a later run only touches what aged since: nothing changes
            again = await fleet.telemetry_history(device, ["prune_me"], 0, now)
            assert again == kept
    finally:
        await runner.stop()


async def _rows(fleet, query):
    rows = []
    async for page in fleet.iter_device_pages(query):
        rows.extend(page)
    return rows


async def test_a_server_that_cannot_start_leaves_nothing_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    runner = DemoFleetRunner(tmp_path / "demo", config=CONFIG)

    async def broken_seed(*args, **kwargs):
        raise RuntimeError("seeding blew up")

    monkeypatch.setattr("console.demo.runner.seed", broken_seed)
    with pytest.raises(RuntimeError, match="seeding blew up"):
        await runner.start()
    assert not runner.running and runner.fleet is None


async def test_a_demo_folder_from_an_older_schema_gets_the_new_fields(pb_server_factory):
    from console.demo.schema import DEVICES, collection_definitions
    from console.demo.seeding import ensure_schema

    server = pb_server_factory()
    async with PocketBase(server.url) as pb:
        await pb.collection("_superusers").auth_with_password(server.superuser_email, server.superuser_password)
        old = next(c for c in collection_definitions() if c["name"] == DEVICES)
        old = {**old, "fields": [f for f in old["fields"] if f["name"] != "created_time"], "indexes": []}
        await pb.collections.create(old)
        await pb.collection(DEVICES).create({"name": "kept-device"})
        changes = await ensure_schema(pb)
        assert "devices: +created_time" in changes and "telemetry" in changes
        assert "created_time" in (await pb.collections.get_one(DEVICES)).field_names()
        assert (await pb.collection(DEVICES).get_first_list_item('name = "kept-device"')).id
        assert await ensure_schema(pb) == []  # nothing left to do
