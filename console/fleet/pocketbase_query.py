"""Pure pieces of the PocketBase fleet: demo-schema records to neutral rows, and server-side sort/filter strings.

Every value a user typed goes through `build_filter` (bound and quoted), never into a filter by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from console.fleet.base import Attribute, DashboardRow, DeviceQuery, DeviceRow
from console.pocketbase.filter import build_filter

__all__ = [
    "any_of",
    "attribute_from_record",
    "dashboard_row_from_record",
    "device_filter",
    "device_filters",
    "device_row_from_record",
    "device_sort",
    "now_ms",
    "parse_pb_date",
]

TOPIC_BUDGET = 2000  # URL-encoded filter characters per realtime topic (the server allows 2500 per topic)

# DeviceRow field -> devices field; `id` breaks ties so concurrent pages never overlap or skip.
_SORT_FIELDS = {
    "created_time": "created_time",
    "name": "name",
    "profile": "profile",
    "label": "label",
    "customer": "customer",
    "type": "type",
    "active": "active",
    "gateway": "gateway",
}

def parse_pb_date(text: str) -> int:
    """PocketBase's "YYYY-MM-DD HH:MM:SS.mmmZ" as ms since the epoch (0 when empty or unreadable)."""
    if not text:
        return 0
    try:
        parsed = dt.datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    except ValueError:
        return 0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def device_row_from_record(record: Mapping[str, Any]) -> DeviceRow:
    get = record.get
    return DeviceRow(
        id=str(get("id", "")),
        name=str(get("name") or ""),
        profile=str(get("profile") or ""),
        label=str(get("label") or ""),
        active=bool(get("active")) if get("active") is not None else None,
        customer=str(get("customer") or ""),
        gateway=bool(get("gateway")),
        created_time=int(get("created_time") or 0) or parse_pb_date(str(get("created") or "")),
        type=str(get("type") or get("profile") or ""),
    )


def dashboard_row_from_record(record: Mapping[str, Any]) -> DashboardRow:
    customers = record.get("customers") or []
    return DashboardRow(
        id=str(record.get("id", "")),
        title=str(record.get("title") or ""),
        created_time=parse_pb_date(str(record.get("created") or "")),
        customers=tuple(str(c) for c in customers) if isinstance(customers, list) else (),
        public=bool(record.get("public")),
    )


def attribute_from_record(record: Mapping[str, Any]) -> Attribute:
    return Attribute(
        key=str(record.get("key") or ""),
        scope=str(record.get("scope") or ""),
        value=record.get("value"),
        last_update_ts=int(record.get("last_update_ts") or 0),
    )


def json_field_value(value: Any) -> Any:
    """What to send to a PocketBase JSON field so that `value` is stored as itself.

    PocketBase parses a string sent to a JSON field as JSON when it can ("1.0" becomes the number 1, "true" a
    boolean), so text goes in as its own JSON literal, which the server parses back to the same text.
    """
    return json.dumps(value) if isinstance(value, str) else value


def device_sort(query: DeviceQuery) -> str:
    """The PocketBase `sort` for a device query (unknown fields sort by creation time)."""
    field = _SORT_FIELDS.get(query.sort, "created_time")
    sign = "-" if query.descending else ""
    return f"{sign}{field},{sign}id"


def device_filter(query: DeviceQuery) -> str:
    """The bound PocketBase filter for a device query: text search like ThingsBoard's deviceInfos, plus filters."""
    parts = []
    values: dict[str, Any] = {}
    if query.text.strip():
        values["q"] = query.text.strip()
        parts.append("(name ~ {:q} || label ~ {:q} || type ~ {:q} || customer ~ {:q})")
    if query.profile:
        values["profile"] = query.profile
        parts.append("profile = {:profile}")
    if query.active is not None:
        values["active"] = query.active
        parts.append("active = {:active}")
    return build_filter(" && ".join(parts), values) if parts else ""


def any_of(field: str, values: Sequence[str], prefix: str) -> tuple[str, dict[str, Any]]:
    names = {f"{prefix}{i}": value for i, value in enumerate(values)}
    return "(" + " || ".join(f"{field} = {{:{name}}}" for name in names) + ")", names


def device_filters(device_ids: list[str], keys: list[str]) -> list[str]:
    """Realtime filters covering all `device_ids` (and `keys`), each short enough for one topic.

    The server caps a topic, URL-encoded options included, at 2500 characters, so devices are packed greedily.
    """
    key_part = ""
    if keys:
        key_filter, key_values = any_of("key", keys, "k")
        key_part = " && " + build_filter(key_filter, key_values)
    filters: list[str] = []
    chunk: list[str] = []

    def render(ids: list[str]) -> str:
        text, values = any_of("device", ids, "d")
        return build_filter(text, values) + key_part

    for ident in device_ids:
        if chunk and len(quote(render([*chunk, ident]))) > TOPIC_BUDGET:
            filters.append(render(chunk))
            chunk = []
        chunk.append(ident)
    if chunk:
        filters.append(render(chunk))
    return filters


def now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)
