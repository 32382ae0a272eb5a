"""The emulator's WebSocket API (reference §7): `/api/ws` (authCmd in the first frame, or `?token=`) and the legacy
`/api/ws/plugins/telemetry?token=` endpoint.

A session authenticates, then runs commands in order (subscriptions live in `ws_subs.py`); store listeners push
updates through a bounded outbound queue (1000 messages, then 1008). The server pings when no pong arrived for
`ping_interval` and closes with 4500 after three intervals; inbound frames over 32 KB close with 1009; no authCmd
within the auth timeout closes with 1008; `options.ws_session_limit` (> 0) caps sessions per tenant (1008).
Timing knobs for tests live in `options.extra`: `ws_auth_timeout` (10 s), `ws_ping_interval` (10 s),
`ws_refresh_interval` (60 s, entity counts are re-run at this period and pushed when they change),
`ws_max_text` (32 KB inbound frame limit), `ws_max_pending` (1000 queued outbound messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from . import ws_subs
from .store import Failure

MAX_TEXT = 32 * 1024
MAX_PENDING = 1000
PARSE_ERROR = {"subscriptionId": 1, "errorCode": 2, "errorMsg": "Failed to parse the payload", "data": None,
               "latestValues": {}}

_FIELDS = {
    "ENTITY_DATA": {"type", "cmdId", "query", "latestCmd", "tsCmd", "historyCmd", "aggHistoryCmd", "aggTsCmd"},
    "ENTITY_COUNT": {"type", "cmdId", "query"},
    "ATTRIBUTES": {"type", "cmdId", "entityType", "entityId", "keys", "scope", "unsubscribe"},
    "TIMESERIES": {"type", "cmdId", "entityType", "entityId", "keys", "startTs", "timeWindow", "interval", "limit",
                   "agg", "scope", "unsubscribe", "intervalType", "timeZoneId", "fetchLatestPreviousPoint"},
    "TIMESERIES_HISTORY": {"type", "cmdId", "entityType", "entityId", "keys", "startTs", "endTs", "interval",
                           "limit", "agg", "intervalType", "timeZoneId"},
    "ENTITY_DATA_UNSUBSCRIBE": {"type", "cmdId"},
    "ENTITY_COUNT_UNSUBSCRIBE": {"type", "cmdId"},
}
_LEGACY = [
    ("attrSubCmds", "ATTRIBUTES"), ("tsSubCmds", "TIMESERIES"), ("historyCmds", "TIMESERIES_HISTORY"),
    ("entityDataCmds", "ENTITY_DATA"), ("entityDataUnsubscribeCmds", "ENTITY_DATA_UNSUBSCRIBE"),
    ("alarmDataCmds", None), ("alarmDataUnsubscribeCmds", None), ("entityCountCmds", "ENTITY_COUNT"),
    ("entityCountUnsubscribeCmds", "ENTITY_COUNT_UNSUBSCRIBE"), ("alarmCountCmds", None),
    ("alarmCountUnsubscribeCmds", None),
]


class _ParseError(Exception):
    pass


class Hub:
    """All live sessions of one emulator; the single store listener fans changes out to them."""

    def __init__(self, store: Any, options: Any) -> None:
        self.store = store
        self.options = options
        extra = getattr(options, "extra", None) or {}
        self.auth_timeout = float(extra.get("ws_auth_timeout", 10.0))
        self.ping_interval = float(extra.get("ws_ping_interval", 10.0))
        self.refresh_interval = float(extra.get("ws_refresh_interval", 60.0))
        self.max_text = int(extra.get("ws_max_text", MAX_TEXT))
        self.max_pending = int(extra.get("ws_max_pending", MAX_PENDING))
        self.sessions: set[Session] = set()
        self.remove_listener = store.add_listener(self._on_change)

    def _on_change(self, entity_id: str, kind: str, scope: str | None, values: dict, deleted: bool) -> None:
        for session in list(self.sessions):
            session.changed(entity_id, kind, scope, values, deleted)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False, max_msg_size=self.max_text)
        await ws.prepare(request)
        legacy = request.path.endswith("/plugins/telemetry")
        session = Session(self, ws, legacy)
        await session.run(request.query.get("token"))
        return ws

    async def shutdown(self, app: web.Application) -> None:
        for session in list(self.sessions):
            await session.ws.close(code=WSCloseCode.GOING_AWAY, message=b"Server shutdown")


class Session:
    def __init__(self, hub: Hub, ws: web.WebSocketResponse, legacy: bool) -> None:
        self.hub, self.ws, self.legacy = hub, ws, legacy
        self.store = hub.store
        self.user: Any = None
        self.subs: dict[int, Any] = {}
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.last_pong = time.monotonic()
        self.closing = False

    # --- lifecycle ----------------------------------------------------------------------------------------

    async def run(self, url_token: str | None) -> None:
        tasks = [asyncio.create_task(job()) for job in (self._writer, self._pinger, self._refresher)]
        try:
            if url_token is not None:
                if not await self._authenticate(url_token, url_code=True):
                    return
            elif self.legacy:
                await self.close(WSCloseCode.INTERNAL_ERROR, "Invalid JWT token: ")
                return
            await self._read()
        finally:
            self.hub.sessions.discard(self)
            for task in tasks:
                task.cancel()
            if not self.ws.closed:
                with contextlib.suppress(Exception):
                    await self.ws.close()

    async def close(self, code: int, reason: str) -> None:
        self.closing = True
        self.hub.sessions.discard(self)
        await self.ws.close(code=code, message=reason.encode()[:120])

    async def _authenticate(self, token: str, *, url_code: bool, api_key: str | None = None) -> bool:
        try:
            if api_key is not None:  # 4.4: authCmd may carry "apiKey" instead of "token" (§7.1)
                self.user = self.store.user_for_api_key(api_key)
            else:
                self.user, _ = self.store.user_for_token(token)
        except Failure as exc:
            # A bad URL token closes with 1011, a bad authCmd token with 1007 (§7.1).
            await self.close(WSCloseCode.INTERNAL_ERROR if url_code else WSCloseCode.INVALID_TEXT, exc.message)
            return False
        limit = int(getattr(self.hub.options, "ws_session_limit", 0) or 0)
        same_tenant = [s for s in self.hub.sessions if s.user is not None and s.user.tenant_id == self.user.tenant_id]
        if limit > 0 and len(same_tenant) >= limit:
            await self.close(WSCloseCode.POLICY_VIOLATION, "Max tenant sessions limit reached!")
            return False
        self.hub.sessions.add(self)
        return True

    async def _read(self) -> None:
        deadline = None if self.user is not None else time.monotonic() + self.hub.auth_timeout
        while not self.ws.closed and not self.closing:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                msg = await self.ws.receive(timeout=timeout)
            except TimeoutError:
                await self.close(WSCloseCode.POLICY_VIOLATION, "Auth timeout")
                return
            if msg.type == WSMsgType.PING:
                await self.ws.pong(msg.data)
            elif msg.type == WSMsgType.PONG:
                self.last_pong = time.monotonic()
            elif msg.type == WSMsgType.TEXT:
                await self._text(msg.data)
                if self.user is not None:
                    deadline = None
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return

    async def _writer(self) -> None:
        while True:
            text = await self.outbox.get()
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def _pinger(self) -> None:
        interval = self.hub.ping_interval
        while True:
            await asyncio.sleep(interval / 3)
            quiet = time.monotonic() - self.last_pong
            if quiet >= 3 * interval:
                await self.close(4500, "SESSION_NOT_RELIABLE")
                return
            if quiet >= interval:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self.ws.ping()

    async def _refresher(self) -> None:
        """Re-run entity counts every refresh interval (server.ws.dynamic_page_link.refresh_interval, 60 s)."""
        while True:
            await asyncio.sleep(self.hub.refresh_interval)
            for sub in list(self.subs.values()):
                if isinstance(sub, ws_subs.CountSub) and self.user is not None:
                    with contextlib.suppress(Failure):
                        for message in sub.refresh(self.store, self.user):
                            self.send(message)

    def send(self, message: dict[str, Any]) -> None:
        if self.closing:
            return
        if self.outbox.qsize() >= self.hub.max_pending:
            self.closing = True
            self.hub.sessions.discard(self)
            self._closer = asyncio.ensure_future(
                self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"Max pending updates limit reached!")
            )
            return
        self.outbox.put_nowait(json.dumps(message, separators=(",", ":")))

    # --- commands -----------------------------------------------------------------------------------------

    async def _text(self, text: str) -> None:
        try:
            payload = json.loads(text)
            if not isinstance(payload, dict):
                raise _ParseError
            commands = self._legacy_commands(payload) if self.legacy else self._commands(payload)
        except (ValueError, _ParseError):
            if self.user is None:
                await self.close(WSCloseCode.INVALID_TEXT, "Failed to parse the payload")
            else:
                self.send(PARSE_ERROR)
            return
        if self.user is None:
            auth = payload.get("authCmd") if isinstance(payload.get("authCmd"), dict) else None
            if auth is None:
                await self.close(WSCloseCode.POLICY_VIOLATION, "Auth cmd is missing")
                return
            api_key = auth.get("apiKey") if isinstance(auth.get("apiKey"), str) and not auth.get("token") else None
            if not await self._authenticate(str(auth.get("token") or ""), url_code=False, api_key=api_key):
                return
        for cmd in commands:
            if not self.closing:
                await self._run_command(cmd)

    def _commands(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        if set(payload) - {"authCmd", "cmds"}:
            raise _ParseError
        commands = payload.get("cmds") or []
        for cmd in commands:
            if not isinstance(cmd, dict) or cmd.get("type") not in _FIELDS or set(cmd) - _FIELDS[cmd["type"]]:
                raise _ParseError
        return commands

    def _legacy_commands(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        names = dict(_LEGACY)
        if set(payload) - set(names):
            raise _ParseError
        commands = []
        for field, kind in _LEGACY:
            for cmd in payload.get(field) or []:
                if kind is not None:
                    commands.append(dict(cmd, type=kind))
        return commands

    async def _run_command(self, cmd: dict[str, Any]) -> None:
        cmd_id = cmd.get("cmdId")
        if not isinstance(cmd_id, int):
            self.send(ws_subs.ts_error(0, 2, "Cmd id is empty!"))
            return
        if cmd_id < 0:
            self.send(ws_subs.ts_error(cmd_id, 2, "Cmd id is negative value!"))
            return
        kind = cmd["type"]
        try:
            if kind == "ENTITY_DATA":
                await self._entity_data(cmd_id, cmd)
            elif kind == "ENTITY_COUNT":
                if cmd_id not in self.subs:  # a second ENTITY_COUNT with the same cmdId is ignored
                    counter = ws_subs.CountSub(cmd_id, cmd.get("query") or {})
                    for message in counter.refresh(self.store, self.user):
                        self.send(message)
                    self.subs[cmd_id] = counter
            elif kind in ("ENTITY_DATA_UNSUBSCRIBE", "ENTITY_COUNT_UNSUBSCRIBE"):
                self.subs.pop(cmd_id, None)
            else:
                self._plain(cmd_id, kind, cmd)
        except Failure as exc:
            self.send(ws_subs.ts_error(cmd_id, 2 if exc.status == 400 else 1, exc.message))

    async def _entity_data(self, cmd_id: int, cmd: dict[str, Any]) -> None:
        sub = self.subs.get(cmd_id)
        if sub is None:
            if cmd.get("query") is None:
                if any(cmd.get(n) is not None for n in ("latestCmd", "tsCmd", "historyCmd")):
                    await self.close(1012, "SERVICE_RESTARTED")  # pitfall 29: sub-command before any query
                    return
                raise Failure(400, "Query is empty!", 2)
            sub = ws_subs.EntityDataSub(cmd_id)
        for message in sub.apply(self.store, self.user, cmd):
            self.send(message)
        self.subs[cmd_id] = sub

    def _plain(self, cmd_id: int, kind: str, cmd: dict[str, Any]) -> None:
        entity_id = str(cmd.get("entityId") or "")
        if cmd.get("unsubscribe"):
            if entity_id:
                self.subs.pop(cmd_id, None)
            else:  # an empty entityId cancels everything (pitfall 23)
                self.subs.clear()
            return
        if kind == "TIMESERIES_HISTORY":
            if not entity_id:
                raise Failure(400, "Device id is empty!", 2)
            if not cmd.get("keys"):
                raise Failure(400, "Keys are empty!", 2)
        failure = "Failed to fetch attributes!" if kind == "ATTRIBUTES" else "Failed to fetch data!"
        device = self.store.devices.get(entity_id)
        if device is None or not self.store.can_see_device(self.user, device):
            self.send(ws_subs.ts_error(cmd_id, 1, failure))
            return
        keys = cmd.get("keys")
        if kind == "ATTRIBUTES":
            sub: Any = ws_subs.AttributesSub(cmd_id, entity_id, keys.split(",") if keys else None, cmd.get("scope"))
        elif kind == "TIMESERIES":
            sub = ws_subs.TimeseriesSub(cmd_id, entity_id, cmd)
        else:
            end = int(cmd.get("endTs") or 0)
            found = ws_subs.window(self.store, entity_id, keys.split(","), cmd, end)
            data = {key: [(p["ts"], p["value"]) for p in points] for key, points in found.items()}
            self.send(ws_subs.ts_reply(cmd_id, data))
            return
        for message in sub.first(self.store):
            self.send(message)
        self.subs[cmd_id] = sub

    def changed(self, entity_id: str, kind: str, scope: str | None, values: dict, deleted: bool) -> None:
        for sub in list(self.subs.values()):
            for message in sub.changed(entity_id, kind, scope, values, deleted):
                self.send(message)


HUB_KEY: web.AppKey[Hub] = web.AppKey("ws_hub", Hub)


def setup(app: web.Application, store: Any, options: Any) -> None:
    """Register the WebSocket routes on the emulator's app (called by `create_app`)."""
    hub = Hub(store, options)
    app[HUB_KEY] = hub
    app.router.add_get("/api/ws", hub.handle)
    app.router.add_get("/api/ws/plugins/telemetry", hub.handle)
    app.on_shutdown.append(hub.shutdown)
