"""Bulk attribute edits: plan (fetch current values, diff per device), then apply with bounded concurrency.

    preview(fleet, scope, jobs)  ->  BulkPlan        nothing is written; per device: old → new, unchanged, missing
    BulkRunner.apply(plan)       ->  BulkReport      journal first, then the writes, N devices at a time

A 429 pauses every worker until its Retry-After has passed (one shared gate), then the device is retried; other
transient errors (`is_transient`) are retried with capped, jittered backoff; anything else fails that device with the
server's message. A cancelled or partly failed run still has an exact report: which devices were written, which
failed, which were in flight (unknown) and which were never sent. `report.failed_plan()` is "retry failed".
"""

from __future__ import annotations

import asyncio
import enum
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import msgspec

from console.errors import ApiError, RateLimitedError, error_from_transport, is_transient
from console.fleet.base import Fleet
from console.fleet.values import validate_key, validate_value, value_summary, values_equal
from console.journal import BatchKind, Change, Journal, Outcome

__all__ = [
    "BulkOp",
    "BulkPlan",
    "BulkReport",
    "BulkRunner",
    "DeviceJob",
    "DeviceOutcome",
    "DevicePlan",
    "DeviceResult",
    "DiffStatus",
    "KeyDiff",
    "OpKind",
    "preview",
    "revert_jobs",
    "same_ops",
    "single_plan",
]

DEFAULT_CONCURRENCY = 16
DEFAULT_ATTEMPTS = 3
FLUSH_EVERY = 100  # journal completions per write transaction
FLUSH_SECONDS = 0.5


class OpKind(enum.StrEnum):
    SET = "set"
    RENAME = "rename"
    DELETE = "delete"


class BulkOp(msgspec.Struct, frozen=True, kw_only=True):
    """One key operation. For reverts, `expected` is the value we wrote then: a different current value is flagged."""

    kind: OpKind
    key: str
    value: Any = None
    new_key: str = ""
    expected: Any = None
    check_expected: bool = False

    @classmethod
    def set(cls, key: str, value: Any) -> BulkOp:
        validate_key(key)
        return cls(kind=OpKind.SET, key=key, value=validate_value(value))

    @classmethod
    def rename(cls, key: str, new_key: str) -> BulkOp:
        validate_key(key)
        validate_key(new_key, {key})
        return cls(kind=OpKind.RENAME, key=key, new_key=new_key)

    @classmethod
    def delete(cls, key: str) -> BulkOp:
        validate_key(key)
        return cls(kind=OpKind.DELETE, key=key)


class DiffStatus(enum.StrEnum):
    ADD = "add"  # missing → new
    CHANGE = "change"  # old → new
    DELETE = "delete"  # old → deleted
    UNCHANGED = "unchanged"
    MISSING = "missing"  # delete / rename of a key the device does not have: nothing to do


class KeyDiff(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    status: DiffStatus
    old: Any = None
    new: Any = None
    note: str = ""

    @property
    def is_write(self) -> bool:
        return self.status in (DiffStatus.ADD, DiffStatus.CHANGE, DiffStatus.DELETE)

    def describe(self) -> str:
        if self.status is DiffStatus.ADD:
            text = f"{self.key}: missing → {value_summary(self.new, 40)}"
        elif self.status is DiffStatus.CHANGE:
            text = f"{self.key}: {value_summary(self.old, 40)} → {value_summary(self.new, 40)}"
        elif self.status is DiffStatus.DELETE:
            text = f"{self.key}: {value_summary(self.old, 40)} → deleted"
        elif self.status is DiffStatus.UNCHANGED:
            text = f"{self.key}: unchanged"
        else:
            text = f"{self.key}: missing"
        return f"{text} ({self.note})" if self.note else text


class DeviceJob(msgspec.Struct, frozen=True, kw_only=True):
    device_id: str
    name: str = ""
    ops: tuple[BulkOp, ...]


class DevicePlan(msgspec.Struct, frozen=True, kw_only=True):
    device_id: str
    name: str
    diffs: tuple[KeyDiff, ...] = ()
    error: str = ""  # current values could not be read: the device is not written

    @property
    def has_writes(self) -> bool:
        return not self.error and any(d.is_write for d in self.diffs)

    @property
    def saves(self) -> dict[str, Any]:
        return {d.key: d.new for d in self.diffs if d.status in (DiffStatus.ADD, DiffStatus.CHANGE)}

    @property
    def deletes(self) -> list[str]:
        return [d.key for d in self.diffs if d.status is DiffStatus.DELETE]

    def summary(self) -> str:
        if self.error:
            return f"could not read current values: {self.error}"
        return "; ".join(d.describe() for d in self.diffs) or "nothing to do"


class BulkPlan(msgspec.Struct, frozen=True, kw_only=True):
    scope: str
    title: str
    devices: tuple[DevicePlan, ...]
    kind: BatchKind = BatchKind.BULK
    reverts: int | None = None

    @property
    def to_write(self) -> list[DevicePlan]:
        return [d for d in self.devices if d.has_writes]

    @property
    def unreadable(self) -> list[DevicePlan]:
        return [d for d in self.devices if d.error]


# --- preview --------------------------------------------------------------------------------------


def diff_device(current: dict[str, Any], ops: Sequence[BulkOp]) -> tuple[KeyDiff, ...]:
    """The per-key diff of applying `ops` (in order) to a device whose scope holds `current`."""
    state = dict(current)
    diffs: dict[str, KeyDiff] = {}

    def note_for(op: BulkOp, now: Any) -> str:
        if op.check_expected and not values_equal(now, op.expected):
            return f"changed since: was {value_summary(op.expected, 30) or 'missing'}"
        return ""

    def put(key: str, new: Any, note: str = "") -> None:
        old = current.get(key)
        if new is None:
            status = DiffStatus.DELETE if key in current else DiffStatus.MISSING
        elif key not in current:
            status = DiffStatus.ADD
        elif values_equal(old, new):
            status = DiffStatus.UNCHANGED
        else:
            status = DiffStatus.CHANGE
        diffs[key] = KeyDiff(key=key, status=status, old=old, new=new, note=note)

    for op in ops:
        if op.kind is OpKind.SET:
            note = note_for(op, state.get(op.key))
            state[op.key] = op.value
            put(op.key, op.value, note)
        elif op.kind is OpKind.DELETE:
            note = note_for(op, state.get(op.key))
            state.pop(op.key, None)
            put(op.key, None, note)
        elif op.key in state:
            value = state.pop(op.key)
            overwrites = op.new_key in state and not values_equal(state[op.new_key], value)
            state[op.new_key] = value
            put(op.new_key, value, f"renamed from {op.key}" + ("; overwrites the existing value" if overwrites else ""))
            put(op.key, None, f"renamed to {op.new_key}")
        else:
            diffs[op.key] = KeyDiff(key=op.key, status=DiffStatus.MISSING, note=f"nothing to rename to {op.new_key}")
    return tuple(diffs.values())


async def preview(
    fleet: Fleet,
    scope: str,
    jobs: Sequence[DeviceJob],
    *,
    title: str = "",
    kind: BatchKind = BatchKind.BULK,
    reverts: int | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_progress: Callable[[int, int], None] | None = None,
) -> BulkPlan:
    """Fetch every device's current values (N at a time) and diff them; nothing is written."""
    results: list[DevicePlan | None] = [None] * len(jobs)
    done = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(jobs)):
        queue.put_nowait(index)
    gate = _Gate()

    async def worker() -> None:
        nonlocal done
        while not queue.empty():
            index = queue.get_nowait()
            job = jobs[index]
            try:
                attrs = await _with_retries(lambda job=job: fleet.attributes(job.device_id, scope), gate)
            except ApiError as exc:
                results[index] = DevicePlan(device_id=job.device_id, name=job.name, error=exc.message)
            else:
                current = {a.key: a.value for a in attrs}
                results[index] = DevicePlan(device_id=job.device_id, name=job.name, diffs=diff_device(current, job.ops))
            done += 1
            if on_progress:
                on_progress(done, len(jobs))

    async with asyncio.TaskGroup() as group:
        for _ in range(max(1, min(concurrency, len(jobs)))):
            group.create_task(worker())
    return BulkPlan(
        scope=scope, title=title, devices=tuple(p for p in results if p is not None), kind=kind, reverts=reverts
    )


def same_ops(devices: Iterable[tuple[str, str]], ops: Sequence[BulkOp]) -> list[DeviceJob]:
    """Jobs applying the same ops to each (device id, name)."""
    return [DeviceJob(device_id=i, name=n, ops=tuple(ops)) for i, n in devices]


def revert_jobs(entries: Iterable[Any]) -> dict[str, list[DeviceJob]]:
    """Jobs that put back the old values of a batch's written (or unknown) journal entries, grouped by scope.

    Entries are replayed newest first so that a key changed twice in one batch ends at its oldest value.
    """
    per_scope: dict[str, dict[str, tuple[str, dict[str, BulkOp]]]] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.outcome not in (Outcome.WRITTEN, Outcome.UNKNOWN):
            continue
        devices = per_scope.setdefault(entry.scope, {})
        _, ops = devices.setdefault(entry.entity_id, (entry.entity_name, {}))
        if entry.key in ops:
            continue  # the first (oldest) change of a key holds the value to restore
        if entry.old is None:
            op = BulkOp(kind=OpKind.DELETE, key=entry.key, expected=entry.new, check_expected=True)
        else:
            op = BulkOp(kind=OpKind.SET, key=entry.key, value=entry.old, expected=entry.new, check_expected=True)
        ops[entry.key] = op
    return {
        scope: [DeviceJob(device_id=i, name=n, ops=tuple(ops.values())) for i, (n, ops) in devices.items()]
        for scope, devices in per_scope.items()
    }


# --- apply ----------------------------------------------------------------------------------------


class DeviceOutcome(enum.StrEnum):
    WRITTEN = "written"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    UNKNOWN = "unknown"  # in flight when cancelled: the server may have applied it
    NOT_SENT = "not sent"


class DeviceResult(msgspec.Struct, frozen=True, kw_only=True):
    device_id: str
    name: str
    outcome: DeviceOutcome
    message: str = ""
    attempts: int = 0


class BulkReport:
    """Live while the run goes on; exact afterwards, also after a cancel."""

    def __init__(self, plan: BulkPlan) -> None:
        self.plan = plan
        self.batch_id: int | None = None
        self.cancelled = False
        self.results: dict[str, DeviceResult] = {}
        for device in plan.devices:
            if device.error:
                self.results[device.device_id] = DeviceResult(
                    device_id=device.device_id, name=device.name, outcome=DeviceOutcome.FAILED, message=device.error
                )
            elif not device.has_writes:
                self.results[device.device_id] = DeviceResult(
                    device_id=device.device_id, name=device.name, outcome=DeviceOutcome.UNCHANGED
                )
            else:
                self.results[device.device_id] = DeviceResult(
                    device_id=device.device_id, name=device.name, outcome=DeviceOutcome.NOT_SENT
                )

    def with_outcome(self, outcome: DeviceOutcome) -> list[DeviceResult]:
        return [r for r in self.results.values() if r.outcome is outcome]

    @property
    def written(self) -> list[DeviceResult]:
        return self.with_outcome(DeviceOutcome.WRITTEN)

    @property
    def failed(self) -> list[DeviceResult]:
        return self.with_outcome(DeviceOutcome.FAILED)

    @property
    def finished(self) -> int:
        return sum(1 for r in self.results.values() if r.outcome is not DeviceOutcome.NOT_SENT)

    def failed_plan(self) -> BulkPlan:
        """"Retry failed": the same writes for the failed and unknown devices (unreadable ones need a new preview)."""
        again = (DeviceOutcome.FAILED, DeviceOutcome.UNKNOWN, DeviceOutcome.NOT_SENT)
        retry = {r.device_id for r in self.results.values() if r.outcome in again}
        devices = tuple(d for d in self.plan.devices if d.device_id in retry and d.has_writes)
        return BulkPlan(
            scope=self.plan.scope,
            title=f"Retry: {self.plan.title}",
            devices=devices,
            kind=BatchKind.RETRY if self.plan.kind is BatchKind.BULK else self.plan.kind,
            reverts=self.plan.reverts,
        )

    def summary(self) -> str:
        """One paragraph that says exactly what happened."""
        written = self.written
        failed = self.failed
        unknown = self.with_outcome(DeviceOutcome.UNKNOWN)
        not_sent = self.with_outcome(DeviceOutcome.NOT_SENT)
        unchanged = self.with_outcome(DeviceOutcome.UNCHANGED)
        parts = [f"{len(written)} written", f"{len(unchanged)} unchanged", f"{len(failed)} failed"]
        if unknown:
            parts.append(f"{len(unknown)} interrupted (may or may not be written)")
        if not_sent:
            parts.append(f"{len(not_sent)} not sent")
        head = "Cancelled: " if self.cancelled else ""
        text = f"{head}{', '.join(parts)} of {len(self.results)} devices."
        if failed:
            text += " Failed: " + ", ".join(r.name or r.device_id for r in failed[:20])
            text += f" and {len(failed) - 20} more." if len(failed) > 20 else "."
        return text


class _Gate:
    """Shared by all workers of a run: a 429 with Retry-After pauses every worker, not just the one that got it."""

    def __init__(self) -> None:
        self._resume_at = 0.0

    def hold(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + seconds)

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        # a loop, not an Event: a later 429 may push the resume time further while we sleep
        while (delay := self._resume_at - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)


def _backoff(attempt: int, base: float) -> float:
    return min(10.0, base * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)


async def _with_retries(
    call: Callable[[], Any],
    gate: _Gate,
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    backoff_base: float = 0.5,
    counter: list[int] | None = None,
) -> Any:
    """Run `call()` until it succeeds, a non-transient error, or `attempts` tries. Raises ApiError."""
    attempt = 0
    while True:
        attempt += 1
        await gate.wait()
        if counter is not None:
            counter[0] += 1
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            error = exc if isinstance(exc, ApiError) else error_from_transport(exc)
            if attempt >= attempts or not is_transient(error):
                raise error from exc
            if isinstance(error, RateLimitedError) and error.retry_after is not None:
                gate.hold(error.retry_after)
            else:
                await asyncio.sleep(_backoff(attempt, backoff_base))


class BulkRunner:
    """Applies a plan: journal first, then the writes, `concurrency` devices at a time; `report` is always current."""

    def __init__(
        self,
        fleet: Fleet,
        journal: Journal | None,
        *,
        profile: str = "",
        server: str = "",
        concurrency: int = DEFAULT_CONCURRENCY,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_base: float = 0.5,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.fleet = fleet
        self.journal = journal
        self.profile = profile
        self.server = server
        self.concurrency = max(1, concurrency)
        self.attempts = attempts
        self.backoff_base = backoff_base
        self.on_progress = on_progress
        self.report: BulkReport | None = None
        self.requests = 0  # requests sent, retries included

    async def apply(self, plan: BulkPlan) -> BulkReport:
        report = self.report = BulkReport(plan)
        devices = plan.to_write
        entry_ids: dict[str, dict[str, int]] = {}
        if self.journal is not None and devices:
            report.batch_id = await self.journal.start_batch(
                profile=self.profile, server=self.server, kind=plan.kind, title=plan.title, reverts=plan.reverts
            )
            changes = [
                Change(entity_id=d.device_id, entity_name=d.name, scope=plan.scope, key=k.key, old=k.old, new=k.new)
                for d in devices
                for k in d.diffs
                if k.is_write
            ]
            ids = iter(await self.journal.record(report.batch_id, changes))
            for d in devices:
                entry_ids[d.device_id] = {k.key: next(ids) for k in d.diffs if k.is_write}
        gate = _Gate()
        counter = [0]
        queue: asyncio.Queue[DevicePlan] = asyncio.Queue()
        for device in devices:
            queue.put_nowait(device)
        in_flight: set[str] = set()
        total = len(devices)
        done = 0
        # completions go to the journal in batches: one thread hop per ~100 devices, not two per device, so the
        # event loop is not held up waiting for the GIL behind SQLite workers (measured by bench_bulk_edit)
        finished: list[tuple[list[int], Outcome, str]] = []
        loop = asyncio.get_running_loop()
        last_flush = loop.time()

        async def flush() -> None:
            nonlocal last_flush
            last_flush = loop.time()
            if self.journal is not None and finished:
                items = finished[:]
                finished.clear()
                await self.journal.complete_many(items)

        async def worker() -> None:
            nonlocal done
            while not queue.empty():
                device = queue.get_nowait()
                in_flight.add(device.device_id)
                result, done_keys = await self._write_device(plan.scope, device, gate, counter)
                in_flight.discard(device.device_id)
                report.results[device.device_id] = result
                ids = entry_ids.get(device.device_id, {})
                if ids:
                    finished.append(([ids[k] for k in done_keys if k in ids], Outcome.WRITTEN, ""))
                    failed = [i for k, i in ids.items() if k not in done_keys]
                    if failed:
                        finished.append((failed, Outcome.FAILED, result.message))
                done += 1
                if self.on_progress:
                    self.on_progress(done, total)
                if len(finished) >= FLUSH_EVERY or loop.time() - last_flush > FLUSH_SECONDS:
                    await flush()

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, total)):
                    group.create_task(worker())
            await flush()
        except asyncio.CancelledError:
            report.cancelled = True
            if self.journal is not None:
                for ids, outcome, message in finished:
                    self.journal.complete_now(ids, outcome, message)
                finished.clear()
            unknown_ids: list[int] = []
            skipped_ids: list[int] = []
            for device_id, result in list(report.results.items()):
                if result.outcome is not DeviceOutcome.NOT_SENT:
                    continue
                ids = list(entry_ids.get(device_id, {}).values())
                if device_id in in_flight:
                    report.results[device_id] = msgspec.structs.replace(
                        result, outcome=DeviceOutcome.UNKNOWN, message="Cancelled while the request was in flight."
                    )
                    unknown_ids += ids
                else:
                    skipped_ids += ids
            if self.journal is not None:
                self.journal.complete_now(unknown_ids, Outcome.UNKNOWN, "cancelled in flight")
                self.journal.complete_now(skipped_ids, Outcome.SKIPPED, "cancelled before sending")
            raise
        finally:
            self.requests += counter[0]
        return report

    async def _write_device(
        self, scope: str, device: DevicePlan, gate: _Gate, counter: list[int]
    ) -> tuple[DeviceResult, set[str]]:
        """Save first, delete second: a rename whose delete fails still has the value under its new key."""
        done_keys: set[str] = set()
        tries = [0]
        saves, deletes = device.saves, device.deletes
        try:
            if saves:
                await _with_retries(
                    lambda: self.fleet.save_attributes(device.device_id, scope, saves),
                    gate,
                    attempts=self.attempts,
                    backoff_base=self.backoff_base,
                    counter=tries,
                )
                done_keys |= saves.keys()
            if deletes:
                await _with_retries(
                    lambda: self.fleet.delete_attributes(device.device_id, scope, deletes),
                    gate,
                    attempts=self.attempts,
                    backoff_base=self.backoff_base,
                    counter=tries,
                )
                done_keys |= set(deletes)
        except ApiError as exc:
            counter[0] += tries[0]
            message = exc.message
            if done_keys:
                message = f"{message} (written: {', '.join(sorted(done_keys))})"
            outcome = DeviceOutcome.FAILED
            return (
                DeviceResult(
                    device_id=device.device_id, name=device.name, outcome=outcome, message=message,
                    attempts=tries[0],
                ),
                done_keys,
            )
        except asyncio.CancelledError:
            counter[0] += tries[0]
            raise
        counter[0] += tries[0]
        return (
            DeviceResult(
                device_id=device.device_id, name=device.name, outcome=DeviceOutcome.WRITTEN,
                attempts=tries[0],
            ),
            done_keys,
        )


def single_plan(
    device_id: str,
    name: str,
    scope: str,
    changes: dict[str, tuple[Any, Any]],
    *,
    title: str = "",
    kind: BatchKind = BatchKind.EDIT,
) -> BulkPlan:
    """A one-device plan from the attribute editor: `changes` maps key -> (old, new); new None deletes the key.

    Single edits go through the same runner as bulk edits, so they are journaled and retried the same way.
    """
    diffs = []
    for key, (old, new) in changes.items():
        if new is None:
            status = DiffStatus.DELETE
        elif old is None:
            status = DiffStatus.ADD
        else:
            status = DiffStatus.CHANGE
        diffs.append(KeyDiff(key=key, status=status, old=old, new=validate_value(new) if new is not None else None))
    device = DevicePlan(device_id=device_id, name=name, diffs=tuple(diffs))
    title = title or f"Edit {', '.join(changes)} on {name or device_id}"
    return BulkPlan(scope=scope, title=title, devices=(device,), kind=kind)
