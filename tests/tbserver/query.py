"""Entity Data Query evaluation (reference §6), callable from Python: `find(store, user, query)` → PageData dict,
`count(store, user, query)` → int. Used by POST /api/entitiesQuery/* and by the WebSocket ENTITY_DATA command.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from .model import NULL_UUID, User, eid
from .store import SCOPES, Failure, Store
from .values import as_text, is_number

ATTRIBUTE_TYPES = {"CLIENT_ATTRIBUTE": "CLIENT_SCOPE", "SERVER_ATTRIBUTE": "SERVER_SCOPE",
                   "SHARED_ATTRIBUTE": "SHARED_SCOPE"}
MISSING = object()


class _Entity:
    """One candidate row: its type, id and the store object behind it."""

    __slots__ = ("entity_type", "id", "obj")

    def __init__(self, entity_type: str, obj: Any) -> None:
        self.entity_type, self.obj, self.id = entity_type, obj, obj.id


def _bad(message: str) -> Failure:
    return Failure(400, message, 31)


def _visible(store: Store, user: User, entity_type: str) -> Iterable[Any]:
    admin = user.authority == "TENANT_ADMIN"
    customer = user.customer_id if user.authority == "CUSTOMER_USER" else None
    if user.authority == "SYS_ADMIN":
        return [store.tenant] if entity_type == "TENANT" else []
    if entity_type == "DEVICE":
        return store.devices.values() if admin else (d for d in store.devices.values() if d.customer_id == customer)
    if entity_type == "CUSTOMER":
        return store.customers.values() if admin else [c for c in store.customers.values() if c.id == customer]
    if entity_type == "DASHBOARD":
        return [d for d in store.dashboards.values() if admin or customer in (d.assigned or ())]
    if entity_type == "USER":
        return [u for u in store.users.values()
                if (admin and u.tenant_id == user.tenant_id) or (customer and u.customer_id == customer)]
    if entity_type == "DEVICE_PROFILE":
        return store.profiles.values()
    if entity_type == "TENANT":
        return [store.tenant] if admin else []
    return []


def _name_matcher(pattern: str | None) -> Callable[[str], bool]:
    if not pattern:
        return lambda _name: True
    if pattern.startswith("%") or pattern.endswith("%"):
        regex = re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$", re.IGNORECASE | re.DOTALL)
        return lambda name: bool(regex.match(name))
    prefix = pattern.lower()
    return lambda name: name.lower().startswith(prefix)


def _name(entity: _Entity) -> str:
    obj = entity.obj
    return getattr(obj, "name", None) or getattr(obj, "title", None) or getattr(obj, "email", "")


def candidates(store: Store, user: User, entity_filter: Any) -> list[_Entity]:
    """Entities selected by the entity filter (§6.3) that `user` may see."""
    if not isinstance(entity_filter, dict):
        raise _bad("Entity filter is required!")
    kind = entity_filter.get("type")
    if kind == "singleEntity":
        ref = entity_filter.get("singleEntity") or {}
        entity_type, wanted = ref.get("entityType"), {str(ref.get("id"))}
        return [_Entity(entity_type, o) for o in _visible(store, user, entity_type) if o.id in wanted]
    if kind == "entityList":
        entity_type, wanted = entity_filter.get("entityType"), set(entity_filter.get("entityList") or [])
        return [_Entity(entity_type, o) for o in _visible(store, user, entity_type) if o.id in wanted]
    if kind in ("entityName", "entityType"):
        entity_type = entity_filter.get("entityType")
        match = _name_matcher(entity_filter.get("entityNameFilter") if kind == "entityName" else None)
        rows = [_Entity(entity_type, o) for o in _visible(store, user, entity_type)]
        return rows if kind == "entityType" else [row for row in rows if match(_name(row))]
    if kind == "deviceType":
        types = entity_filter.get("deviceTypes") or ([entity_filter["deviceType"]] if entity_filter.get("deviceType")
                                                     else [])
        match = _name_matcher(entity_filter.get("deviceNameFilter"))
        wanted_types = set(types)
        return [_Entity("DEVICE", d) for d in _visible(store, user, "DEVICE")
                if (not wanted_types or d.type in wanted_types) and match(d.name)]
    raise _bad(f"Unsupported entity filter type: {kind}")


def _field(store: Store, entity: _Entity, key: str) -> Any:
    """An ENTITY_FIELD value (None when the column is null or unknown)."""
    obj, kind = entity.obj, entity.entity_type
    if key == "createdTime":
        return obj.created_time
    if key == "entityType":
        return kind
    if key == "additionalInfo":
        info = getattr(obj, "additional_info", None)
        return None if info is None else json.dumps(info, separators=(",", ":"))
    if kind == "DEVICE":
        if key in ("name", "title"):
            return obj.name
        if key == "displayName":
            return obj.label if obj.label and obj.label.strip() else obj.name
        if key == "ownerName":
            return store.customer_title(obj.customer_id) if obj.customer_id != NULL_UUID else store.tenant.title
        if key == "ownerType":
            return "CUSTOMER" if obj.customer_id != NULL_UUID else "TENANT"
        return {"type": obj.type, "label": obj.label}.get(key)
    if kind in ("CUSTOMER", "TENANT"):
        if key in ("title", "name", "label"):
            return obj.title
        return obj.extra.get(key) if kind == "CUSTOMER" else None
    if kind == "USER":
        if key in ("email", "name", "title", "label"):
            return obj.email
        return {"firstName": obj.first_name, "lastName": obj.last_name, "phone": obj.phone}.get(key)
    if kind == "DASHBOARD":
        return obj.title if key in ("title", "name") else None
    if kind == "DEVICE_PROFILE":
        return {"name": obj.name, "type": "DEFAULT"}.get(key)
    return None


def value_of(store: Store, entity: _Entity, key: dict[str, Any]) -> tuple[int, Any] | object:
    """(ts, typed value) for an EntityKey, or MISSING. ENTITY_FIELD values carry ts 0 here."""
    key_type, name = key.get("type"), key.get("key")
    if key_type == "ENTITY_FIELD":
        value = _field(store, entity, str(name))
        return MISSING if value is None else (0, value)
    if key_type == "TIME_SERIES":
        return store.latest(entity.id).get(name, MISSING)
    if key_type in ATTRIBUTE_TYPES:
        return store.attributes[ATTRIBUTE_TYPES[key_type]].get(entity.id, {}).get(name, MISSING)
    if key_type == "ATTRIBUTE":
        found = [store.attributes[s].get(entity.id, {}).get(name) for s in SCOPES]
        found = [f for f in found if f is not None]
        return max(found, key=lambda f: f[0]) if found else MISSING
    raise _bad(f"Unsupported entity key type: {key_type}")


def _operand(store: Store, user: User, predicate_value: Any) -> Any:
    if not isinstance(predicate_value, dict):
        return predicate_value
    if predicate_value.get("userValue") is not None:
        return predicate_value["userValue"]
    dynamic = predicate_value.get("dynamicValue")
    if isinstance(dynamic, dict) and dynamic.get("sourceAttribute"):
        owner = {"CURRENT_TENANT": user.tenant_id, "CURRENT_CUSTOMER": user.customer_id,
                 "CURRENT_USER": user.id}.get(str(dynamic.get("sourceType")))
        entry = store.attributes["SERVER_SCOPE"].get(owner or "", {}).get(dynamic["sourceAttribute"])
        if entry is not None:
            return entry[1]
    return predicate_value.get("defaultValue")


def _as_number(value: Any) -> float | None:
    if is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _matches(store: Store, user: User, predicate: dict[str, Any], found: Any) -> bool:
    kind, op = predicate.get("type"), predicate.get("operation")
    if kind == "COMPLEX":
        results = [_matches(store, user, p, found) for p in predicate.get("predicates") or []]
        return any(results) if op == "OR" else all(results)
    operand = _operand(store, user, predicate.get("value"))
    if kind == "STRING":
        if found is MISSING:
            return op in ("NOT_EQUAL", "NOT_CONTAINS")
        text, other = as_text(found[1]), "" if operand is None else str(operand)
        if predicate.get("ignoreCase"):
            text, other = text.lower(), other.lower()
        if op in ("IN", "NOT_IN"):
            items = [item.strip() for item in next(csv.reader([other], skipinitialspace=True), [])]
            return (text in items) == (op == "IN")
        tests = {"EQUAL": text == other, "NOT_EQUAL": text != other, "STARTS_WITH": text.startswith(other),
                 "ENDS_WITH": text.endswith(other), "CONTAINS": other in text, "NOT_CONTAINS": other not in text}
        if op not in tests:
            raise _bad(f"Unsupported operation: {op}")
        return tests[op]
    if found is MISSING:
        return False
    if kind == "BOOLEAN":
        value = found[1] if isinstance(found[1], bool) else as_text(found[1]).lower() == "true"
        wanted = operand if isinstance(operand, bool) else str(operand).lower() == "true"
        if op not in ("EQUAL", "NOT_EQUAL"):
            raise _bad(f"Unsupported operation: {op}")
        return (value == wanted) == (op == "EQUAL")
    if kind == "NUMERIC":
        number, other = _as_number(found[1]), _as_number(operand)
        if number is None or other is None:
            return False
        tests = {"EQUAL": number == other, "NOT_EQUAL": number != other, "GREATER": number > other,
                 "LESS": number < other, "GREATER_OR_EQUAL": number >= other, "LESS_OR_EQUAL": number <= other}
        if op not in tests:
            raise _bad(f"Unsupported operation: {op}")
        return tests[op]
    raise _bad(f"Unsupported predicate type: {kind}")


def _filtered(store: Store, user: User, query: dict[str, Any]) -> list[_Entity]:
    if not isinstance(query, dict):
        raise _bad("Query is required!")
    rows = candidates(store, user, query.get("entityFilter"))
    key_filters = query.get("keyFilters") or []
    if not key_filters:
        return rows
    use_or = query.get("keyFiltersOperation") == "OR"

    def keep(row: _Entity) -> bool:
        results = (_matches(store, user, f.get("predicate") or {}, value_of(store, row, f.get("key") or {}))
                   for f in key_filters)
        return any(results) if use_or else all(results)

    return [row for row in rows if keep(row)]


def count(store: Store, user: User, query: dict[str, Any]) -> int:
    """Number of entities matching an EntityCountQuery."""
    return len(_filtered(store, user, query))


def _sort_key(store: Store, key: dict[str, Any]) -> Callable[[_Entity], tuple[Any, ...]]:
    def sort_key(row: _Entity) -> tuple[Any, ...]:
        found = value_of(store, row, key)
        if found is MISSING:
            return (1, 0, 0.0, "", row.id)
        value = found[1]
        if is_number(value):
            return (0, 0, float(value), "", row.id)
        return (0, 1, 0.0, as_text(value), row.id)

    return sort_key


def find(store: Store, user: User, query: dict[str, Any]) -> dict[str, Any]:
    """PageData<EntityData> for an EntityDataQuery; every value is a string, missing ones `{"ts": 0, "value": ""}`."""
    rows = _filtered(store, user, query)
    link = query.get("pageLink") or {}
    size, page = int(link.get("pageSize") or 0), int(link.get("page") or 0)
    fields = [k for k in query.get("entityFields") or [] if isinstance(k, dict)]
    latest_keys = [k for k in query.get("latestValues") or [] if isinstance(k, dict)]
    text = (link.get("textSearch") or "").lower()
    if text:
        def searchable(row: _Entity) -> Iterable[str]:
            for key in fields + latest_keys:
                found = value_of(store, row, key)
                if found is not MISSING:
                    yield as_text(found[1]).lower()

        rows = [row for row in rows if any(text in v for v in searchable(row))]
    order = link.get("sortOrder")
    if isinstance(order, dict) and isinstance(order.get("key"), dict):
        rows.sort(key=_sort_key(store, order["key"]), reverse=order.get("direction") == "DESC")
    else:
        rows.sort(key=lambda row: (row.obj.created_time, row.id))
    total = len(rows)
    chunk = rows[page * size : (page + 1) * size] if size > 0 else rows
    now = store.now_ms()
    return {
        "data": [_entity_data(store, row, fields, latest_keys, now) for row in chunk],
        "totalPages": math.ceil(total / size) if size > 0 else 1,
        "totalElements": total,
        "hasNext": total > page * size + len(chunk),
    }


def _entity_data(store: Store, row: _Entity, fields: list[dict[str, Any]], latest_keys: list[dict[str, Any]],
                 now: int) -> dict[str, Any]:
    latest: dict[str, dict[str, dict[str, Any]]] = {}
    for key in fields:
        value = _field(store, row, str(key.get("key")))
        latest.setdefault("ENTITY_FIELD", {})[str(key.get("key"))] = {
            "ts": now, "value": "" if value is None else as_text(value)}
    for key in latest_keys:
        found = value_of(store, row, key)
        entry = {"ts": 0, "value": ""} if found is MISSING else {"ts": found[0], "value": as_text(found[1])}
        latest.setdefault(str(key.get("type")), {})[str(key.get("key"))] = entry
    return {"entityId": eid(row.entity_type, row.id), "latest": latest, "timeseries": {}, "aggLatest": {}}
