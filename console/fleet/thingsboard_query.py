"""Pure pieces of the ThingsBoard fleet: SDK models to neutral rows, value typing, page links and count filters."""

from __future__ import annotations

import re
from typing import Any

from console.fleet.base import DashboardRow, DeviceQuery, DeviceRow
from console.thingsboard import (
    BooleanFilterPredicate,
    BooleanOperation,
    DashboardInfo,
    DeviceInfo,
    Direction,
    EntityId,
    EntityKey,
    EntityKeyType,
    EntityKeyValueType,
    FilterPredicateValue,
    KeyFilter,
    PageLink,
    SortOrder,
)

__all__ = [
    "SORT_PROPERTIES",
    "active_filter",
    "dashboard_row_from_info",
    "device_entity",
    "device_row_from_info",
    "page_link",
    "typed_value",
]

# DeviceRow field -> deviceInfos sortProperty (fields the server cannot sort by fall back to createdTime)
SORT_PROPERTIES = {
    "created_time": "createdTime",
    "name": "name",
    "profile": "deviceProfileName",
    "label": "label",
    "customer": "customerTitle",
    "type": "type",
}

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def typed_value(value: Any) -> Any:
    """A telemetry value as ThingsBoard stored it: "22.5" → 22.5, "42" → 42, "true" → True; other text stays."""
    if not isinstance(value, str):
        return value
    if value in ("true", "false"):
        return value == "true"
    if _INTEGER.fullmatch(value):
        return int(value)
    if _DECIMAL.fullmatch(value):
        number = float(value)
        return number if number not in (float("inf"), float("-inf")) else value
    return value


def device_row_from_info(info: DeviceInfo) -> DeviceRow:
    extra = info.additional_info or {}
    return DeviceRow(
        id=info.id.id if info.id else "",
        name=info.name,
        profile=info.device_profile_name or info.type or "",
        label=info.label or "",
        active=info.active,
        customer=info.customer_title or "",
        gateway=bool(extra.get("gateway")) if isinstance(extra, dict) else False,
        created_time=info.created_time or 0,
        type=info.type or "",
    )


def dashboard_row_from_info(info: DashboardInfo) -> DashboardRow:
    customers = info.assigned_customers or []
    public = any(c.public or c.is_public for c in customers)
    return DashboardRow(
        id=info.id.id if info.id else "",
        title=info.title,
        created_time=info.created_time or 0,
        customers=tuple(c.title or "" for c in customers if not (c.public or c.is_public)),
        public=public,
    )


def page_link(query: DeviceQuery, page: int, page_size: int) -> PageLink:
    prop = SORT_PROPERTIES.get(query.sort, "createdTime")
    return PageLink(
        page_size,
        page,
        text_search=query.text.strip() or None,
        sort_order=SortOrder(prop, Direction.DESC if query.descending else Direction.ASC),
    )


def device_entity(device_id: str) -> EntityId:
    return EntityId("DEVICE", device_id)


def active_filter(active: bool) -> KeyFilter:
    return KeyFilter(
        key=EntityKey(type=EntityKeyType.ATTRIBUTE, key="active"),
        value_type=EntityKeyValueType.BOOLEAN,
        predicate=BooleanFilterPredicate(operation=BooleanOperation.EQUAL, value=FilterPredicateValue(active)),
    )
