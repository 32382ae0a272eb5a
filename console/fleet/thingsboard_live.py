"""Live data for the ThingsBoard fleet through `TelemetrySubscriber` (which reconnects, resubscribes, backfills).

Telemetry is one ENTITY_DATA subscription (entityList filter + tsCmd) per call; attributes are one ATTRIBUTES
subscription per scope. Each stream is drained by a task that hands typed values to the fleet's callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from console.errors import ApiError
from console.fleet.base import Attribute, AttributeCallback, Point, TelemetryCallback
from console.fleet.thingsboard_query import typed_value
from console.thingsboard import EntityDataPageLink, EntityDataQuery, EntityKey, EntityKeyType, EntityListFilter

if TYPE_CHECKING:
    from console.fleet.thingsboard import ThingsboardFleet

__all__ = ["SCOPE_NAMES", "LiveSubscription", "subscribe_attributes", "subscribe_telemetry"]

SCOPE_NAMES = ("CLIENT_SCOPE", "SHARED_SCOPE", "SERVER_SCOPE")

log = logging.getLogger(__name__)


def _safely(callback: Any, *args: Any) -> None:
    """A failing consumer must not end the feed for everyone: log it and carry on."""
    try:
        callback(*args)
    except Exception:
        log.exception("live-data callback failed")


class LiveSubscription:
    """TelemetrySubscribers plus the tasks that drain their streams; `close()` stops both."""

    def __init__(self) -> None:
        self.subscribers: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def close(self) -> None:
        subscribers, self.subscribers = self.subscribers, []
        for subscriber in subscribers:
            subscriber.unsubscribe()
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ApiError):
                await task


async def subscribe_telemetry(
    fleet: ThingsboardFleet, device_ids: Sequence[str], keys: Sequence[str], callback: TelemetryCallback
) -> LiveSubscription:
    """New points of these devices and keys (all their keys when empty), each once and in order per key."""
    from console.thingsboard.telemetry import TelemetrySubscriber
    from console.thingsboard.ws_commands import EntityDataCmd, TimeSeriesCmd

    ids = list(dict.fromkeys(device_ids))
    wanted = list(keys)
    if not wanted:
        found = await asyncio.gather(*(fleet.telemetry_keys(d) for d in ids))
        wanted = sorted({key for group in found for key in group})
    live = LiveSubscription()
    if not ids or not wanted:
        return live
    now = int(time.time() * 1000)
    query = EntityDataQuery(
        entity_filter=EntityListFilter(entity_type="DEVICE", entity_list=ids),
        page_link=EntityDataPageLink(page_size=max(len(ids), 1)),
        entity_fields=[EntityKey(type=EntityKeyType.ENTITY_FIELD, key="name")],
    )
    command = EntityDataCmd(query=query, ts_cmd=TimeSeriesCmd(keys=wanted, start_ts=now, time_window=60_000))
    subscriber = TelemetrySubscriber(fleet.watch_socket(), [command])
    stream = subscriber.entity_data_stream
    last_seen: dict[tuple[str, str], int] = {}

    def deliver(entities: Sequence[Any]) -> None:
        for entity in entities:
            device = entity.entity_id.id
            for key, values in (entity.timeseries or {}).items():
                mark = last_seen.get((device, key), -1)
                points = [Point(ts=v.ts, value=typed_value(v.value)) for v in values if v.ts > mark]
                if points:
                    points.sort(key=lambda p: p.ts)
                    last_seen[(device, key)] = points[-1].ts
                    _safely(callback, device, key, points)

    async def drain() -> None:
        async for update in stream:
            if update.data is not None:
                deliver(update.data.data)
            if update.update:
                deliver(update.update)

    live.subscribers.append(subscriber)
    live.tasks.append(asyncio.create_task(drain(), name="tb-telemetry"))
    subscriber.subscribe()
    return live


async def subscribe_attributes(
    fleet: ThingsboardFleet, device_id: str, callback: AttributeCallback
) -> LiveSubscription:
    """Attribute changes of one device in every scope; a deletion arrives with value None and ts 0."""
    from console.thingsboard.telemetry import TelemetrySubscriber
    from console.thingsboard.ws_commands import AttributesSubscriptionCmd

    live = LiveSubscription()
    service = fleet.watch_socket()
    for scope in SCOPE_NAMES:
        subscriber = TelemetrySubscriber(service, [AttributesSubscriptionCmd(entity_id=device_id, scope=scope)])
        stream = subscriber.attribute_data_stream

        async def drain(stream: Any = stream, scope: str = scope) -> None:
            async for update in stream:
                changed = []
                for key, values in update.data.items():
                    for value in values[-1:]:
                        deleted = value.ts == 0
                        changed.append(
                            Attribute(
                                key=key,
                                scope=scope,
                                value=None if deleted else typed_value(value.value),
                                last_update_ts=value.ts,
                            )
                        )
                if changed:
                    _safely(callback, device_id, changed)

        live.subscribers.append(subscriber)
        live.tasks.append(asyncio.create_task(drain(), name="tb-attributes"))
        subscriber.subscribe()
    return live
