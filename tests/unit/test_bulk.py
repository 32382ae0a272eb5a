"""Bulk planner and runner against an in-memory fleet: preview, bounded concurrency, retries, cancel, journal."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from console.errors import ApiError, PermissionDeniedError, RateLimitedError, ServerError
from console.fleet.base import Attribute, AttributeScopeInfo
from console.fleet.bulk import (
    BulkOp,
    BulkRunner,
    DeviceOutcome,
    DiffStatus,
    preview,
    revert_jobs,
)
from console.fleet.bulk import same_ops as jobs_for
from console.fleet.values import ValueValidationError
from console.journal import Journal, Outcome


class _Sub:
    def __init__(self, fleet: FakeFleet, device_id: str, callback: Any) -> None:
        self.fleet, self.device_id, self.callback = fleet, device_id, callback

    async def close(self) -> None:
        self.fleet.subscribers.discard(self)


class FakeFleet:
    """Just the attribute part of the Fleet protocol, in memory, with per-device fault queues and call counts."""

    kind = "fake"
    title = "fake fleet"

    def __init__(self, devices: dict[str, dict[str, Any]] | None = None, *, delay: float = 0.0) -> None:
        self.data: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
        for device_id, values in (devices or {}).items():
            self.data[(device_id, "SHARED_SCOPE")].update(values)
        self.faults: dict[str, list[BaseException]] = defaultdict(list)  # device id -> errors raised by writes
        self.read_faults: dict[str, list[BaseException]] = defaultdict(list)
        self.writes: dict[str, int] = defaultdict(int)
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = delay
        self.gate: asyncio.Event | None = None
        self.permits: asyncio.Semaphore | None = None  # when set, each write needs one permit
        self.subscribers: set[_Sub] = set()
        self.ts = 1_700_000_000_000

    def attribute_scopes(self) -> Sequence[AttributeScopeInfo]:
        return [
            AttributeScopeInfo(name="CLIENT_SCOPE", title="Client", writable=False),
            AttributeScopeInfo(name="SHARED_SCOPE", title="Shared", writable=True),
            AttributeScopeInfo(name="SERVER_SCOPE", title="Server", writable=True),
        ]

    async def attributes(self, device_id: str, scope: str) -> list[Attribute]:
        await asyncio.sleep(0)
        if self.read_faults[device_id]:
            raise self.read_faults[device_id].pop(0)
        values = self.data[(device_id, scope)]
        return [Attribute(key=k, scope=scope, value=v, last_update_ts=self.ts) for k, v in values.items()]

    async def _enter(self, device_id: str) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.permits is not None:
                await self.permits.acquire()
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if self.faults[device_id]:
            raise self.faults[device_id].pop(0)

    async def save_attributes(self, device_id: str, scope: str, values: dict[str, Any]) -> None:
        if scope == "CLIENT_SCOPE":
            raise ApiError("Invalid scope: CLIENT_SCOPE", status=400)
        await self._enter(device_id)
        self.writes[device_id] += 1
        self.data[(device_id, scope)].update(values)
        self.ts += 1
        self._notify(device_id, scope, values)

    async def delete_attributes(self, device_id: str, scope: str, keys: Sequence[str]) -> None:
        await self._enter(device_id)
        self.writes[device_id] += 1
        for key in keys:
            self.data[(device_id, scope)].pop(key, None)

    async def subscribe_attributes(self, device_id: str, callback: Any) -> _Sub:
        sub = _Sub(self, device_id, callback)
        self.subscribers.add(sub)
        return sub

    def _notify(self, device_id: str, scope: str, values: dict[str, Any]) -> None:
        attrs = [Attribute(key=k, scope=scope, value=v, last_update_ts=self.ts) for k, v in values.items()]
        for sub in list(self.subscribers):
            if sub.device_id == device_id:
                sub.callback(device_id, attrs)

    def external_change(self, device_id: str, scope: str, values: dict[str, Any]) -> None:
        """Someone else (the device, another user) changes values."""
        self.data[(device_id, scope)].update(values)
        self.ts += 1
        self._notify(device_id, scope, values)


async def _until(condition: Any) -> None:
    """Yield to the loop until the condition holds (no timing involved; pytest's timeout is the bound)."""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.001)


def _devices(n: int, **values: Any) -> dict[str, dict[str, Any]]:
    return {f"d{i}": dict(values) for i in range(n)}


def _names(ids: Sequence[str]) -> list[tuple[str, str]]:
    return [(i, f"Device {i}") for i in ids]


async def test_preview_shows_old_new_unchanged_and_missing_and_writes_nothing() -> None:
    fleet = FakeFleet({"a": {"fw": "1.0", "mode": "eco"}, "b": {"fw": "2.0"}, "c": {}})
    plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(["a", "b", "c"]), [BulkOp.set("fw", "2.0")]))
    by_id = {d.device_id: d for d in plan.devices}
    assert by_id["a"].diffs[0].status is DiffStatus.CHANGE and by_id["a"].diffs[0].describe() == "fw: 1.0 → 2.0"
    assert by_id["b"].diffs[0].status is DiffStatus.UNCHANGED
    assert by_id["c"].diffs[0].status is DiffStatus.ADD and by_id["c"].summary() == "fw: missing → 2.0"
    assert [d.device_id for d in plan.to_write] == ["a", "c"]
    assert sum(fleet.writes.values()) == 0

    plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(["a", "c"]), [BulkOp.delete("mode")]))
    assert [d.diffs[0].status for d in plan.devices] == [DiffStatus.DELETE, DiffStatus.MISSING]


async def test_rename_moves_the_value_and_writes_before_deleting() -> None:
    fleet = FakeFleet({"a": {"tmp": 21.5}, "b": {"other": 1}})
    plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(["a", "b"]), [BulkOp.rename("tmp", "target")]))
    a, b = plan.devices
    assert a.saves == {"target": 21.5} and a.deletes == ["tmp"]
    assert not b.has_writes and b.diffs[0].status is DiffStatus.MISSING
    report = await BulkRunner(fleet, None).apply(plan)
    assert fleet.data[("a", "SHARED_SCOPE")] == {"target": 21.5}
    assert [r.device_id for r in report.written] == ["a"]
    assert report.results["b"].outcome is DeviceOutcome.UNCHANGED


def test_ops_refuse_invalid_values_and_keys() -> None:
    with pytest.raises(ValueValidationError):
        BulkOp.set("x", float("nan"))
    with pytest.raises(ValueValidationError):
        BulkOp.set("x", 2**64)
    with pytest.raises(ValueValidationError):
        BulkOp.set("", 1)
    with pytest.raises(ValueValidationError):
        BulkOp.rename("a", "a")


async def test_apply_is_bounded_and_writes_each_device_once() -> None:
    fleet = FakeFleet(_devices(60, fw="1"), delay=0.001)
    plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(list(_devices(60))), [BulkOp.set("fw", "2")]))
    progress: list[tuple[int, int]] = []
    runner = BulkRunner(fleet, None, concurrency=7, on_progress=lambda d, t: progress.append((d, t)))
    report = await runner.apply(plan)
    assert len(report.written) == 60 and not report.failed
    assert all(fleet.writes[f"d{i}"] == 1 for i in range(60))
    assert 1 < fleet.max_in_flight <= 7
    assert progress[-1] == (60, 60) and runner.requests == 60


async def test_faults_fail_exactly_those_devices_and_retry_failed_finishes(tmp_path: Path) -> None:
    fleet = FakeFleet(_devices(10, fw="1"))
    fleet.faults["d2"] = [PermissionDeniedError("You don't have permission to do this.", status=403)]
    fleet.faults["d5"] = [ServerError("Boom", status=500)] * 3
    fleet.faults["d7"] = [RateLimitedError("Slow down", status=429, retry_after=0.01)] * 3
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(list(_devices(10))), [BulkOp.set("fw", "2")]))
        runner = BulkRunner(fleet, journal, profile="p", server="s", attempts=3, backoff_base=0.001)
        report = await runner.apply(plan)
        assert sorted(r.device_id for r in report.failed) == ["d2", "d5", "d7"]
        assert report.results["d2"].message == "You don't have permission to do this."
        assert report.results["d2"].attempts == 1  # not transient: no retry
        assert report.results["d7"].attempts == 3  # honoured Retry-After, then gave up
        assert all(fleet.writes[d] == 1 for d in ("d0", "d1", "d3", "d4", "d6", "d8", "d9"))
        assert "Failed: Device d2, Device d5, Device d7." in report.summary()
        entries = await journal.entries(report.batch_id or 0)
        assert {e.entity_id for e in entries if e.outcome is Outcome.FAILED} == {"d2", "d5", "d7"}
        assert sum(e.outcome is Outcome.WRITTEN for e in entries) == 7

        retry = await BulkRunner(fleet, journal, attempts=3, backoff_base=0.001).apply(report.failed_plan())
        assert sorted(r.device_id for r in retry.written) == ["d2", "d5", "d7"] and not retry.failed
        assert all(fleet.data[(f"d{i}", "SHARED_SCOPE")]["fw"] == "2" for i in range(10))
        assert all(fleet.writes[d] == 1 for d in ("d0", "d1", "d3"))
    finally:
        journal.close()


async def test_a_429_with_retry_after_is_retried_and_succeeds() -> None:
    fleet = FakeFleet(_devices(3, fw="1"))
    fleet.faults["d1"] = [RateLimitedError("Slow down", status=429, retry_after=0.02)]
    plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(["d0", "d1", "d2"]), [BulkOp.set("fw", "2")]))
    report = await BulkRunner(fleet, None, backoff_base=0.001).apply(plan)
    assert len(report.written) == 3 and report.results["d1"].attempts == 2


async def test_unreadable_devices_are_reported_and_not_written() -> None:
    fleet = FakeFleet(_devices(2, fw="1"))
    fleet.read_faults["d1"] = [PermissionDeniedError("Nope", status=403)]
    plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(["d0", "d1"]), [BulkOp.set("fw", "2")]))
    assert plan.devices[1].error == "Nope"
    report = await BulkRunner(fleet, None).apply(plan)
    assert report.results["d1"].outcome is DeviceOutcome.FAILED and fleet.writes["d1"] == 0


async def test_cancel_says_exactly_which_devices_were_written(tmp_path: Path) -> None:
    fleet = FakeFleet(_devices(20, fw="1"))
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(list(_devices(20))), [BulkOp.set("fw", "2")]))
        fleet.permits = asyncio.Semaphore(0)
        runner = BulkRunner(fleet, journal, concurrency=4)
        task = asyncio.create_task(runner.apply(plan))
        await _until(lambda: fleet.in_flight == 4)
        # let exactly four requests through, then cancel while the next four are in flight
        for _ in range(4):
            fleet.permits.release()
        await _until(lambda: sum(fleet.writes.values()) == 4 and fleet.in_flight == 4)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        report = runner.report
        assert report is not None and report.cancelled
        written = {r.device_id for r in report.written}
        assert written == {d for d, n in fleet.writes.items() if n} and len(written) == 4
        assert len(report.with_outcome(DeviceOutcome.UNKNOWN)) == 4
        assert len(report.with_outcome(DeviceOutcome.NOT_SENT)) == 20 - 4 - len(written)
        assert report.summary().startswith("Cancelled: ")
        entries = await journal.entries(report.batch_id or 0)
        assert {e.entity_id for e in entries if e.outcome is Outcome.WRITTEN} == written
        assert sum(e.outcome is Outcome.UNKNOWN for e in entries) == 4
        assert not any(e.outcome is Outcome.PENDING for e in entries)
    finally:
        journal.close()


async def test_revert_restores_old_values_with_a_preview(tmp_path: Path) -> None:
    fleet = FakeFleet({"a": {"fw": "1", "mode": "eco"}, "b": {}})
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        ops = [BulkOp.set("fw", "2"), BulkOp.delete("mode")]
        plan = await preview(fleet, "SHARED_SCOPE", jobs_for(_names(["a", "b"]), ops))
        report = await BulkRunner(fleet, journal).apply(plan)
        fleet.external_change("b", "SHARED_SCOPE", {"fw": "3"})  # someone changed it since
        jobs = revert_jobs(await journal.entries(report.batch_id or 0))
        assert list(jobs) == ["SHARED_SCOPE"]
        back = await preview(fleet, "SHARED_SCOPE", jobs["SHARED_SCOPE"], reverts=report.batch_id)
        b_diff = next(d for d in back.devices if d.device_id == "b").diffs[0]
        assert b_diff.status is DiffStatus.DELETE and "changed since" in b_diff.note
        await BulkRunner(fleet, journal).apply(back)
        assert fleet.data[("a", "SHARED_SCOPE")] == {"fw": "1", "mode": "eco"}
        assert fleet.data[("b", "SHARED_SCOPE")] == {}
    finally:
        journal.close()
