"""POST /api/entitiesQuery/count and /find (reference §6.1); the evaluation lives in query.py."""

from __future__ import annotations

from aiohttp import web

from . import query
from .http import STORE_KEY, json_response, read_json, require


async def count(request: web.Request) -> web.Response:
    user = require(request, "SYS_ADMIN", "TENANT_ADMIN", "CUSTOMER_USER")
    return json_response(query.count(request.app[STORE_KEY], user, await read_json(request)))


async def find(request: web.Request) -> web.Response:
    user = require(request, "SYS_ADMIN", "TENANT_ADMIN", "CUSTOMER_USER")
    return json_response(query.find(request.app[STORE_KEY], user, await read_json(request)))


def setup(app: web.Application) -> None:
    app.router.add_post("/api/entitiesQuery/count", count)
    app.router.add_post("/api/entitiesQuery/find", find)
