"""Simulated devices: post telemetry, flip active state now and then, and keep the history bounded.

Each tick (every `fast_period_s`) is one batch transaction: the fast devices post every key, one slice of the slow
devices posts (so the slow ones spread evenly over `slow_period_s`), and occasionally one device goes inactive or
comes back. Pruning (every minute) keeps the table bounded however long the demo runs:

    older than live_retention_s            one point per series and minute
    older than live_retention_s + 6 h      one point per series and 15 minutes
    older than max_retention_days          dropped
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from console.demo import data
from console.demo.schema import ATTRIBUTES, DEVICES, LATEST, TELEMETRY, row_id
from console.demo.seeding import BatchWriter
from console.errors import ApiError
from console.pocketbase.client import PocketBase

__all__ = ["PRUNE_EVERY_S", "THINNING", "SimDevice", "Simulator", "prune_statements", "simulated_devices"]

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 60.0
MAX_FAILURE_PAUSE_S = 30.0


# (age in ms after which a series keeps one point per bucket, bucket in ms)
THINNING: tuple[tuple[int, int], ...] = ((0, 60_000), (6 * 3_600_000, 900_000))
FIRST_PRUNE_WINDOW_MS = 2 * 3_600_000  # on a fresh start, thin what the last run left unthinned


def prune_statements(now_ms: int, config: data.DemoConfig, thinned_until: dict[int, int]) -> list[str]:
    """SQL that keeps the telemetry table bounded; `thinned_until` (bucket → ts) is updated in place.

    Each tier keeps the first point of every (device, key, bucket) in the slice of time that aged past it since the
    last run, so a run only touches about a minute of rows. Only numbers go into the SQL, nothing user-typed.
    """
    statements = []
    live_cut = int(now_ms - config.live_retention_s * 1000)
    for extra_age, bucket in THINNING:
        upper = (live_cut - extra_age) // bucket * bucket  # whole buckets only
        lower = thinned_until.get(bucket, upper - FIRST_PRUNE_WINDOW_MS)
        if upper <= lower:
            continue
        statements.append(
            f"DELETE FROM {TELEMETRY} WHERE ts >= {lower} AND ts < {upper} AND rowid NOT IN "
            f"(SELECT MIN(rowid) FROM {TELEMETRY} WHERE ts >= {lower} AND ts < {upper} "
            f"GROUP BY device, key, CAST(ts / {bucket} AS INTEGER))"
        )
        thinned_until[bucket] = upper
    drop_before = int(now_ms - config.max_retention_days * 86_400_000)
    statements.append(f"DELETE FROM {TELEMETRY} WHERE ts < {drop_before}")
    return statements


@dataclass(frozen=True)
class SimDevice:
    """What the simulator needs of a device; read back from the server, so any demo database can be driven."""

    ident: str
    name: str
    profile: str
    active: bool
    phase: float


async def simulated_devices(pb: PocketBase) -> list[SimDevice]:
    """The stored devices with a known profile, newest first (the newest are the live ones, as seeded)."""
    known = {spec.name for spec in data.PROFILES}
    devices = []
    async for records in pb.collection(DEVICES).iter_pages(
        1000, sort="-created_time,-id", fields="id,name,profile,active"
    ):
        for record in records:
            name = record.get_string_value("name")
            profile = record.get_string_value("profile")
            if profile in known:
                phase = data.device_phase(name)
                devices.append(SimDevice(record.id, name, profile, record.get_bool_value("active"), phase))
    return devices


class Simulator:
    """Drives the demo devices on a PocketBase that holds the seeded demo schema."""

    def __init__(
        self,
        pb: PocketBase,
        config: data.DemoConfig,
        devices: Sequence[SimDevice | data.DemoDevice],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.pb = pb
        self.config = config
        self.devices = devices
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.fast = devices[: config.fast_devices]
        self.slow = devices[config.fast_devices :]
        self.slots = max(1, round(config.slow_period_s / config.fast_period_s))
        self.active = {d.name: d.active for d in devices}
        self.ticks = 0
        self.points_posted = 0
        self.flips = 0
        self.errors = 0
        self._last_prune = 0.0
        self._thinned_until: dict[int, int] = {}

    async def run(self) -> None:
        """Tick until cancelled. A failed tick is retried on the next one; while failures last, the pace drops
        (up to `MAX_FAILURE_PAUSE_S` between tries) and only every tenth failure is logged."""
        await self._load_active_states()
        period = self.config.fast_period_s
        next_tick = math.ceil(self.clock() / period) * period
        failures = 0
        while True:
            delay = next_tick - self.clock()
            if delay > 0:
                await self.sleep(delay)
            try:
                await self.tick(int(next_tick * 1000) // 1000 * 1000)
                failures = 0
            except ApiError as exc:
                self.errors += 1
                if failures % 10 == 0:
                    log.warning("demo simulator tick failed (%d in a row): %s", failures + 1, exc.message)
                failures += 1
            pause = min(period * 2**failures, MAX_FAILURE_PAUSE_S) if failures else period
            # skip ticks we were too slow for instead of bursting to catch up
            next_tick = max(next_tick + pause, math.ceil(self.clock() / period) * period)

    async def _load_active_states(self) -> None:
        """Resume with the states a previous run left (devices flip while the app is open)."""
        async for records in self.pb.collection(DEVICES).iter_pages(1000, fields="name,active"):
            for record in records:
                name = record.get_string_value("name")
                if name in self.active:
                    self.active[name] = record.get_bool_value("active")

    async def tick(self, ts_ms: int) -> None:
        """One round of posts (at `ts_ms`, whole seconds) as one transaction, then pruning when due."""
        writer = BatchWriter(self.pb, size=1000)
        slot = self.ticks % self.slots
        posting = [d for d in self.fast if self.active[d.name]]
        posting += [d for d in self.slow[slot :: self.slots] if self.active[d.name]]
        for device in posting:
            ident = device.ident
            for spec in data.profile_spec(device.profile).keys:
                value = data.signal_value(spec, device.phase, ts_ms, self.rng)
                point = {"device": ident, "key": spec.key, "ts": ts_ms, "value": value}
                await writer.create(TELEMETRY, point)
                await writer.upsert(LATEST, {"id": row_id(ident, spec.key), **point})
                self.points_posted += 1
        if self.slow and self.rng.random() < self.config.flip_probability:
            await self._flip(writer, self.rng.choice(self.slow), ts_ms)
        await writer.flush()
        self.ticks += 1
        if self.clock() - self._last_prune >= PRUNE_EVERY_S:
            self._last_prune = self.clock()
            await self.prune(ts_ms)

    async def _flip(self, writer: BatchWriter, device: SimDevice | data.DemoDevice, ts_ms: int) -> None:
        state = not self.active[device.name]
        self.active[device.name] = state
        self.flips += 1
        ident = device.ident
        await writer.update(DEVICES, ident, {"active": state, "last_activity": ts_ms})
        for key, value in (("active", state), ("lastActivityTime", ts_ms)):
            await writer.upsert(
                ATTRIBUTES,
                {
                    "id": row_id(ident, "SERVER_SCOPE", key),
                    "device": ident,
                    "scope": "SERVER_SCOPE",
                    "key": key,
                    "value": value,
                    "last_update_ts": ts_ms,
                },
            )

    async def prune(self, now_ms: int) -> None:
        """Thin and drop old telemetry through the superuser SQL endpoint (no per-row deletes)."""
        for statement in prune_statements(now_ms, self.config, self._thinned_until):
            try:
                await self.pb.send("/api/sql", method="POST", body={"query": statement})
            except ApiError as exc:
                log.warning("demo telemetry pruning failed: %s", exc.message)
                return
