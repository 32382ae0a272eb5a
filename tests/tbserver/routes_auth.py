"""Authentication, current user, system info (reference §1)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .http import CLAIMS_KEY, STORE_KEY, empty_ok, error_response, json_response, read_json, user_of
from .store import Failure


async def _lenient_body(request: web.Request) -> Any:
    """The decoded body, or None when it is not JSON: the auth endpoints answer a bad body with their own 401."""
    try:
        return await read_json(request)
    except Failure:
        return None


async def login(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    body = await _lenient_body(request)
    if not isinstance(body, dict):
        raise Failure(401, "Authentication failed", 10)
    return json_response(store.login(body.get("username"), body.get("password")))


async def refresh(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    body = await _lenient_body(request)
    token = body.get("refreshToken") if isinstance(body, dict) else None
    return json_response(store.refresh(token))


async def not_supported(request: web.Request) -> web.Response:
    return error_response(401, "Authentication method not supported", 10)


async def logout(request: web.Request) -> web.Response:
    request.app[STORE_KEY].logout(request[CLAIMS_KEY])
    return empty_ok()


async def change_password(request: web.Request) -> web.Response:
    """Returns a new JwtPair and outdates every older token of the user (second granularity, §1.4)."""
    store = request.app[STORE_KEY]
    user = user_of(request)
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("newPassword"), str) or not body["newPassword"]:
        raise Failure(400, "New password should be specified!", 31)
    if body.get("currentPassword") != user.password:
        raise Failure(400, "Current password doesn't match!", 31)
    user.password = body["newPassword"]
    user.tokens_valid_since = int(store.now_s())
    return json_response(store.issue_tokens(user))


async def current_user(request: web.Request) -> web.Response:
    return json_response(user_of(request).to_json())


async def system_info(request: web.Request) -> web.Response:
    return json_response({"version": "4.3.1.3", "artifact": "application", "name": "ThingsBoard", "type": "CE"})


def setup(app: web.Application) -> None:
    app.router.add_post("/api/auth/login", login)
    app.router.add_route("*", "/api/auth/login", not_supported)
    app.router.add_post("/api/auth/token", refresh)
    app.router.add_route("*", "/api/auth/token", not_supported)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_post("/api/auth/changePassword", change_password)
    app.router.add_get("/api/auth/user", current_user)
    app.router.add_get("/api/system/info", system_info)
