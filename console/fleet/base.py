"""The backend-neutral surface the UI talks to: the `Fleet` protocol and the rows it hands out.

The UI never sees an SDK type, a URL it has to build, httpx or raw JSON: only these frozen rows,
`console.errors` (re-exported by `console.fleet`) and the coroutines of `Fleet`.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import msgspec

__all__ = [
    "Attribute",
    "AttributeScopeInfo",
    "CollectionRow",
    "ConnectionState",
    "DashboardRow",
    "DeviceCounts",
    "DeviceDetails",
    "DeviceQuery",
    "DeviceRow",
    "Fleet",
    "LatestValue",
    "Page",
    "Point",
    "Subscription",
    "aggregate_points",
]


class DeviceRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the device table, the same for every backend."""

    id: str
    name: str
    profile: str = ""
    label: str = ""
    active: bool | None = None
    customer: str = ""
    gateway: bool = False
    created_time: int = 0  # ms since epoch
    type: str = ""


class DeviceDetails(msgspec.Struct, frozen=True, kw_only=True):
    row: DeviceRow
    description: str = ""
    extra: dict[str, str] = {}  # label -> text, shown as-is in the details panel


class DashboardRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    created_time: int = 0
    customers: tuple[str, ...] = ()
    public: bool = False


class DeviceQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What the device table asks for; sorting and search run on the server where it can."""

    text: str = ""
    sort: str = "created_time"  # a DeviceRow field name
    descending: bool = True
    profile: str | None = None
    active: bool | None = None


class Page(msgspec.Struct, frozen=True, kw_only=True):
    rows: tuple[Any, ...]
    total: int
    has_next: bool


class DeviceCounts(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    active: int
    inactive: int


class AttributeScopeInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # "CLIENT_SCOPE", "SHARED_SCOPE", "SERVER_SCOPE"; on PocketBase "attributes"
    title: str
    writable: bool


class Attribute(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    scope: str
    value: Any  # typed: bool, int, float, str, or a JSON object/list
    last_update_ts: int = 0


class LatestValue(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    ts: int
    value: Any  # the server's value: numbers may arrive as strings on ThingsBoard


class Point(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    ts: int
    value: Any


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"


class CollectionRow(msgspec.Struct, frozen=True, kw_only=True):
    """A PocketBase collection for the "Collections" page (only `PocketBaseFleet.collections()` returns these)."""

    id: str
    name: str
    type: str  # "base" | "auth" | "view"
    records: int
    fields: tuple[str, ...] = ()


class Subscription(Protocol):
    """A live feed; `close()` stops it and releases the socket when it was the last one."""

    async def close(self) -> None: ...


TelemetryCallback = Callable[[str, str, Sequence[Point]], None]  # device id, key, points in order
AttributeCallback = Callable[[str, Sequence[Attribute]], None]  # device id, changed attributes
StateCallback = Callable[[ConnectionState, str], None]  # state, human-readable detail


@runtime_checkable
class Fleet(Protocol):
    """Everything the console does with a server. Every method that talks to it is a coroutine."""

    kind: str  # "thingsboard" | "pocketbase"
    title: str  # what the status bar shows, e.g. "tenant@thingsboard.org @ tb.example.com"

    async def connect(self) -> None: ...
    async def close(self) -> None: ...

    # devices
    async def device_counts(self) -> DeviceCounts: ...
    async def list_devices(self, query: DeviceQuery, page: int, page_size: int) -> Page: ...
    def iter_device_pages(self, query: DeviceQuery, page_size: int = 1000) -> AsyncIterator[Sequence[DeviceRow]]: ...
    async def get_device(self, device_id: str) -> DeviceDetails: ...
    async def device_profiles(self) -> list[str]: ...
    async def access_token(self, device_id: str) -> str: ...

    # dashboards
    async def list_dashboards(self, text: str, page: int, page_size: int) -> Page: ...
    async def dashboard_json(self, dashboard_id: str) -> bytes: ...
    def dashboard_url(self, dashboard_id: str) -> str: ...

    # attributes and telemetry
    def attribute_scopes(self) -> Sequence[AttributeScopeInfo]: ...
    async def attributes(self, device_id: str, scope: str) -> list[Attribute]: ...
    async def save_attributes(self, device_id: str, scope: str, values: dict[str, Any]) -> None: ...
    async def delete_attributes(self, device_id: str, scope: str, keys: Sequence[str]) -> None: ...
    async def latest_telemetry(self, device_id: str) -> list[LatestValue]: ...
    async def telemetry_keys(self, device_id: str) -> list[str]: ...
    async def telemetry_history(
        self,
        device_id: str,
        keys: Sequence[str],
        start_ms: int,
        end_ms: int,
        *,
        agg: str = "NONE",  # NONE, AVG, MIN, MAX, SUM, COUNT
        interval_ms: int = 0,
    ) -> dict[str, list[Point]]:
        """Complete history in [start_ms, end_ms), ascending; never silently truncated."""
        ...

    # live
    async def subscribe_telemetry(
        self, device_ids: Sequence[str], keys: Sequence[str], callback: TelemetryCallback
    ) -> Subscription: ...
    async def subscribe_attributes(self, device_id: str, callback: AttributeCallback) -> Subscription: ...
    def on_state(self, callback: StateCallback) -> Callable[[], None]: ...



# --- helpers shared by the adapters ----------------------------------------------------------------------------

_AGGREGATIONS = ("AVG", "MIN", "MAX", "SUM", "COUNT")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def aggregate_points(points: Sequence[Point], start_ms: int, end_ms: int, interval_ms: int, agg: str) -> list[Point]:
    """Aggregate ascending raw points the way ThingsBoard does (reference §5.3), for backends that cannot.

    Buckets are [b, min(b + interval, end)) from `start_ms`; a point's ts is its bucket's midpoint; empty buckets are
    skipped; values that are not numbers are ignored (COUNT counts every point). AVG gives a float, COUNT an int.
    """
    agg = agg.upper()
    if agg not in _AGGREGATIONS:
        raise ValueError(f"unknown aggregation {agg!r}; expected one of {', '.join(_AGGREGATIONS)}")
    if interval_ms <= 0:
        raise ValueError("interval_ms must be positive")
    buckets: dict[int, list[Any]] = {}
    for point in points:
        if start_ms <= point.ts < end_ms:
            buckets.setdefault((point.ts - start_ms) // interval_ms, []).append(point.value)
    out = []
    for index in sorted(buckets):
        begin = start_ms + index * interval_ms
        finish = min(begin + interval_ms, end_ms)
        values = buckets[index]
        ts = begin + (finish - begin) // 2
        if agg == "COUNT":
            out.append(Point(ts=ts, value=len(values)))
            continue
        numbers = [n for n in (_number(v) for v in values) if n is not None]
        if not numbers:
            continue
        if agg == "AVG":
            value: Any = sum(numbers) / len(numbers)
        elif agg == "MIN":
            value = min(numbers)
        elif agg == "MAX":
            value = max(numbers)
        else:
            value = sum(numbers)
        if agg != "AVG" and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            value = int(value)
        out.append(Point(ts=ts, value=value))
    return out
