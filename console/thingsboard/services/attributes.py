"""Attributes and time series (reference §5): keys, latest values, history, save, delete.

`get_timeseries_history` never truncates silently: ThingsBoard caps each key at `limit` points per
request, so the helper keeps asking from just after the last timestamp until a key comes back short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from console.errors import ServerError
from console.thingsboard.models import AttributeData, AttributeScope, EntityId
from console.thingsboard.query import TsValue
from console.thingsboard.services._base import Service, entity_path, params_of

__all__ = ["DEFAULT_HISTORY_LIMIT", "AttributeService"]

DEFAULT_HISTORY_LIMIT = 1000  # points per key per request while paging history
_PREFIX = "/api/plugins/telemetry"
_KEYS = msgspec.json.Decoder(list[str])
_ATTRIBUTES = msgspec.json.Decoder(list[AttributeData])
_SERIES = msgspec.json.Decoder(dict[str, list[TsValue]])


def _key_params(keys: Sequence[str] | None) -> list[tuple[str, str]]:
    """`keys=a,b`; keys that contain a comma need repeated `key=` parameters (reference §12.19)."""
    if not keys:
        return []
    if any("," in key for key in keys):
        return [("key", key) for key in keys]
    return [("keys", ",".join(keys))]


def _scope(scope: AttributeScope | str) -> str:
    return str(scope)


class AttributeService(Service):
    """`tb.attributes`."""

    # --- keys and values ----------------------------------------------------------------------

    async def get_attribute_keys(self, entity_id: EntityId) -> list[str]:
        return await self._call("GET", f"{_PREFIX}/{entity_path(entity_id)}/keys/attributes", decoder=_KEYS)

    async def get_attribute_keys_by_scope(self, entity_id: EntityId, scope: AttributeScope | str) -> list[str]:
        path = f"{_PREFIX}/{entity_path(entity_id)}/keys/attributes/{_scope(scope)}"
        return await self._call("GET", path, decoder=_KEYS)

    async def get_attribute_kv_entries(
        self, entity_id: EntityId, keys: Sequence[str] | None = None
    ) -> list[AttributeData]:
        path = f"{_PREFIX}/{entity_path(entity_id)}/values/attributes"
        return await self._call("GET", path, params=_key_params(keys), decoder=_ATTRIBUTES)

    async def get_attributes_by_scope(
        self, entity_id: EntityId, scope: AttributeScope | str, keys: Sequence[str] | None = None
    ) -> list[AttributeData]:
        path = f"{_PREFIX}/{entity_path(entity_id)}/values/attributes/{_scope(scope)}"
        return await self._call("GET", path, params=_key_params(keys), decoder=_ATTRIBUTES)

    async def get_timeseries_keys(self, entity_id: EntityId) -> list[str]:
        return await self._call("GET", f"{_PREFIX}/{entity_path(entity_id)}/keys/timeseries", decoder=_KEYS)

    async def get_latest_timeseries(self, entity_id: EntityId, keys: Sequence[str] | None = None) -> dict[str, TsValue]:
        """Latest value per key; a requested key without data has `value` None (its ts is the server's now)."""
        path = f"{_PREFIX}/{entity_path(entity_id)}/values/timeseries"
        series = await self._call("GET", path, params=_key_params(keys), decoder=_SERIES) or {}
        return {key: values[0] for key, values in series.items() if values}

    async def get_timeseries(
        self,
        entity_id: EntityId,
        keys: Sequence[str],
        *,
        start_ts: int,
        end_ts: int,
        interval: int = 0,
        agg: str = "NONE",
        limit: int = 100,
        order_by: str = "DESC",
    ) -> dict[str, list[TsValue]]:
        """One raw history request, exactly as the server answers it (at most `limit` points per key)."""
        params = [
            *_key_params(keys),
            ("startTs", str(start_ts)),
            ("endTs", str(end_ts)),
            ("interval", str(interval)),
            ("agg", agg),
            ("limit", str(limit)),
            ("orderBy", order_by),
        ]
        path = f"{_PREFIX}/{entity_path(entity_id)}/values/timeseries"
        return await self._call("GET", path, params=params, decoder=_SERIES) or {}

    async def get_timeseries_history(
        self,
        entity_id: EntityId,
        keys: Sequence[str],
        start_ts: int,
        end_ts: int,
        *,
        limit: int = DEFAULT_HISTORY_LIMIT,
        windows: int = 1,
        max_in_flight: int = 4,
    ) -> dict[str, list[TsValue]]:
        """Every raw point in `[start_ts, end_ts)`, ascending, no duplicates, for each requested key.

        The range may be split into `windows` parts fetched concurrently; within a part, a key whose
        answer is full (`limit` points) is asked again from just after its last timestamp.
        """
        if not keys or end_ts <= start_ts:
            return {key: [] for key in keys}
        windows = max(1, min(windows, end_ts - start_ts))
        step = (end_ts - start_ts) / windows
        bounds = [start_ts + round(step * i) for i in range(windows)] + [end_ts]
        gate = asyncio.Semaphore(max_in_flight)

        async def one(lo: int, hi: int) -> dict[str, list[TsValue]]:
            async with gate:
                return await self._history_window(entity_id, keys, lo, hi, limit)

        parts = await asyncio.gather(*(one(bounds[i], bounds[i + 1]) for i in range(windows)))
        return {key: [point for part in parts for point in part[key]] for key in keys}

    async def _history_window(
        self, entity_id: EntityId, keys: Sequence[str], start_ts: int, end_ts: int, limit: int
    ) -> dict[str, list[TsValue]]:
        result: dict[str, list[TsValue]] = {key: [] for key in keys}
        cursors = {key: start_ts for key in keys}
        while cursors:
            groups: dict[int, list[str]] = {}
            for key, cursor in cursors.items():
                groups.setdefault(cursor, []).append(key)
            for cursor, group in groups.items():
                series = await self.get_timeseries(
                    entity_id, group, start_ts=cursor, end_ts=end_ts, limit=limit, order_by="ASC"
                )
                for key in group:
                    got = series.get(key, [])
                    points = sorted((p for p in got if cursor <= p.ts < end_ts), key=lambda p: p.ts)
                    seen = result[key][-1].ts if result[key] else None
                    result[key].extend(p for p in points if seen is None or p.ts > seen)
                    if len(got) < limit:
                        del cursors[key]
                    elif not points or points[-1].ts + 1 <= cursor:
                        raise ServerError(
                            f"The server returned {key!r} history outside the requested range; "
                            "refusing to loop forever.",
                        )
                    else:
                        cursors[key] = points[-1].ts + 1
        return result

    # --- writes -------------------------------------------------------------------------------

    async def save_device_attributes(
        self, device_id: str, scope: AttributeScope | str, attributes: Mapping[str, Any]
    ) -> None:
        await self._call("POST", f"{_PREFIX}/{device_id}/{_scope(scope)}", json=dict(attributes))

    async def save_entity_attributes_v1(
        self, entity_id: EntityId, scope: AttributeScope | str, attributes: Mapping[str, Any]
    ) -> None:
        path = f"{_PREFIX}/{entity_path(entity_id)}/{_scope(scope)}"
        await self._call("POST", path, json=dict(attributes))

    async def save_entity_attributes_v2(
        self, entity_id: EntityId, scope: AttributeScope | str, attributes: Mapping[str, Any]
    ) -> None:
        """Write SERVER_SCOPE or SHARED_SCOPE attributes (the server refuses CLIENT_SCOPE)."""
        path = f"{_PREFIX}/{entity_path(entity_id)}/attributes/{_scope(scope)}"
        await self._call("POST", path, json=dict(attributes))

    async def save_entity_telemetry(
        self, entity_id: EntityId, scope: str, telemetry: Mapping[str, Any] | Iterable[Mapping[str, Any]]
    ) -> None:
        """`scope` is required in the path but ignored by the server (any string, e.g. "TELEMETRY")."""
        body = dict(telemetry) if isinstance(telemetry, Mapping) else [dict(item) for item in telemetry]
        await self._call("POST", f"{_PREFIX}/{entity_path(entity_id)}/timeseries/{scope}", json=body)

    async def save_entity_telemetry_with_ttl(
        self, entity_id: EntityId, scope: str, telemetry: Mapping[str, Any], ttl: int
    ) -> None:
        path = f"{_PREFIX}/{entity_path(entity_id)}/timeseries/{scope}/{int(ttl)}"
        await self._call("POST", path, json=dict(telemetry))

    async def delete_entity_attributes(
        self, entity_id: EntityId, scope: AttributeScope | str, keys: Sequence[str]
    ) -> None:
        path = f"{_PREFIX}/{entity_path(entity_id)}/{_scope(scope)}"
        await self._call("DELETE", path, params=[("keys", ",".join(keys))])

    async def delete_entity_timeseries(
        self,
        entity_id: EntityId,
        keys: Sequence[str],
        *,
        delete_all_data_for_keys: bool = False,
        start_ts: int | None = None,
        end_ts: int | None = None,
        delete_latest: bool = True,
        rewrite_latest_if_deleted: bool = False,
    ) -> None:
        params = {"keys": ",".join(keys)} | params_of(
            deleteAllDataForKeys=delete_all_data_for_keys,
            startTs=start_ts,
            endTs=end_ts,
            deleteLatest=delete_latest,
            rewriteLatestIfDeleted=rewrite_latest_if_deleted,
        )
        await self._call("DELETE", f"{_PREFIX}/{entity_path(entity_id)}/timeseries/delete", params=params)
