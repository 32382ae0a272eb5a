"""Attributes and time series under /api/plugins/telemetry (reference §5), with the plain-text errors of §2.2."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .http import STORE_KEY, check_uuid, empty_ok, int_param, json_response, require
from .model import User
from .store import SCOPES, Failure, Store, TextFailure
from .values import AGGREGATIONS, aggregate, as_text, cast_value

PREFIX = "/api/plugins/telemetry"
ENTITY_TYPES = {
    "TENANT": "Tenant", "CUSTOMER": "Customer", "USER": "User", "DASHBOARD": "Dashboard", "ASSET": "Asset",
    "DEVICE": "Device", "ALARM": "Alarm", "ENTITY_VIEW": "Entity view", "DEVICE_PROFILE": "Device profile",
    "ASSET_PROFILE": "Asset profile", "RULE_CHAIN": "Rule chain", "EDGE": "Edge", "TENANT_PROFILE": "Tenant profile",
    "API_USAGE_STATE": "Api usage state", "OTA_PACKAGE": "OTA package",
}
PERMISSION_TEXT = "You don't have permission to perform this operation!"


def _entity(request: web.Request, *, device_only: bool = False) -> tuple[Store, User, str, str]:
    """Validate the path entity and the caller's access to it (404/403 as plain text, bad path as JSON 400)."""
    store = request.app[STORE_KEY]
    user = require(request, "SYS_ADMIN", "TENANT_ADMIN", "CUSTOMER_USER")
    entity_type = "DEVICE" if device_only else request.match_info["entityType"]
    if entity_type not in ENTITY_TYPES:
        raise Failure(400, f"No enum constant org.thingsboard.server.common.data.EntityType.{entity_type}", 31)
    entity_id = check_uuid(request.match_info["deviceId" if device_only else "entityId"])
    if not store.entity_exists(entity_type, entity_id):
        raise TextFailure(404, f"{ENTITY_TYPES[entity_type]} with requested id wasn't found!")
    if user.authority == "SYS_ADMIN":
        if entity_type == "DEVICE":
            raise TextFailure(403, "System administrator is not allowed to perform this operation!")
        allowed = entity_type in ("TENANT", "USER")
    elif user.authority == "TENANT_ADMIN":
        allowed = True
    elif entity_type == "DEVICE":
        allowed = store.devices[entity_id].customer_id == user.customer_id
    else:
        allowed = (entity_type == "CUSTOMER" and entity_id == user.customer_id) or (
            entity_type == "USER" and entity_id == user.id)
    if not allowed:
        raise TextFailure(403, PERMISSION_TEXT)
    return store, user, entity_type, entity_id


def _scope(request: web.Request) -> str:
    scope = request.match_info["scope"]
    if scope not in SCOPES:
        raise Failure(400, f"No enum constant org.thingsboard.server.common.data.AttributeScope.{scope}", 31)
    return scope


def _keys(request: web.Request) -> list[str] | None:
    """Repeated `key=` params win (they may contain commas); else `keys=a,b` split without trimming."""
    repeated = request.query.getall("key", [])
    if repeated:
        return list(repeated)
    raw = request.query.get("keys")
    if not raw:
        return None
    return [k for k in raw.split(",") if k != ""]


async def _body_text(request: web.Request) -> str:
    return (await request.read()).decode("utf-8", errors="replace")


# ---- attributes
async def attribute_keys(request: web.Request) -> web.Response:
    store, _, _, entity_id = _entity(request)
    scopes = [_scope(request)] if "scope" in request.match_info else list(SCOPES)
    return json_response([key for scope in scopes for key, _, _ in store.get_attributes(entity_id, scope)])


async def attribute_values(request: web.Request) -> web.Response:
    store, _, _, entity_id = _entity(request)
    scopes = [_scope(request)] if "scope" in request.match_info else list(SCOPES)
    keys = _keys(request)
    return json_response([
        {"lastUpdateTs": ts, "key": key, "value": value}
        for scope in scopes
        for key, ts, value in store.get_attributes(entity_id, scope, keys)
    ])


async def save_attributes(request: web.Request) -> web.Response:
    device_only = "deviceId" in request.match_info
    store, _, _, entity_id = _entity(request, device_only=device_only)
    scope = _scope(request)
    if scope not in ("SERVER_SCOPE", "SHARED_SCOPE"):
        raise TextFailure(400, f"Invalid scope: {scope}")
    try:
        body = json.loads(await _body_text(request))
    except ValueError as exc:
        raise TextFailure(400, "Invalid JSON") from exc
    if not isinstance(body, dict):
        raise TextFailure(400, "Request is not a JSON object")
    if not body:
        raise TextFailure(400, "No attributes data found in request body!")
    if any(not key.strip() for key in body):
        raise TextFailure(400, "Key cannot be blank")
    store.save_attributes(entity_id, scope, {key: cast_value(value) for key, value in body.items()})
    return empty_ok()


async def delete_attributes(request: web.Request) -> web.Response:
    device_only = "deviceId" in request.match_info
    store, _, _, entity_id = _entity(request, device_only=device_only)
    scope = _scope(request)
    keys = _keys(request) or []
    if not keys:
        raise TextFailure(400, "Empty keys: []")
    store.delete_attributes(entity_id, scope, keys)
    return empty_ok()


# ---- time series
def _parse_samples(text: str, now: int) -> list[tuple[int, dict[str, Any]]]:
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise TextFailure(400, "Unable to parse time series payload: Invalid JSON body!") from exc
    elements = body if isinstance(body, list) else [body]
    samples: list[tuple[int, dict[str, Any]]] = []
    for element in elements:
        if not isinstance(element, dict):
            raise TextFailure(400, f"Unable to parse time series payload. Invalid JSON body: {json.dumps(element)}")
        if "ts" in element and "values" in element:
            ts, values = element["ts"], element["values"]
            if not isinstance(ts, int) or isinstance(ts, bool) or not isinstance(values, dict):
                raise TextFailure(400, f"Unable to parse time series payload. Invalid JSON body: {json.dumps(element)}")
        else:
            ts, values = now, element
        if values:
            samples.append((ts, {key: cast_value(value) for key, value in values.items()}))
    if not samples:
        raise TextFailure(400, "No time series data found in request body!")
    return samples


async def save_telemetry(request: web.Request) -> web.Response:
    store, _, _, entity_id = _entity(request)
    store.save_telemetry(entity_id, _parse_samples(await _body_text(request), store.now_ms()))
    return empty_ok()


def _render(value: Any, strict: bool) -> Any:
    return value if strict else as_text(value)


async def timeseries_keys(request: web.Request) -> web.Response:
    store, _, _, entity_id = _entity(request)
    return json_response(sorted(store.latest(entity_id)))


async def timeseries_values(request: web.Request) -> web.Response:
    if "startTs" in request.query or "endTs" in request.query or request.path.endswith("/history"):
        return await timeseries_history(request)
    store, _, _, entity_id = _entity(request)
    strict = request.query.get("useStrictDataTypes", "false").lower() == "true"
    latest = store.latest(entity_id)
    keys = _keys(request)
    now = store.now_ms()
    result: dict[str, list[dict[str, Any]]] = {}
    for key in (keys if keys is not None else sorted(latest)):
        entry = latest.get(key)
        result[key] = [{"ts": entry[0], "value": _render(entry[1], strict)} if entry else {"ts": now, "value": None}]
    return json_response(result)


async def timeseries_history(request: web.Request) -> web.Response:
    store, _, _, entity_id = _entity(request)
    for name in ("startTs", "endTs"):
        if not request.query.get(name):
            raise Failure(500, f"Required request parameter '{name}' for method parameter type Long is not present", 2)
    start, end = int_param(request, "startTs"), int_param(request, "endTs")
    assert start is not None and end is not None
    interval = int_param(request, "interval", 0) or 0
    limit = int_param(request, "limit", 100) or 100
    agg = request.query.get("agg") or "NONE"
    if agg not in AGGREGATIONS:
        raise Failure(400, f"No enum constant org.thingsboard.server.common.data.kv.Aggregation.{agg}", 31)
    order = (request.query.get("orderBy") or "DESC").upper()
    strict = request.query.get("useStrictDataTypes", "false").lower() == "true"
    result: dict[str, list[dict[str, Any]]] = {}
    for key in _keys(request) or []:
        points = store.history(entity_id, key)
        if agg != "NONE" and interval > 0:
            selected = aggregate(points, start, end, interval, agg)
            if order == "DESC":
                selected.reverse()
        else:
            selected = [p for p in points if start <= p[0] < end]
            selected = selected[::-1][:limit] if order == "DESC" else selected[:limit]
        if selected:
            result[key] = [{"ts": ts, "value": _render(value, strict)} for ts, value in selected]
    return json_response(result)


async def delete_timeseries(request: web.Request) -> web.Response:
    store, _, _, entity_id = _entity(request)
    keys = _keys(request) or []
    if not keys:
        raise TextFailure(400, "Empty keys: []")
    delete_all = request.query.get("deleteAllDataForKeys", "false").lower() == "true"
    start, end = int_param(request, "startTs"), int_param(request, "endTs")
    if not delete_all and (start is None or end is None):
        raise TextFailure(400, "When deleteAllDataForKeys is false, start and end timestamp values shouldn't be empty")
    store.delete_telemetry(
        entity_id, keys, start, end, delete_all,
        delete_latest=request.query.get("deleteLatest", "true").lower() == "true",
        rewrite_latest=request.query.get("rewriteLatestIfDeleted", "false").lower() == "true",
    )
    return empty_ok()


def setup(app: web.Application) -> None:
    r = app.router
    base = PREFIX + "/{entityType}/{entityId}"
    r.add_get(base + "/keys/attributes", attribute_keys)
    r.add_get(base + "/keys/attributes/{scope}", attribute_keys)
    r.add_get(base + "/values/attributes", attribute_values)
    r.add_get(base + "/values/attributes/{scope}", attribute_values)
    r.add_get(base + "/keys/timeseries", timeseries_keys)
    r.add_get(base + "/values/timeseries", timeseries_values)
    r.add_get(base + "/values/timeseries/history", timeseries_history)
    r.add_post(base + "/attributes/{scope}", save_attributes)
    r.add_post(base + "/timeseries/{scope}", save_telemetry)
    r.add_post(base + "/timeseries/{scope}/{ttl}", save_telemetry)
    r.add_delete(base + "/timeseries/delete", delete_timeseries)
    r.add_post(base + "/{scope}", save_attributes)
    r.add_delete(base + "/{scope}", delete_attributes)
    r.add_post(PREFIX + "/{deviceId}/{scope}", save_attributes)
    r.add_delete(PREFIX + "/{deviceId}/{scope}", delete_attributes)
