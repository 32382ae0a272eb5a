"""Live telemetry for the PocketBase fleet: realtime events to ordered points, with a REST backfill after reconnects.

PocketBase does not replay what a dropped stream missed. After each reconnect a `TelemetryFeed` holds live events,
fetches the gap by REST from the last point it delivered per (device, key), delivers it, then releases what it held:
every point once, in ts order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from console.demo.schema import TELEMETRY
from console.errors import ApiError
from console.fleet.base import Point, TelemetryCallback
from console.fleet.pocketbase_query import device_filters, now_ms
from console.pocketbase.filter import build_filter
from console.pocketbase.models import RecordModel

if TYPE_CHECKING:
    from console.fleet.pocketbase import PocketBaseFleet

__all__ = ["Subscription", "TelemetryFeed"]

log = logging.getLogger(__name__)


class Subscription:
    """Closes every realtime listener it holds (once)."""

    def __init__(self, unsubscribes: list[Callable[[], Any]]) -> None:
        self._unsubscribes = unsubscribes

    async def close(self) -> None:
        unsubscribes, self._unsubscribes = self._unsubscribes, []
        for unsubscribe in unsubscribes:
            with contextlib.suppress(ApiError):
                await unsubscribe()


class TelemetryFeed(Subscription):
    """One `subscribe_telemetry`: delivers each (device, key) point once, in ts order, backfilling after reconnects."""

    def __init__(
        self, fleet: PocketBaseFleet, device_ids: list[str], keys: list[str], callback: TelemetryCallback
    ) -> None:
        super().__init__([])
        self.unsubscribes = self._unsubscribes
        self.fleet = fleet
        self.device_ids = device_ids
        self.keys = keys
        self.callback = callback
        self.started_ms = now_ms()
        self.last: dict[tuple[str, str], int] = {}
        self.held: list[RecordModel] | None = None  # live records waiting while a backfill runs
        self.remove_listener: Callable[[], Any] | None = None
        self.backfill_task: asyncio.Task[None] | None = None
        self.backfills = 0

    def on_event(self, event: Any) -> None:
        if event.action != "create":
            return
        if self.held is not None:
            self.held.append(event.record)
        else:
            self.deliver([event.record])

    def deliver(self, records: Sequence[RecordModel]) -> None:
        """Hand new points to the callback, grouped per key, skipping anything at or before what was delivered."""
        wanted = set(self.keys)
        batch: dict[tuple[str, str], list[Point]] = {}
        for record in records:
            device, key = record.get_string_value("device"), record.get_string_value("key")
            if wanted and key not in wanted:
                continue
            ts = record.get_int_value("ts")
            if ts <= self.last.get((device, key), -1):
                continue
            self.last[(device, key)] = ts
            batch.setdefault((device, key), []).append(Point(ts=ts, value=record.get("value")))
        for (device, key), points in batch.items():
            try:
                self.callback(device, key, points)
            except Exception:
                log.exception("telemetry callback failed")

    def on_connect(self, reconnected: bool) -> None:
        if reconnected and self.backfill_task is None:
            self.held = []
            self.backfill_task = asyncio.ensure_future(self._backfill())

    async def _backfill(self) -> None:
        try:
            cuts = [self.last.get((d, k), self.started_ms - 1) for d in self.device_ids for k in self.keys]
            since = min(cuts) if cuts and self.keys else min([*self.last.values(), self.started_ms - 1])
            missed: list[RecordModel] = []
            for device_part in device_filters(self.device_ids, self.keys):
                flt = device_part + build_filter(" && ts > {:since}", since=since)
                async for records in self.fleet.pb.collection(TELEMETRY).iter_pages(1000, filter=flt, sort="ts,id"):
                    missed.extend(records)
            missed.sort(key=lambda r: r.get_int_value("ts"))
            self.deliver(missed)
            self.backfills += 1
        except ApiError as exc:
            log.warning("could not fetch the telemetry missed while disconnected: %s", exc.message)
        finally:
            held, self.held = self.held or [], None
            self.backfill_task = None
            self.deliver(held)

    async def close(self) -> None:
        if self.remove_listener is not None:
            self.remove_listener()
            self.remove_listener = None
        task, self.backfill_task = self.backfill_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ApiError):
                await task
        await super().close()
