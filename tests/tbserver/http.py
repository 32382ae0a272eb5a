"""HTTP plumbing shared by the route modules: responses, middlewares (faults, latency, rate limit, auth,
error mapping), paging parameters and PageData math.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from aiohttp import web

from .model import User
from .store import Failure, Store, TextFailure

log = logging.getLogger("tbserver")
STORE_KEY: web.AppKey[Store] = web.AppKey("store", Store)
USER_KEY: web.RequestKey[User] = web.RequestKey("user", User)
CLAIMS_KEY: web.RequestKey[dict] = web.RequestKey("claims", dict)
_encoder = msgspec.json.Encoder()
_PUBLIC = re.compile(r"^/api/(auth/login|auth/token|auth/login/public|noauth/|ws|v1/)")
_SORT_PROPERTY = re.compile(r"^[A-Za-z0-9_-]+$")
DEFAULT_FAULT_MESSAGES = {
    400: ("Invalid request", 31),
    401: ("Authentication failed", 10),
    403: ("You don't have permission to perform this operation!", 20),
    404: ("Requested item wasn't found!", 32),
    409: ("Entity was already changed by someone else", 35),
    429: ("Too many requests for current tenant!", 33),
    500: ("Internal server error", 2),
    503: ("Service unavailable", 2),
}


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(body), status=status, content_type="application/json")


def error_body(status: int, message: str, error_code: int, timestamp_ms: int | None = None) -> dict[str, Any]:
    """ThingsBoard's error JSON (§2.1): status, message, errorCode, timestamp — in that order."""
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    return {"status": status, "message": message, "errorCode": error_code, "timestamp": ts}


def error_response(status: int, message: str, error_code: int) -> web.Response:
    return json_response(error_body(status, message, error_code), status)


def text_response(text: str, status: int) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/plain")


def empty_ok() -> web.Response:
    """200 with an empty body and no content type (save/delete/logout endpoints)."""
    return web.Response(status=200)


class Faults:
    """Test-only fault injection: the next `times` requests matching (method, path regex) get a canned answer.

    Thread-safe: tests add faults from their own thread while the server runs on its loop thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[dict[str, Any]] = []

    def add(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """`body`: None → the §2.1 JSON error for `status`; dict/list → JSON; str/bytes → sent as is (text/plain)."""
        with self._lock:
            self._rules.append(
                {"method": method.upper(), "regex": re.compile(path_regex), "status": status, "body": body,
                 "headers": dict(headers or {}), "left": times}
            )

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(rule["left"] for rule in self._rules)

    def take(self, method: str, path: str) -> web.Response | None:
        with self._lock:
            for rule in self._rules:
                if rule["method"] in ("*", method) and rule["regex"].search(path) and rule["left"] > 0:
                    rule["left"] -= 1
                    if rule["left"] == 0:
                        self._rules.remove(rule)
                    break
            else:
                return None
        status, body = rule["status"], rule["body"]
        if body is None:
            message, code = DEFAULT_FAULT_MESSAGES.get(status, ("Injected failure", 2))
            response = error_response(status, message, code)
        elif isinstance(body, dict | list):
            response = json_response(body, status)
        elif isinstance(body, bytes):
            response = web.Response(body=body, status=status, content_type="text/plain")
        else:
            response = text_response(str(body), status)
        response.headers.update(rule["headers"])
        return response


FAULTS_KEY: web.AppKey[Faults] = web.AppKey("faults", Faults)


class RateLimiter:
    """At most `per_second` requests in any sliding one-second window (monotonic clock)."""

    def __init__(self, per_second: float) -> None:
        self.limit = max(1, int(per_second))
        self.stamps: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self.stamps and now - self.stamps[0] >= 1.0:
            self.stamps.popleft()
        if len(self.stamps) >= self.limit:
            return False
        self.stamps.append(now)
        return True


def build_middlewares(store: Store, faults: Faults) -> list[Callable]:
    options = store.options
    limiter = RateLimiter(options.rate_limit) if options.rate_limit else None

    @web.middleware
    async def outer(request: web.Request, handler: Callable) -> web.StreamResponse:
        store.counters["requests"] += 1
        if options.latency_ms:
            await asyncio.sleep(options.latency_ms / 1000)
        injected = faults.take(request.method, request.path)
        if injected is not None:
            return injected
        if limiter is not None and not _PUBLIC.match(request.path) and not limiter.allow():
            return error_response(429, "Too many requests for current tenant!", 33)
        try:
            if request.path.startswith("/api/") and not _PUBLIC.match(request.path):
                authenticate(store, request)
            return await handler(request)
        except Failure as exc:
            return error_response(exc.status, exc.message, exc.error_code)
        except TextFailure as exc:
            return text_response(exc.text, exc.status) if exc.text else web.Response(status=exc.status)
        except web.HTTPNotFound:
            return error_response(404, "Requested item wasn't found!", 32)
        except web.HTTPMethodNotAllowed:
            return error_response(405, f"Request method '{request.method}' is not supported", 31)
        except web.HTTPException:
            raise
        except Exception as exc:  # an emulator bug: answer like ThingsBoard's generic handler, keep the trace
            log.exception("unhandled error on %s %s", request.method, request.path)
            return error_response(500, str(exc) or type(exc).__name__, 2)

    return [outer]


def authenticate(store: Store, request: web.Request) -> None:
    """`Bearer <JWT>` or (4.3+) `ApiKey <key>` in X-Authorization, else in Authorization (§1.3).

    An API-key request acts as the key's user; its claims are empty (no session: logout does nothing).
    """
    header = request.headers.get("X-Authorization") or request.headers.get("Authorization") or ""
    if header.startswith("ApiKey "):
        request[USER_KEY], request[CLAIMS_KEY] = store.user_for_api_key(header[7:].strip()), {}
        return
    if not header.startswith("Bearer "):
        raise Failure(401, "Authentication failed", 10)
    user, claims = store.user_for_token(header[7:].strip())
    request[USER_KEY], request[CLAIMS_KEY] = user, claims


def user_of(request: web.Request) -> User:
    return request[USER_KEY]


def require(request: web.Request, *authorities: str) -> User:
    """The caller, if their authority is one of `authorities` (else 403/20, like @PreAuthorize)."""
    user = user_of(request)
    if user.authority not in authorities:
        raise Failure(403, "You don't have permission to perform this operation!", 20)
    return user


def check_uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise Failure(400, f"Invalid UUID string: {value}", 31) from exc


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    try:
        return msgspec.json.decode(raw) if raw else None
    except msgspec.DecodeError as exc:
        raise Failure(400, f"Invalid request body: {exc}", 31) from exc


async def read_object(request: web.Request) -> dict[str, Any]:
    """The JSON object a save endpoint takes; any other body is a 400 "Invalid request body"."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise Failure(400, "Invalid request body", 31)
    return body


def body_entity_id(body: dict[str, Any]) -> str | None:
    """The checked uuid of `{"id": {"id": ...}}` when a save request updates an existing entity, else None."""
    ref = body.get("id")
    return check_uuid(str(ref["id"])) if isinstance(ref, dict) and ref.get("id") else None


def check_version(body: dict[str, Any], current: int, kind: str) -> None:
    """ThingsBoard's optimistic lock: a `version` in the body that is not the stored one is a 409."""
    version = body.get("version")
    if version is not None and version != current:
        raise Failure(409, f"{kind} was already changed by someone else", 35)


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise Failure(400, f"Failed to convert value of type 'java.lang.String' to required type 'int'; "
                           f"For input string: \"{raw}\"", 31) from exc


class PageLink(msgspec.Struct, frozen=True):
    page_size: int
    page: int
    text_search: str | None
    sort_property: str | None
    sort_order: str


def page_link(request: web.Request) -> PageLink:
    """Parse §3.1 paging parameters (pageSize and page are mandatory)."""
    for name in ("pageSize", "page"):
        if request.query.get(name) is None:
            raise Failure(500, f"Required request parameter '{name}' for method parameter type int is not present", 2)
    size, page = int_param(request, "pageSize"), int_param(request, "page")
    assert size is not None and page is not None
    if size < 1:
        raise Failure(400, "Page size must be greater than zero!", 31)
    if page < 0:
        raise Failure(400, "Page number must be non-negative!", 31)
    text = request.query.get("textSearch") or None
    prop = request.query.get("sortProperty") or None
    if prop is not None and not _SORT_PROPERTY.match(prop):
        raise Failure(400, "Invalid sort property", 31)
    order = (request.query.get("sortOrder") or "ASC").upper()
    if order not in ("ASC", "DESC"):
        raise Failure(
            400, f"Unsupported sort order '{request.query.get('sortOrder')}'! Only 'ASC' or 'DESC' types are allowed.",
            31)
    return PageLink(size, page, text.lower() if text else None, prop, order)


def page_data(items: Sequence[Any], size: int, page: int, render: Callable[[Any], Any]) -> dict[str, Any]:
    """PageData (§3.2): totalPages = ceil(total / size); a page past the end has empty data and real totals."""
    total = len(items)
    chunk = items[page * size : (page + 1) * size]
    return {
        "data": [render(item) for item in chunk],
        "totalPages": math.ceil(total / size) if size > 0 else 1,
        "totalElements": total,
        "hasNext": total > page * size + len(chunk),
    }


def bool_param(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    return raw.lower() == "true"


def sort_key_for(getters: dict[str, Callable[[Any], Any]], prop: str | None) -> Callable[[Any], Any]:
    """Sort key for a PageLink sortProperty; nulls sort last (ASC), ties fall back to id (stable paging)."""
    getter = getters.get(prop or "") if prop else None
    if getter is None:
        return lambda item: item.id

    def key(item: Any) -> tuple[Any, ...]:
        value = getter(item)
        return (value is None, value if value is not None else "", item.id)

    return key
