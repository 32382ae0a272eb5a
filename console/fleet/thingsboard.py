"""The ThingsBoard fleet: the `Fleet` protocol over the async ThingsBoard SDK (`console.thingsboard`).

Devices come from the tenant's (or, for customer users, the customer's) deviceInfos with server-side sort, text
search and the profile/active filters; counts from the entity-count query with a key filter on `active`, as in the
seed. Live telemetry is one ENTITY_DATA subscription (entityList filter + tsCmd) through `TelemetrySubscriber`, which
reconnects, resubscribes and backfills; its socket state is forwarded to `on_state` listeners.

ThingsBoard sends telemetry values as strings ("22.5"); they are turned into numbers and booleans here
(`typed_value`), so both backends hand the UI the same Python types.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from console.errors import ApiError
from console.fleet import thingsboard_live
from console.fleet._common import ATTRIBUTE_SCOPES, StateBroadcaster, check_scope
from console.fleet.base import (
    Attribute,
    AttributeCallback,
    AttributeScopeInfo,
    ConnectionState,
    DeviceCounts,
    DeviceDetails,
    DeviceQuery,
    DeviceRow,
    LatestValue,
    Page,
    Point,
    TelemetryCallback,
)
from console.fleet.thingsboard_live import LiveSubscription
from console.fleet.thingsboard_query import (
    SORT_PROPERTIES,
    active_filter,
    dashboard_row_from_info,
    device_entity,
    device_row_from_info,
    page_link,
    typed_value,
)
from console.thingsboard import (
    DeviceInfo,
    Direction,
    EntityCountQuery,
    EntityTypeFilter,
    KeyFilter,
    LoginRequest,
    PageData,
    PageLink,
    SortOrder,
    ThingsboardClient,
    fetch_all,
    iter_pages,
)

__all__ = [
    "SORT_PROPERTIES",
    "ThingsboardFleet",
    "dashboard_row_from_info",
    "device_row_from_info",
    "typed_value",
]

log = logging.getLogger(__name__)


# --- the fleet ---------------------------------------------------------------------------------------------


class ThingsboardFleet(StateBroadcaster):
    """A ThingsBoard tenant (or customer) seen through the `Fleet` protocol."""

    kind = "thingsboard"

    def __init__(
        self,
        url: str,
        *,
        username: str = "",
        password: str = "",
        api_key: str | None = None,
        verify: bool = True,
        ca_bundle: str | None = None,
        proxy: str | None = None,
        client: ThingsboardClient | None = None,
    ) -> None:
        super().__init__()
        self.tb = client or ThingsboardClient(url, api_key=api_key, verify=verify, ca_bundle=ca_bundle, proxy=proxy)
        self.base_url = str(self.tb.base_url).rstrip("/")
        self.username = username
        self._password = password
        self.customer_id: str | None = None
        self.title = f"{username or 'API key'} @ {self.tb.base_url.host}"
        self._profile_ids: dict[str, str] = {}
        self._remove_ws_listener: Callable[[], None] | None = None

    def __repr__(self) -> str:
        return f"ThingsboardFleet({self.base_url!r}, user={self.username!r})"

    # --- lifecycle (`on_state` and `_set_state` come from StateBroadcaster) ----------------------------------

    def _on_socket_state(self, ws_state: Any) -> None:
        """The live socket's state (connecting / open / reconnecting / closed) as the fleet's state."""
        name = getattr(ws_state, "state", "")
        reason = getattr(ws_state, "reason", "")
        if name == "connecting":
            self._set_state(ConnectionState.CONNECTING, "Opening the live-data socket…")
        elif name == "open":
            self._set_state(ConnectionState.CONNECTED, f"{self.title} (live)")
        elif name == "reconnecting":
            attempt = getattr(ws_state, "attempt", 0)
            delay = getattr(ws_state, "delay", 0.0)
            detail = f"Live data lost; reconnecting (attempt {attempt}) in {delay:.0f} s"
            self._set_state(ConnectionState.RECONNECTING, f"{detail}: {reason}" if reason else detail)
        elif name == "closed":
            if getattr(ws_state, "warning", False):
                self._set_state(ConnectionState.FAILED, reason or "The live-data socket was closed.")
            else:
                self._set_state(ConnectionState.CONNECTED, self.title)

    async def connect(self) -> None:
        """Sign in (password) or check the API key; raises `AuthenticationError` with the server's message."""
        self._set_state(ConnectionState.CONNECTING, self.base_url)
        try:
            if self.tb.api_key is None:
                user = await self.tb.login(LoginRequest(self.username, self._password))
                scopes = user.scopes
                customer = user.customer_id
            else:
                me = await self.tb.users.get_user()
                scopes = [me.authority]
                customer = me.customer_id.id if me.customer_id else None
                self.username = self.username or me.email
                self.title = f"{me.email} @ {self.tb.base_url.host}"
        except ApiError as exc:
            self._set_state(ConnectionState.FAILED, exc.message)
            raise
        self.customer_id = customer if "CUSTOMER_USER" in scopes else None
        self._set_state(ConnectionState.CONNECTED, self.title)

    async def close(self) -> None:
        if self._remove_ws_listener is not None:
            self._remove_ws_listener()
            self._remove_ws_listener = None
            with contextlib.suppress(ApiError):
                await self.tb.telemetry.close()
        with contextlib.suppress(ApiError):
            await self.tb.logout()
        await self.tb.close()
        self._set_state(ConnectionState.DISCONNECTED, "")

    # --- devices -----------------------------------------------------------------------------------------

    async def device_counts(self) -> DeviceCounts:
        def query(*filters: KeyFilter) -> EntityCountQuery:
            return EntityCountQuery(entity_filter=EntityTypeFilter(entity_type="DEVICE"), key_filters=list(filters))

        count = self.tb.entity_query.count_entities_by_query
        total, active, inactive = await asyncio.gather(
            count(query()), count(query(active_filter(True))), count(query(active_filter(False)))
        )
        return DeviceCounts(total=total, active=active, inactive=inactive)

    async def _profile_id(self, name: str) -> str:
        if name not in self._profile_ids:
            await self.device_profiles()
        profile_id = self._profile_ids.get(name)
        if profile_id is None:
            raise ApiError(f"There is no device profile called {name!r}.", status=404)
        return profile_id

    async def _fetch_devices(self, query: DeviceQuery, link: PageLink) -> PageData[DeviceInfo]:
        profile_id = await self._profile_id(query.profile) if query.profile else None
        if self.customer_id:
            return await self.tb.devices.get_customer_device_infos(
                self.customer_id, link, device_profile_id=profile_id, active=query.active
            )
        return await self.tb.devices.get_tenant_device_infos(link, device_profile_id=profile_id, active=query.active)

    async def list_devices(self, query: DeviceQuery, page: int, page_size: int) -> Page:
        result = await self._fetch_devices(query, page_link(query, page, page_size))
        rows = tuple(device_row_from_info(info) for info in result.data)
        return Page(rows=rows, total=result.total_elements, has_next=result.has_next)

    async def iter_device_pages(self, query: DeviceQuery, page_size: int = 1000) -> AsyncIterator[Sequence[DeviceRow]]:
        """Every matching device, page by page in order; after the first page the rest load concurrently."""

        async def fetch(link: PageLink) -> PageData[DeviceInfo]:
            return await self._fetch_devices(query, link)

        async for page in iter_pages(fetch, page_link(query, 0, page_size)):
            if page.data:
                yield [device_row_from_info(info) for info in page.data]

    async def get_device(self, device_id: str) -> DeviceDetails:
        info = await self.tb.devices.get_device_info(device_id)
        extra_info = info.additional_info if isinstance(info.additional_info, dict) else {}
        extra = {"Device id": device_id, "Device profile": info.device_profile_name or info.type}
        if info.customer_title:
            extra["Customer"] = info.customer_title
        if info.customer_is_public:
            extra["Public"] = "yes"
        return DeviceDetails(
            row=device_row_from_info(info),
            description=str(extra_info.get("description") or ""),
            extra={k: v for k, v in extra.items() if v},
        )

    async def device_profiles(self) -> list[str]:
        infos = await fetch_all(self.tb.device_profiles.get_device_profile_infos, PageLink(1000))
        self._profile_ids = {info.name: info.id.id for info in infos}
        return sorted(self._profile_ids, key=str.lower)

    async def access_token(self, device_id: str) -> str:
        credentials = await self.tb.devices.get_device_credentials_by_device_id(device_id)
        if credentials.credentials_type != "ACCESS_TOKEN" or not credentials.credentials_id:
            raise ApiError(
                f"This device uses {credentials.credentials_type} credentials, not an access token.", status=400
            )
        return credentials.credentials_id

    # --- dashboards --------------------------------------------------------------------------------------

    async def list_dashboards(self, text: str, page: int, page_size: int) -> Page:
        link = PageLink(page_size, page, text_search=text.strip() or None, sort_order=SortOrder("title", Direction.ASC))
        if self.customer_id:
            result = await self.tb.dashboards.get_customer_dashboards(self.customer_id, link)
        else:
            result = await self.tb.dashboards.get_tenant_dashboards(link)
        rows = tuple(dashboard_row_from_info(info) for info in result.data)
        return Page(rows=rows, total=result.total_elements, has_next=result.has_next)

    async def dashboard_json(self, dashboard_id: str) -> bytes:
        return await self.tb.dashboards.export_dashboard_json(dashboard_id)

    def dashboard_url(self, dashboard_id: str) -> str:
        return f"{self.base_url}/dashboards/{dashboard_id}"

    # --- attributes --------------------------------------------------------------------------------------

    def attribute_scopes(self) -> Sequence[AttributeScopeInfo]:
        return ATTRIBUTE_SCOPES

    async def attributes(self, device_id: str, scope: str) -> list[Attribute]:
        check_scope(scope, writing=False)
        data = await self.tb.attributes.get_attributes_by_scope(device_entity(device_id), scope)
        rows = [Attribute(key=a.key, scope=scope, value=a.value, last_update_ts=a.last_update_ts) for a in data]
        return sorted(rows, key=lambda a: a.key)

    async def save_attributes(self, device_id: str, scope: str, values: dict[str, Any]) -> None:
        check_scope(scope, writing=True)
        await self.tb.attributes.save_entity_attributes_v2(device_entity(device_id), scope, values)

    async def delete_attributes(self, device_id: str, scope: str, keys: Sequence[str]) -> None:
        check_scope(scope, writing=True)
        if keys:
            await self.tb.attributes.delete_entity_attributes(device_entity(device_id), scope, list(keys))

    # --- telemetry ---------------------------------------------------------------------------------------

    async def latest_telemetry(self, device_id: str) -> list[LatestValue]:
        latest = await self.tb.attributes.get_latest_timeseries(device_entity(device_id))
        return [
            LatestValue(key=key, ts=value.ts, value=typed_value(value.value))
            for key, value in sorted(latest.items())
            if value.value is not None
        ]

    async def telemetry_keys(self, device_id: str) -> list[str]:
        return sorted(await self.tb.attributes.get_timeseries_keys(device_entity(device_id)))

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
        """Complete history in [start_ms, end_ms), ascending: raw through the SDK's windowed history (never cut by
        the server's `limit`), aggregated by the server when `agg` is not NONE."""
        if not keys or end_ms <= start_ms:
            return {}
        entity = device_entity(device_id)
        if agg.upper() != "NONE" and interval_ms > 0:
            series = await self.tb.attributes.get_timeseries(
                entity,
                list(keys),
                start_ts=start_ms,
                end_ts=end_ms,
                interval=interval_ms,
                agg=agg.upper(),
                limit=max(100, (end_ms - start_ms) // interval_ms + 1),
                order_by="ASC",
            )
        else:
            series = await self.tb.attributes.get_timeseries_history(entity, list(keys), start_ms, end_ms)
        out = {}
        for key, values in series.items():
            if values:
                points = [Point(ts=v.ts, value=typed_value(v.value)) for v in values]
                points.sort(key=lambda p: p.ts)
                out[key] = points
        return out

    # --- live --------------------------------------------------------------------------------------------

    def watch_socket(self) -> Any:
        """The client's telemetry service, with its state forwarded to `on_state` listeners (once)."""
        service = self.tb.telemetry
        if self._remove_ws_listener is None:
            self._remove_ws_listener = service.on_state(self._on_socket_state)
        return service

    async def subscribe_telemetry(
        self, device_ids: Sequence[str], keys: Sequence[str], callback: TelemetryCallback
    ) -> LiveSubscription:
        """New points of these devices and keys (all their keys when empty), each once and in order per key."""
        return await thingsboard_live.subscribe_telemetry(self, device_ids, keys, callback)

    async def subscribe_attributes(self, device_id: str, callback: AttributeCallback) -> LiveSubscription:
        """Attribute changes of one device in every scope; a deletion arrives with value None and ts 0."""
        return await thingsboard_live.subscribe_attributes(self, device_id, callback)
