"""API keys, ThingsBoard 4.3+ (ApiKeyController; reference §1.3 and the ApiKeyService rows of §11).

The minimum a client needs: create a key for a user (the secret is returned once), list a user's keys,
enable/disable, edit the description, delete. Any authority may manage its own keys; a tenant admin also those of
its tenant's users, the sysadmin those of tenant admins (checkUserId(..., WRITE) in ThingsBoard).
Messages of the validation failures that the reference does not give are the emulator's own (errorCode 31).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .http import (
    STORE_KEY,
    check_uuid,
    empty_ok,
    json_response,
    page_data,
    page_link,
    read_object,
    sort_key_for,
    user_of,
)
from .model import ApiKey, User
from .store import PERMISSION, Failure, Store, not_found

SORT_GETTERS = {
    "createdTime": lambda k: k.created_time,
    "expirationTime": lambda k: k.expiration_time,
    "description": lambda k: k.description,
    "enabled": lambda k: k.enabled,
}


def _target_user(store: Store, caller: User, user_id: str) -> User:
    """The user whose keys are managed, if `caller` may write them (403/20 otherwise, 404/32 if absent)."""
    target = store.users.get(user_id)
    if target is None:
        raise not_found("User", user_id)
    allowed = (
        target.id == caller.id
        or (caller.authority == "TENANT_ADMIN" and target.tenant_id == caller.tenant_id)
        or (caller.authority == "SYS_ADMIN" and target.authority == "TENANT_ADMIN")
    )
    if not allowed:
        raise Failure(403, PERMISSION, 20)
    return target


def _key_for(store: Store, caller: User, key_id: str) -> ApiKey:
    key = store.api_keys.get(check_uuid(key_id))
    if key is None:
        raise not_found("API key", key_id)
    _target_user(store, caller, key.user_id)
    return key


def _ref_id(value: Any) -> str | None:
    return str(value["id"]) if isinstance(value, dict) and value.get("id") else None


async def save_api_key(request: web.Request) -> web.Response:
    """POST /api/apiKey: body ApiKeyInfo → ApiKey; `value` is the secret for a new key, null for an update."""
    store = request.app[STORE_KEY]
    caller = user_of(request)
    body = await read_object(request)
    user_id = _ref_id(body.get("userId"))
    if user_id is None:
        raise Failure(400, "Incorrect userId null", 31)
    target = _target_user(store, caller, check_uuid(user_id))
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise Failure(400, "Validation error: description must not be blank", 31)
    expiration = body.get("expirationTime") or 0
    if not isinstance(expiration, int) or isinstance(expiration, bool) or expiration < 0:
        raise Failure(400, "Validation error: expirationTime must be a non-negative number", 31)
    enabled = body.get("enabled")
    key_id = _ref_id(body.get("id"))
    if key_id is not None:
        key = _key_for(store, caller, key_id)
        if key.user_id != target.id:
            raise Failure(400, "User Id of the API key cannot be changed!", 31)
        key.description, key.expiration_time = description, expiration
        if isinstance(enabled, bool):
            key.enabled = enabled
        return json_response(key.to_key_json(store.now_ms(), show_value=False))
    key = store.create_api_key(
        target, description, expiration_time=expiration, enabled=enabled if isinstance(enabled, bool) else True
    )
    return json_response(key.to_key_json(store.now_ms(), show_value=True))


async def user_api_keys(request: web.Request) -> web.Response:
    """GET /api/apiKeys/{userId}: PageData<ApiKeyInfo>; textSearch matches the description."""
    store = request.app[STORE_KEY]
    target = _target_user(store, user_of(request), check_uuid(request.match_info["userId"]))
    link = page_link(request)
    keys = [k for k in store.api_keys.values() if k.user_id == target.id]
    if link.text_search:
        keys = [k for k in keys if link.text_search in k.description.lower()]
    keys.sort(key=sort_key_for(SORT_GETTERS, link.sort_property), reverse=link.sort_order == "DESC")
    now = store.now_ms()
    return json_response(page_data(keys, link.page_size, link.page, lambda k: k.to_json(now)))


async def update_description(request: web.Request) -> web.Response:
    """PUT /api/apiKey/{id}/description: the raw request body is the new description (Optional<String>)."""
    store = request.app[STORE_KEY]
    key = _key_for(store, user_of(request), request.match_info["id"])
    text = (await request.read()).decode("utf-8", "replace")
    if not text.strip():
        raise Failure(400, "Validation error: description must not be blank", 31)
    key.description = text
    return json_response(key.to_json(store.now_ms()))


async def enable_api_key(request: web.Request) -> web.Response:
    """PUT /api/apiKey/{id}/enabled/{enabledValue} → ApiKeyInfo; a disabled key stops authenticating at once."""
    store = request.app[STORE_KEY]
    key = _key_for(store, user_of(request), request.match_info["id"])
    raw = request.match_info["enabledValue"].lower()
    if raw not in ("true", "false"):
        raise Failure(400, f"Failed to convert value of type 'java.lang.String' to required type 'java.lang.Boolean'; "
                           f"Invalid boolean value [{request.match_info['enabledValue']}]", 31)
    key.enabled = raw == "true"
    return json_response(key.to_json(store.now_ms()))


async def delete_api_key(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    key = _key_for(store, user_of(request), request.match_info["id"])
    del store.api_keys[key.id]
    return empty_ok()


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/apiKey", save_api_key)
    r.add_get("/api/apiKeys/{userId}", user_api_keys)
    r.add_put("/api/apiKey/{id}/description", update_description)
    r.add_put("/api/apiKey/{id}/enabled/{enabledValue}", enable_api_key)
    r.add_delete("/api/apiKey/{id}", delete_api_key)
