"""The PocketBase fleet: the `Fleet` protocol over the demo schema's collections (see `console.demo.schema`).

Sort, search and filters run on the server (PocketBase `sort` and a `pb.filter(...)`-bound filter, never a value
spliced by hand); live values arrive over realtime subscriptions with a server-side filter. Attribute and latest rows
have ids derived from their natural key, so an upsert is "update, else create" with no lookup. History comes back
complete (every page) and, when asked, aggregated here into ThingsBoard-shaped buckets.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

import msgspec

from console.demo.schema import ATTRIBUTES, DASHBOARDS, DEVICE_PROFILES, DEVICES, LATEST, TELEMETRY, row_id
from console.errors import ApiError, AuthenticationError, NotFoundError
from console.fleet._common import ATTRIBUTE_SCOPES, StateBroadcaster, check_scope
from console.fleet.base import (
    Attribute,
    AttributeCallback,
    AttributeScopeInfo,
    CollectionRow,
    ConnectionState,
    DeviceCounts,
    DeviceDetails,
    DeviceQuery,
    DeviceRow,
    LatestValue,
    Page,
    Point,
    TelemetryCallback,
    aggregate_points,
)
from console.fleet.pocketbase_live import Subscription, TelemetryFeed
from console.fleet.pocketbase_query import (
    any_of,
    attribute_from_record,
    dashboard_row_from_record,
    device_filter,
    device_filters,
    device_row_from_record,
    device_sort,
    json_field_value,
    now_ms,
    parse_pb_date,
)
from console.pocketbase.client import PocketBase
from console.pocketbase.filter import build_filter

__all__ = [
    "SUPERUSERS",
    "PocketBaseFleet",
    "attribute_from_record",
    "dashboard_row_from_record",
    "device_filter",
    "device_row_from_record",
    "device_sort",
    "parse_pb_date",
]

log = logging.getLogger(__name__)

SUPERUSERS = "_superusers"


class PocketBaseFleet(StateBroadcaster):
    """A PocketBase server holding the demo schema, seen through the `Fleet` protocol."""

    kind = "pocketbase"

    def __init__(
        self,
        url: str,
        *,
        identity: str,
        password: str = "",
        token: str | None = None,
        auth_collection: str = SUPERUSERS,
        verify: Any = True,
        proxy: str | None = None,
        client: PocketBase | None = None,
        dashboard_viewer: str | None = None,
    ) -> None:
        super().__init__()
        self.pb = client if client is not None else PocketBase(url, verify=verify, proxy=proxy or None)
        self.url = self.pb.base_url
        self.identity = identity
        self._password = password
        self._token = token
        self.dashboard_viewer = dashboard_viewer  # a page path on the server, e.g. "/dashboard.html"
        self.auth_collection = auth_collection or SUPERUSERS
        host = self.url.split("://", 1)[-1]
        self.title = f"{identity or 'token'} @ {host}"
        self.pb.realtime.on_connect(self._on_live_connect)
        self.pb.realtime.on_disconnect(self._on_live_disconnect)

    def _on_live_connect(self, reconnected: bool) -> None:
        if self.state is not ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.CONNECTED, f"{self.title} (live)")

    def _on_live_disconnect(self, topics: list[str]) -> None:
        if self.state is ConnectionState.DISCONNECTED:
            return
        if topics:  # the stream dropped while subscribed: the realtime client reconnects with backoff
            self._set_state(ConnectionState.RECONNECTING, "Live data lost; reconnecting…")
        else:  # the last subscription ended
            self._set_state(ConnectionState.CONNECTED, self.title)

    def __repr__(self) -> str:
        return f"PocketBaseFleet({self.url!r}, identity={self.identity!r})"

    # --- lifecycle (`on_state` and `_set_state` come from StateBroadcaster) ----------------------------------

    async def connect(self) -> None:
        """Sign in (or check the saved token); raises `AuthenticationError` or another `ApiError` with the reason."""
        self._set_state(ConnectionState.CONNECTING, self.url)
        auth = self.pb.collection(self.auth_collection)
        try:
            if self._token:
                self.pb.auth_store.save(self._token, None)
                result = await auth.auth_refresh()
                self.identity = self.identity or result.record.get_string_value("email")
            else:
                await auth.auth_with_password(self.identity, self._password)
        except ApiError as exc:
            error = exc
            if exc.status == 400:  # PocketBase answers bad credentials with 400 "Failed to authenticate."
                error = AuthenticationError(exc.message, url=exc.url, status=exc.status, response=exc.response)
            self._set_state(ConnectionState.FAILED, error.message)
            if error is exc:
                raise
            raise error from exc
        self._set_state(ConnectionState.CONNECTED, self.title)

    async def close(self) -> None:
        self.state = ConnectionState.DISCONNECTED  # quiet: closing is not a lost connection
        await self.pb.close()
        self._set_state(ConnectionState.DISCONNECTED, "")

    # --- devices -----------------------------------------------------------------------------------------

    async def device_counts(self) -> DeviceCounts:
        devices = self.pb.collection(DEVICES)
        total, active = await asyncio.gather(
            devices.get_list(1, 1, fields="id"),
            devices.get_list(1, 1, filter="active = true", fields="id"),
        )
        return DeviceCounts(
            total=total.total_items, active=active.total_items, inactive=total.total_items - active.total_items
        )

    async def list_devices(self, query: DeviceQuery, page: int, page_size: int) -> Page:
        """One page (0-based `page`, as on ThingsBoard)."""
        result = await self.pb.collection(DEVICES).get_list(
            page + 1, page_size, filter=device_filter(query) or None, sort=device_sort(query)
        )
        rows = tuple(device_row_from_record(r) for r in result.items)
        return Page(rows=rows, total=result.total_items, has_next=page + 1 < result.total_pages)

    async def iter_device_pages(self, query: DeviceQuery, page_size: int = 1000) -> AsyncIterator[Sequence[DeviceRow]]:
        """Every matching device, page by page in order; the first page arrives before the rest is asked for."""
        async for records in self.pb.collection(DEVICES).iter_pages(
            min(page_size, 1000), filter=device_filter(query) or None, sort=device_sort(query)
        ):
            yield [device_row_from_record(r) for r in records]

    async def get_device(self, device_id: str) -> DeviceDetails:
        record = await self.pb.collection(DEVICES).get_one(device_id)
        extra = {
            "Device id": record.id,
            "Site": record.get_string_value("site"),
            "Firmware": record.get_string_value("firmware"),
        }
        last = record.get_int_value("last_activity")
        if last:
            extra["Last activity"] = dt.datetime.fromtimestamp(last / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return DeviceDetails(
            row=device_row_from_record(record),
            description=record.get_string_value("description"),
            extra={k: v for k, v in extra.items() if v},
        )

    async def device_profiles(self) -> list[str]:
        records = await self.pb.collection(DEVICE_PROFILES).get_full_list(sort="name", fields="name")
        return [r.get_string_value("name") for r in records]

    async def access_token(self, device_id: str) -> str:
        record = await self.pb.collection(DEVICES).get_one(device_id, fields="id,access_token")
        return record.get_string_value("access_token")

    # --- dashboards --------------------------------------------------------------------------------------

    async def list_dashboards(self, text: str, page: int, page_size: int) -> Page:
        flt = build_filter("title ~ {:q}", q=text.strip()) if text.strip() else None
        result = await self.pb.collection(DASHBOARDS).get_list(page + 1, page_size, filter=flt, sort="title,id")
        rows = tuple(dashboard_row_from_record(r) for r in result.items)
        return Page(rows=rows, total=result.total_items, has_next=page + 1 < result.total_pages)

    async def dashboard_json(self, dashboard_id: str) -> bytes:
        record = await self.pb.collection(DASHBOARDS).get_one(dashboard_id)
        body = {k: record.get(k) for k in ("id", "title", "customers", "public", "configuration")}
        body["created"] = record.get("created")
        return msgspec.json.format(msgspec.json.encode(body), indent=2)

    def dashboard_url(self, dashboard_id: str) -> str:
        """The dashboard viewer page when the server has one (the demo does), else the record in the admin UI."""
        if self.dashboard_viewer:
            return f"{self.url}{self.dashboard_viewer}?id={quote(dashboard_id, safe='')}"
        return f"{self.url}/_/#/collections?collection={DASHBOARDS}&recordId={quote(dashboard_id, safe='')}"

    # --- collections (PocketBase only) --------------------------------------------------------------------

    async def collections(self) -> list[CollectionRow]:
        """The non-system collections with their record counts (superusers only; others get PermissionDeniedError)."""
        models = [c for c in await self.pb.collections.get_full_list() if not c.system]

        async def count(name: str) -> int:
            result = await self.pb.collection(name).get_list(1, 1, fields="id")
            return result.total_items

        counts = await asyncio.gather(*(count(c.name) for c in models))
        return [
            CollectionRow(id=c.id, name=c.name, type=c.type, records=n, fields=tuple(c.field_names()))
            for c, n in sorted(zip(models, counts, strict=True), key=lambda pair: pair[0].name)
        ]

    # --- attributes --------------------------------------------------------------------------------------

    def attribute_scopes(self) -> Sequence[AttributeScopeInfo]:
        return ATTRIBUTE_SCOPES

    async def attributes(self, device_id: str, scope: str) -> list[Attribute]:
        check_scope(scope, writing=False)
        records = await self.pb.collection(ATTRIBUTES).get_full_list(
            filter=build_filter("device = {:d} && scope = {:s}", d=device_id, s=scope), sort="key"
        )
        return [attribute_from_record(r) for r in records]

    async def save_attributes(self, device_id: str, scope: str, values: dict[str, Any]) -> None:
        check_scope(scope, writing=True)
        now = now_ms()
        await asyncio.gather(
            *(
                self._upsert(
                    ATTRIBUTES,
                    row_id(device_id, scope, key),
                    {"device": device_id, "scope": scope, "key": key, "value": json_field_value(value),
                     "last_update_ts": now},
                )
                for key, value in values.items()
            )
        )

    async def _upsert(self, collection: str, record_id: str, body: dict[str, Any]) -> None:
        service = self.pb.collection(collection)
        try:
            await service.update(record_id, body, fields="id")
        except NotFoundError:
            await service.create({"id": record_id, **body}, fields="id")

    async def delete_attributes(self, device_id: str, scope: str, keys: Sequence[str]) -> None:
        check_scope(scope, writing=True)

        async def delete(key: str) -> None:
            with contextlib.suppress(NotFoundError):
                await self.pb.collection(ATTRIBUTES).delete(row_id(device_id, scope, key))

        await asyncio.gather(*(delete(key) for key in keys))

    # --- telemetry ---------------------------------------------------------------------------------------

    async def latest_telemetry(self, device_id: str) -> list[LatestValue]:
        records = await self.pb.collection(LATEST).get_full_list(
            filter=build_filter("device = {:d}", d=device_id), sort="key"
        )
        return [
            LatestValue(key=r.get_string_value("key"), ts=r.get_int_value("ts"), value=r.get("value")) for r in records
        ]

    async def telemetry_keys(self, device_id: str) -> list[str]:
        records = await self.pb.collection(LATEST).get_full_list(
            filter=build_filter("device = {:d}", d=device_id), sort="key", fields="key"
        )
        return [r.get_string_value("key") for r in records]

    async def telemetry_history(
        self,
        device_id: str,
        keys: Sequence[str],
        start_ms: int,
        end_ms: int,
        *,
        agg: str = "NONE",
        interval_ms: int = 0,
    ) -> dict[str, list[Point]]:
        """Complete history in [start_ms, end_ms), ascending (every page is read); aggregated here when asked."""
        if not keys or end_ms <= start_ms:
            return {}
        key_filter, key_values = any_of("key", list(keys), "k")
        flt = build_filter(
            "device = {:d} && ts >= {:start} && ts < {:end} && " + key_filter,
            {"d": device_id, "start": int(start_ms), "end": int(end_ms), **key_values},
        )
        out: dict[str, list[Point]] = {}
        async for records in self.pb.collection(TELEMETRY).iter_pages(
            1000, filter=flt, sort="ts,id", fields="key,ts,value"
        ):
            for record in records:
                out.setdefault(record.get_string_value("key"), []).append(
                    Point(ts=record.get_int_value("ts"), value=record.get("value"))
                )
        if agg.upper() != "NONE" and interval_ms > 0:
            return {key: aggregate_points(points, start_ms, end_ms, interval_ms, agg) for key, points in out.items()}
        return out

    # --- live --------------------------------------------------------------------------------------------

    async def subscribe_telemetry(
        self, device_ids: Sequence[str], keys: Sequence[str], callback: TelemetryCallback
    ) -> TelemetryFeed:
        """Every new telemetry point of these devices (and keys; all keys when empty), once and in order per key.

        PocketBase does not replay events missed while the stream was down, so after each reconnect the gap is
        fetched by REST (live events are held meanwhile) before live delivery resumes.
        """
        feed = TelemetryFeed(self, list(dict.fromkeys(device_ids)), list(keys), callback)
        try:
            for flt in device_filters(feed.device_ids, feed.keys):
                feed.unsubscribes.append(await self.pb.collection(TELEMETRY).subscribe("*", feed.on_event, filter=flt))
        except BaseException:
            await feed.close()
            raise
        feed.remove_listener = self.pb.realtime.on_connect(feed.on_connect)
        return feed

    async def subscribe_attributes(self, device_id: str, callback: AttributeCallback) -> Subscription:
        """Attribute changes of one device; a deleted attribute arrives with value None and ts 0."""

        def on_event(event: Any) -> None:
            attribute = attribute_from_record(event.record)
            if event.action == "delete":
                attribute = Attribute(key=attribute.key, scope=attribute.scope, value=None, last_update_ts=0)
            callback(device_id, [attribute])

        unsubscribe = await self.pb.collection(ATTRIBUTES).subscribe(
            "*", on_event, filter=build_filter("device = {:d}", d=device_id)
        )
        return Subscription([unsubscribe])
