"""Bulk edits through the real fleets: the ThingsBoard emulator and a real PocketBase (the shared `backend` fixture),
plus the fault test on the emulator (403, 429 with Retry-After, 500) that "retry failed" then finishes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from console.fleet.base import DeviceQuery, DeviceRow
from console.fleet.bulk import BulkOp, BulkRunner, DeviceOutcome, DiffStatus, preview, revert_jobs, same_ops
from console.fleet.thingsboard import ThingsboardFleet
from console.journal import Journal, Outcome
from tests.fleet.conftest import Backend, unique_key

SCOPE = "SHARED_SCOPE"


async def _devices(fleet: Any, n: int, query: DeviceQuery | None = None) -> list[DeviceRow]:
    found: list[DeviceRow] = []
    async for page in fleet.iter_device_pages(query or DeviceQuery(sort="name", descending=False), 100):
        found.extend(page)
        if len(found) >= n:
            break
    return found[:n]


async def _values(fleet: Any, devices: list[DeviceRow], key: str) -> list[Any]:
    return [next((a.value for a in await fleet.attributes(d.id, SCOPE) if a.key == key), None) for d in devices]


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


async def test_set_rename_delete_and_revert_on_a_real_server(backend: Backend, journal: Journal):
    fleet = backend.fleet
    devices = await _devices(fleet, 6)
    assert len(devices) == 6
    key, renamed = unique_key("bulk"), unique_key("moved")
    await fleet.save_attributes(devices[0].id, SCOPE, {key: {"mode": "eco"}})  # one device already has it
    runner = BulkRunner(fleet, journal, profile="p", server=fleet.title, concurrency=4)

    plan = await preview(fleet, SCOPE, same_ops([(d.id, d.name) for d in devices], [BulkOp.set(key, {"mode": "eco"})]))
    assert [d.diffs[0].status for d in plan.devices] == [DiffStatus.UNCHANGED] + [DiffStatus.ADD] * 5
    assert await _values(fleet, devices[1:], key) == [None] * 5  # a preview writes nothing
    report = await runner.apply(plan)
    assert len(report.written) == 5 and report.results[devices[0].id].outcome is DeviceOutcome.UNCHANGED
    assert await _values(fleet, devices, key) == [{"mode": "eco"}] * 6

    plan = await preview(fleet, SCOPE, same_ops([(d.id, d.name) for d in devices], [BulkOp.rename(key, renamed)]))
    rename = await runner.apply(plan)
    assert len(rename.written) == 6
    assert await _values(fleet, devices, key) == [None] * 6
    assert await _values(fleet, devices, renamed) == [{"mode": "eco"}] * 6

    jobs = revert_jobs(await journal.entries(rename.batch_id or 0))
    back = await preview(fleet, SCOPE, jobs[SCOPE], reverts=rename.batch_id)
    assert {k.status for d in back.devices for k in d.diffs} == {DiffStatus.ADD, DiffStatus.DELETE}
    await runner.apply(back)
    assert await _values(fleet, devices, key) == [{"mode": "eco"}] * 6
    assert await _values(fleet, devices, renamed) == [None] * 6

    plan = await preview(fleet, SCOPE, same_ops([(d.id, d.name) for d in devices], [BulkOp.delete(key)]))
    assert len((await runner.apply(plan)).written) == 6
    assert await _values(fleet, devices, key) == [None] * 6


@pytest.mark.slow
async def test_faults_name_exactly_the_rejected_devices_and_retry_failed_finishes(tb_server_factory, journal):
    server = tb_server_factory(devices=24)
    saves: Counter[str] = Counter()
    original = server.store.save_attributes

    def counting(entity_id: str, scope: str, values: dict[str, Any], ts: int | None = None) -> None:
        saves[entity_id] += 1
        original(entity_id, scope, values, ts)

    server.call(lambda: setattr(server.store, "save_attributes", counting))
    fleet = ThingsboardFleet(server.url, username="tenant@thingsboard.org", password="tenant")
    await fleet.connect()
    try:
        devices = await _devices(fleet, 20)
        key = unique_key("fw")
        forbidden, broken, limited, once_limited = devices[3], devices[8], devices[13], devices[17]

        def path(device: DeviceRow) -> str:
            return f"/api/plugins/telemetry/DEVICE/{device.id}/attributes/{SCOPE}$"

        server.faults.add("POST", path(forbidden), 403, times=100)
        server.faults.add("POST", path(broken), 500, times=100)
        server.faults.add("POST", path(limited), 429, headers={"Retry-After": "1"}, times=100)
        server.faults.add("POST", path(once_limited), 429, headers={"Retry-After": "1"}, times=1)

        plan = await preview(fleet, SCOPE, same_ops([(d.id, d.name) for d in devices], [BulkOp.set(key, "2.1.0")]))
        runner = BulkRunner(fleet, journal, profile="p", server=fleet.title, concurrency=8, attempts=3,
                            backoff_base=0.05)
        report = await runner.apply(plan)

        failed = {r.device_id for r in report.failed}
        assert failed == {forbidden.id, broken.id, limited.id}
        assert "permission" in report.results[forbidden.id].message.lower()
        assert report.results[forbidden.id].attempts == 1  # a 403 is not retried
        assert report.results[broken.id].attempts == 3 and report.results[limited.id].attempts == 3
        assert report.results[once_limited.id].outcome is DeviceOutcome.WRITTEN  # waited for Retry-After, then wrote
        others = [d.id for d in devices if d.id not in failed]
        assert all(saves[d] == 1 for d in others), "every other device is written exactly once"
        assert all(saves[d] == 0 for d in failed)
        for name in (forbidden.name, broken.name, limited.name):
            assert name in report.summary()
        entries = await journal.entries(report.batch_id or 0)
        assert {e.entity_id for e in entries if e.outcome is Outcome.FAILED} == failed

        server.faults.clear()
        retry = await BulkRunner(fleet, journal, profile="p", server=fleet.title).apply(report.failed_plan())
        assert {r.device_id for r in retry.written} == failed and not retry.failed
        assert await _values(fleet, devices, key) == ["2.1.0"] * 20
        assert all(saves[d.id] == 1 for d in devices)
    finally:
        await fleet.close()
