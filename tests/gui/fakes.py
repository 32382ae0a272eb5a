"""An in-memory Fleet for GUI tests of behaviour a real server can't be made to show on cue (a failing page,
a slow page overtaken by a newer query). Tests of the screens themselves run against the emulator and PocketBase."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import msgspec

from console.fleet import (
    Attribute,
    AttributeScopeInfo,
    ConnectionState,
    DashboardRow,
    DeviceCounts,
    DeviceDetails,
    DeviceQuery,
    DeviceRow,
    LatestValue,
    NotFoundError,
    Page,
    Point,
    ServerError,
)

BASE_MS = 1_760_000_000_000


def make_devices(n: int) -> list[DeviceRow]:
    profiles = ("thermostat", "meter", "gateway-profile")
    return [
        DeviceRow(
            id=f"dev-{i:05d}",
            name=f"Device {i:05d}",
            profile=profiles[i % 3],
            label=f"Site {i % 7}",
            active=i % 4 != 0,
            customer="Customer A" if i % 2 else "",
            gateway=i % 3 == 2,
            created_time=BASE_MS + i * 60_000,
            type=profiles[i % 3],
        )
        for i in range(n)
    ]


class FakeSubscription:
    async def close(self) -> None:
        return None


class FakeFleet:
    kind = "thingsboard"

    def __init__(self, devices: int = 250, *, title: str = "tenant@fake @ 127.0.0.1") -> None:
        self.title = title
        self.devices = make_devices(devices)
        self.dashboards = [
            DashboardRow(
                id=f"dash-{i}",
                title=f"Dashboard {i}",
                created_time=BASE_MS + i,
                customers=("Customer A",) * (i % 2),
                public=i == 0,
            )
            for i in range(5)
        ]
        self.fail_list: Exception | None = None  # raise this from the next list_devices call
        self.delay: Callable[[DeviceQuery, int], float] = lambda query, page: 0.0
        self.calls: list[tuple[DeviceQuery, int, int]] = []
        self.closed = False
        self._state_callbacks: list[Callable[[ConnectionState, str], None]] = []

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        self.closed = True

    def _matching(self, query: DeviceQuery) -> list[DeviceRow]:
        rows = [
            d
            for d in self.devices
            if query.text.lower() in d.name.lower()
            and (query.profile is None or d.profile == query.profile)
            and (query.active is None or d.active == query.active)
        ]
        rows.sort(key=lambda d: getattr(d, query.sort), reverse=query.descending)
        return rows

    async def device_counts(self) -> DeviceCounts:
        active = sum(1 for d in self.devices if d.active)
        return DeviceCounts(total=len(self.devices), active=active, inactive=len(self.devices) - active)

    async def list_devices(self, query: DeviceQuery, page: int, page_size: int) -> Page:
        self.calls.append((query, page, page_size))
        delay = self.delay(query, page)
        await asyncio.sleep(delay)
        if self.fail_list is not None:
            error, self.fail_list = self.fail_list, None
            raise error
        rows = self._matching(query)
        chunk = rows[page * page_size : (page + 1) * page_size]
        return Page(rows=tuple(chunk), total=len(rows), has_next=(page + 1) * page_size < len(rows))

    async def iter_device_pages(self, query: DeviceQuery, page_size: int = 1000) -> AsyncIterator[Sequence[DeviceRow]]:
        rows = self._matching(query)
        for start in range(0, len(rows), page_size):
            await asyncio.sleep(0)
            yield rows[start : start + page_size]

    async def get_device(self, device_id: str) -> DeviceDetails:
        for d in self.devices:
            if d.id == device_id:
                return DeviceDetails(row=d, description="A fake device", extra={"Firmware": "1.2.3"})
        raise NotFoundError("Device not found.", status=404)

    async def device_profiles(self) -> list[str]:
        return sorted({d.profile for d in self.devices})

    async def access_token(self, device_id: str) -> str:
        return f"token-{device_id}"

    async def list_dashboards(self, text: str, page: int, page_size: int) -> Page:
        rows = [d for d in self.dashboards if text.lower() in d.title.lower()]
        chunk = rows[page * page_size : (page + 1) * page_size]
        return Page(rows=tuple(chunk), total=len(rows), has_next=(page + 1) * page_size < len(rows))

    async def dashboard_json(self, dashboard_id: str) -> bytes:
        return msgspec.json.encode({"id": dashboard_id, "configuration": {"widgets": {}}})

    def dashboard_url(self, dashboard_id: str) -> str:
        return f"http://127.0.0.1:1/dashboards/{dashboard_id}"

    def attribute_scopes(self) -> Sequence[AttributeScopeInfo]:
        return (
            AttributeScopeInfo(name="CLIENT_SCOPE", title="Client attributes", writable=False),
            AttributeScopeInfo(name="SHARED_SCOPE", title="Shared attributes", writable=True),
            AttributeScopeInfo(name="SERVER_SCOPE", title="Server attributes", writable=True),
        )

    async def attributes(self, device_id: str, scope: str) -> list[Attribute]:
        if scope == "SERVER_SCOPE":
            return [
                Attribute(key="active", scope=scope, value=True, last_update_ts=BASE_MS),
                Attribute(key="location", scope=scope, value={"lat": 52.1, "lon": 4.3}, last_update_ts=BASE_MS),
            ]
        if scope == "SHARED_SCOPE":
            return [Attribute(key="targetTemperature", scope=scope, value=21.5, last_update_ts=BASE_MS)]
        return [Attribute(key="firmware", scope=scope, value="1.2.3", last_update_ts=BASE_MS)]

    async def save_attributes(self, device_id: str, scope: str, values: dict[str, Any]) -> None:
        raise ServerError("read-only fake")

    async def delete_attributes(self, device_id: str, scope: str, keys: Sequence[str]) -> None:
        raise ServerError("read-only fake")

    async def latest_telemetry(self, device_id: str) -> list[LatestValue]:
        return [
            LatestValue(key="temperature", ts=BASE_MS, value="21.7"),
            LatestValue(key="humidity", ts=BASE_MS, value=40),
        ]

    async def telemetry_keys(self, device_id: str) -> list[str]:
        return ["humidity", "temperature"]

    async def telemetry_history(self, device_id, keys, start_ms, end_ms, *, agg="NONE", interval_ms=0):  # type: ignore[no-untyped-def]
        return {k: [Point(ts=start_ms, value=1)] for k in keys}

    async def subscribe_telemetry(self, device_ids, keys, callback):  # type: ignore[no-untyped-def]
        return FakeSubscription()

    async def subscribe_attributes(self, device_id, callback):  # type: ignore[no-untyped-def]
        return FakeSubscription()

    def on_state(self, callback: Callable[[ConnectionState, str], None]) -> Callable[[], None]:
        self._state_callbacks.append(callback)
        return lambda: self._state_callbacks.remove(callback)

    def emit_state(self, state: ConnectionState, detail: str = "") -> None:
        for cb in list(self._state_callbacks):
            cb(state, detail)
