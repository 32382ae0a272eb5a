"""Create the demo schema and, on first run, fill it with the generated fleet and some history.

Writes go through PocketBase's batch API (one transaction per `BATCH_SIZE` writes), which the demo enables on its
private server: a few hundred devices with their attributes and ~15,000 history points land in seconds.
Device ids are derived from device names (`schema.row_id`), so nothing has to be read back between steps.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any

from console.demo import data
from console.demo.schema import (
    ATTRIBUTES,
    CUSTOMERS,
    DASHBOARDS,
    DEVICE_PROFILES,
    DEVICES,
    LATEST,
    TELEMETRY,
    collection_definitions,
    row_id,
)
from console.pocketbase.client import PocketBase

__all__ = [
    "BATCH_SIZE",
    "BatchWriter",
    "SeedSummary",
    "device_id",
    "enable_batch",
    "ensure_schema",
    "is_seeded",
    "seed",
]

log = logging.getLogger(__name__)

BATCH_SIZE = 500  # writes per transaction; the server allows up to `maxRequests` (set by `enable_batch`)


def device_id(name: str) -> str:
    """The record id of a demo device (stable across runs; `DemoDevice.ident`)."""
    return row_id("device", name)


@dataclass(frozen=True)
class SeedSummary:
    devices: int
    attributes: int
    telemetry: int


class BatchWriter:
    """Queues writes and sends them in transactions of at most `size` (`flush()` sends the rest)."""

    def __init__(self, pb: PocketBase, size: int = BATCH_SIZE) -> None:
        self.pb = pb
        self.size = size
        self.written = 0
        self._batch = pb.create_batch()

    async def create(self, collection: str, body: dict[str, Any]) -> None:
        self._batch.collection(collection).create(body)
        await self._maybe_flush()

    async def upsert(self, collection: str, body: dict[str, Any]) -> None:
        self._batch.collection(collection).upsert(body)
        await self._maybe_flush()

    async def update(self, collection: str, record_id: str, body: dict[str, Any]) -> None:
        self._batch.collection(collection).update(record_id, body)
        await self._maybe_flush()

    async def _maybe_flush(self) -> None:
        if len(self._batch) >= self.size:
            await self.flush()

    async def flush(self) -> None:
        batch, self._batch = self._batch, self.pb.create_batch()
        if len(batch):
            count = len(batch)
            await batch.send()
            self.written += count


async def enable_batch(pb: PocketBase, max_requests: int = 1000) -> None:
    """Turn on the batch API (off by default) with room for the seeder's transactions."""
    await pb.settings.update({"batch": {"enabled": True, "maxRequests": max_requests, "timeout": 30, "maxBodySize": 0}})


async def ensure_schema(pb: PocketBase) -> list[str]:
    """Create the demo collections that are missing and add fields a newer schema has; returns what changed.

    A demo folder made by an older Thingscope keeps its data: existing fields are left as they are, new ones are
    appended (PocketBase wants the whole `fields` list, existing fields with their ids).
    """
    existing = {c.name: c for c in await pb.collections.get_full_list()}
    changed = []
    for definition in collection_definitions():
        name = definition["name"]
        current = existing.get(name)
        if current is None:
            await pb.collections.create(definition)
            changed.append(name)
            continue
        have = set(current.field_names())
        missing = [field for field in definition["fields"] if field["name"] not in have]
        if missing:
            await pb.collections.update(name, {"fields": [*current.fields, *missing]})
            changed.append(f"{name}: +{', '.join(field['name'] for field in missing)}")
    return changed


async def is_seeded(pb: PocketBase) -> bool:
    result = await pb.collection(DEVICES).get_list(1, 1, fields="id")
    return result.total_items > 0


async def seed(pb: PocketBase, config: data.DemoConfig, now_ms: int) -> SeedSummary:
    """Fill an empty demo schema: profiles, customers, devices, dashboards, attributes, latest values, history."""
    rng = random.Random(config.seed + 1)
    devices = data.make_devices(config, now_ms)
    writer = BatchWriter(pb)
    for spec in data.PROFILES:
        await writer.create(
            DEVICE_PROFILES, {"name": spec.name, "description": spec.description, "transport": spec.transport}
        )
    for title, city, _code in data.CUSTOMERS:
        await writer.create(CUSTOMERS, {"title": title, "city": city})
    for device in devices:
        await writer.create(DEVICES, {"id": device_id(device.name), **device.record()})
    for dashboard in data.dashboards():
        await writer.create(DASHBOARDS, dashboard)
    attributes = 0
    for device in devices:
        ident = device_id(device.name)
        for scope, values in data.attributes_for(device, now_ms, rng).items():
            for key, value in values.items():
                attributes += 1
                await writer.create(
                    ATTRIBUTES,
                    {
                        "id": row_id(ident, scope, key),
                        "device": ident,
                        "scope": scope,
                        "key": key,
                        "value": value,
                        "last_update_ts": now_ms,
                    },
                )
    telemetry = 0
    latest: dict[tuple[str, str], tuple[int, Any]] = {}
    histories: list[tuple[data.DemoDevice, int, int]] = []
    for device in devices[: config.fast_devices]:
        histories.append((device, now_ms - config.history_minutes * 60_000, config.history_step_s))
    for device in devices[config.fast_devices : config.fast_devices + config.long_history_devices]:
        histories.append((device, now_ms - config.long_history_days * 86_400_000, config.long_history_step_s))
    for device, start, step in histories:
        ident = device_id(device.name)
        for key, ts, value in data.history_for(device, start, now_ms, step, rng):
            telemetry += 1
            await writer.create(TELEMETRY, {"device": ident, "key": key, "ts": ts, "value": value})
            latest[(ident, key)] = (ts, value)
    # every device has a latest value for each of its keys, even the ones without history
    for device in devices:
        ident = device_id(device.name)
        when = now_ms if device.active else device.created_ms
        for spec in data.profile_spec(device.profile).keys:
            ts, value = latest.get((ident, spec.key), (when, data.signal_value(spec, device.phase, when, rng)))
            await writer.create(
                LATEST, {"id": row_id(ident, spec.key), "device": ident, "key": spec.key, "ts": ts, "value": value}
            )
    await writer.flush()
    log.info("demo seeded: %d devices, %d attributes, %d history points", len(devices), attributes, telemetry)
    return SeedSummary(devices=len(devices), attributes=attributes, telemetry=telemetry)
