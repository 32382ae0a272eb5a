"""Realtime over Server-Sent Events on httpx: `pb.realtime.subscribe(topic, callback)`.

Subscriptions are data (topic → callbacks), so every (re)connect simply re-POSTs them all. The protocol:
`GET /api/realtime` streams `PB_CONNECT` with a fresh client id, then `POST /api/realtime {clientId,
subscriptions}` replaces the client's topic list. The server closes idle streams after 5 min and every stream
after 30 min and never replays missed events, so a clean end of stream is a disconnect like any error:
reconnect with jittered backoff, resubscribe, and tell `on_connect` listeners (`reconnected=True`) so views
refetch. A change of auth tears the stream down (the server refuses to switch a client's auth).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import msgspec

from console.errors import ApiError, NotFoundError, error_from_response, error_from_transport, is_transient
from console.pocketbase.models import RealtimeEvent, RecordModel, dec_hook

if TYPE_CHECKING:
    from console.pocketbase.client import PocketBase

__all__ = [
    "DEFAULT_RECONNECT_DELAYS",
    "EventCallback",
    "RealtimeService",
    "SSEEvent",
    "SSEParser",
    "Unsubscribe",
    "backoff_delays",
    "topic_key",
]

log = logging.getLogger(__name__)

EventCallback = Callable[[RealtimeEvent], Any]  # may return an awaitable; it is then run as a task
Unsubscribe = Callable[[], Awaitable[None]]
ConnectCallback = Callable[[bool], Any]  # reconnected?
DisconnectCallback = Callable[[list[str]], Any]  # the topics that were active

DEFAULT_RECONNECT_DELAYS: tuple[float, ...] = (0.2, 0.3, 0.5, 1.0, 1.2, 1.5, 2.0)
CONNECT_TOPIC = "PB_CONNECT"
_SUBMIT_ATTEMPTS = 3

_event_decoder = msgspec.json.Decoder(RealtimeEvent, dec_hook=dec_hook)


# --- the pure parts -------------------------------------------------------------------------------


class SSEEvent(msgspec.Struct, frozen=True, kw_only=True):
    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None


class SSEParser:
    """Line-by-line Server-Sent Events parser (WHATWG rules: `field:value`, blank line dispatches)."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id = ""
        self._retry: int | None = None

    def feed_line(self, line: str) -> SSEEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self._data and not self._event:
                return None
            event = SSEEvent(
                event=self._event or "message", data="\n".join(self._data), id=self._id, retry=self._retry
            )
            self._event, self._data, self._retry = "", [], None
            return event
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


def topic_key(
    topic: str,
    *,
    filter: str | None = None,
    expand: str | None = None,
    fields: str | None = None,
    query: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """The subscription string: the topic plus `?options=` (the server echoes it back as the event name)."""
    options_query = {**(query or {})}
    for name, value in (("filter", filter), ("expand", expand), ("fields", fields)):
        if value:
            options_query[name] = value
    if not options_query and not headers:
        return topic
    options: dict[str, Any] = {}
    if options_query:
        options["query"] = options_query
    if headers:
        options["headers"] = dict(headers)
    encoded = quote(json.dumps(options, separators=(",", ":"), sort_keys=True), safe="")
    return f"{topic}{'&' if '?' in topic else '?'}options={encoded}"


def backoff_delays(delays: tuple[float, ...] = DEFAULT_RECONNECT_DELAYS, jitter: float = 0.2) -> Iterator[float]:
    """Stepped delays with ±`jitter` spread, then the last step forever."""
    attempt = 0
    while True:
        base = delays[min(attempt, len(delays) - 1)]
        yield base * random.uniform(1 - jitter, 1 + jitter)
        attempt += 1


# --- the service ----------------------------------------------------------------------------------


class RealtimeService:
    """One SSE connection shared by every subscription of a client."""

    def __init__(self, client: PocketBase) -> None:
        self._client = client
        self._subscriptions: dict[str, list[EventCallback]] = {}
        self._client_id = ""
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._state_changed = asyncio.Event()
        self._failure: ApiError | None = None
        self._last_error: ApiError | None = None
        self._submit_lock = asyncio.Lock()
        self._ever_connected = False
        self._generation = 0  # counts PB_CONNECTs, so a stale client id can wait for the next one
        self._on_connect: list[ConnectCallback] = []
        self._on_disconnect: list[DisconnectCallback] = []
        self._callback_tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.reconnect_delays = DEFAULT_RECONNECT_DELAYS
        self.connect_timeout = 15.0
        self.idle_timeout = 330.0  # the server closes a silent stream after 300 s
        self._identity = self._auth_identity()
        self._remove_auth_listener = client.auth_store.on_change(self._on_auth_change)

    # --- state ----------------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self._client_id

    @property
    def is_connected(self) -> bool:
        return self._connected.is_set()

    @property
    def topics(self) -> list[str]:
        return list(self._subscriptions)

    def on_connect(self, callback: ConnectCallback) -> Callable[[], None]:
        """`callback(reconnected)` after each connect once topics are resubmitted: refetch on `True`."""
        self._on_connect.append(callback)
        return lambda: self._on_connect.remove(callback) if callback in self._on_connect else None

    def on_disconnect(self, callback: DisconnectCallback) -> Callable[[], None]:
        """`callback(active_topics)` when the stream drops (or `[]` after the last unsubscribe)."""
        self._on_disconnect.append(callback)
        return lambda: self._on_disconnect.remove(callback) if callback in self._on_disconnect else None

    # --- subscribing ----------------------------------------------------------------------------

    async def subscribe(
        self,
        topic: str,
        callback: EventCallback,
        *,
        filter: str | None = None,
        expand: str | None = None,
        fields: str | None = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Unsubscribe:
        """Listen to `topic` (`"devices/*"`, `"devices/<id>"`); returns once the server has the subscription."""
        if self._closed:
            raise ApiError("The realtime connection was closed.", url=self._url)
        key = topic_key(topic, filter=filter, expand=expand, fields=fields, query=query, headers=headers)
        listeners = self._subscriptions.setdefault(key, [])
        listeners.append(callback)
        try:
            await self._make_live()
        except BaseException:
            self._remove_listener(key, callback)
            if not self._subscriptions:
                await self._stop_connection(notify=False)
            raise

        async def unsubscribe() -> None:
            if self._remove_listener(key, callback):
                await self._after_removal()

        return unsubscribe

    async def unsubscribe(self, topic: str | None = None) -> None:
        """Drop every listener of `topic` (any options), or every subscription when `topic` is None."""
        if topic is None:
            keys = list(self._subscriptions)
        else:
            keys = [k for k in self._subscriptions if k == topic or k.startswith(f"{topic}?")]
        if not keys:
            return
        for key in keys:
            self._subscriptions.pop(key, None)
        await self._after_removal()

    async def unsubscribe_by_prefix(self, prefix: str) -> None:
        keys = [k for k in self._subscriptions if k.startswith(prefix)]
        if not keys:
            return
        for key in keys:
            self._subscriptions.pop(key, None)
        await self._after_removal()

    async def close(self) -> None:
        """Drop all subscriptions and the stream (called by `PocketBase.close()`)."""
        self._closed = True
        self._remove_auth_listener()
        self._subscriptions.clear()
        await self._stop_connection(notify=False)
        for task in list(self._callback_tasks):
            task.cancel()

    # --- internals ------------------------------------------------------------------------------

    @property
    def _url(self) -> str:
        return f"{self._client.base_url}/api/realtime"

    def _remove_listener(self, key: str, callback: EventCallback) -> bool:
        listeners = self._subscriptions.get(key)
        if not listeners or callback not in listeners:
            return False
        listeners.remove(callback)
        if not listeners:
            del self._subscriptions[key]
        return True

    async def _after_removal(self) -> None:
        if not self._subscriptions:
            await self._stop_connection(notify=True)
        elif self.is_connected:
            with contextlib.suppress(ApiError):  # a dropped stream resubmits the right list on reconnect
                await self._submit()

    async def _make_live(self) -> None:
        """Connect if needed, then make sure the server holds the current topic list."""
        for attempt in range(_SUBMIT_ATTEMPTS):
            if self._task is None or self._task.done():
                self._failure = None
                self._task = asyncio.create_task(self._run(), name="pocketbase-realtime")
            await self._wait_connected()
            generation = self._generation
            try:
                await self._submit()
                return
            except NotFoundError:  # the client id died with a dropped stream; wait for the next PB_CONNECT
                if attempt == _SUBMIT_ATTEMPTS - 1:
                    raise
                await self._wait_for_new_connection(generation)

    async def _wait_for_new_connection(self, generation: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        while self._generation == generation and self._task is not None and not self._task.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return  # _wait_connected / _submit will report what is wrong
            self._state_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._state_changed.wait(), remaining)

    async def _wait_connected(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        while not self._connected.is_set():
            if self._failure is not None:
                raise self._failure
            if self._task is None or self._task.done():
                raise ApiError("The realtime connection stopped.", url=self._url)
            remaining = deadline - loop.time()
            if remaining <= 0:
                if self._last_error is not None:  # say why (e.g. "connection refused"), not just "timed out"
                    raise self._last_error
                raise error_from_transport(httpx.ConnectTimeout("no PB_CONNECT in time"), self._url)
            self._state_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._state_changed.wait(), remaining)

    async def _submit(self) -> None:
        async with self._submit_lock:
            if not self._client_id:
                raise NotFoundError("The realtime client is not connected.", url=self._url, status=404)
            await self._client.send(
                "/api/realtime",
                method="POST",
                body={
                    "clientId": self._client_id,
                    "subscriptions": [topic for topic in self._subscriptions if topic != CONNECT_TOPIC],
                },
            )

    def _signal(self) -> None:
        self._state_changed.set()

    async def _stop_connection(self, *, notify: bool) -> None:
        task, self._task = self._task, None
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._client_id = ""
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._ever_connected = False
        self._signal()
        if notify and was_connected:
            self._fire(self._on_disconnect, [])

    def _auth_identity(self) -> tuple[Any, Any]:
        claims = self._client.auth_store.claims
        return claims.get("collectionId"), claims.get("id")

    def _on_auth_change(self, token: str, record: RecordModel | None) -> None:
        """The server refuses to switch a live client's auth: start a fresh stream when the signed-in record changes.

        A refreshed token of the same record needs nothing (the server compares records, not token strings).
        """
        identity = self._auth_identity()
        changed, self._identity = identity != self._identity, identity
        if not changed or self._task is None or self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # changed from outside the loop: the stream's next submit fails and reconnects
            return
        self._task.cancel()
        self._connected.clear()
        self._client_id = ""
        self._signal()
        self._task = loop.create_task(self._run(), name="pocketbase-realtime")

    async def _run(self) -> None:
        delays = backoff_delays(self.reconnect_delays)
        while self._subscriptions and not self._closed:
            reason = "the server closed the stream"
            try:
                connected = await self._stream_once()
                if connected:
                    delays = backoff_delays(self.reconnect_delays)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure becomes a readable ApiError; the loop decides
                error = exc if isinstance(exc, ApiError) else error_from_transport(exc, self._url)
                reason = error.message
                self._last_error = error
                if not is_transient(error) and not self._ever_connected:
                    log.warning("realtime connection refused: %s", error.message)
                    self._failure = error
                    self._signal()
                    return
            was_connected = self._connected.is_set()
            self._connected.clear()
            self._client_id = ""
            self._signal()
            if was_connected:
                log.info("realtime stream dropped (%s); reconnecting", reason)
                self._fire(self._on_disconnect, list(self._subscriptions))
            if not self._subscriptions:
                return
            await asyncio.sleep(next(delays))

    async def _stream_once(self) -> bool:
        """One SSE connection, until it ends; True when it got as far as PB_CONNECT."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store", "Accept-Language": self._client.lang}
        timeout = httpx.Timeout(self.connect_timeout, read=self.idle_timeout)
        connected = False
        async with self._client._http.stream("GET", self._url, headers=headers, timeout=timeout) as response:
            if response.status_code >= 400:
                body = await response.aread()
                raise error_from_response(
                    response.status_code,
                    body,
                    url=self._url,
                    content_type=response.headers.get("content-type", ""),
                    headers=response.headers,
                )
            parser = SSEParser()
            async for line in response.aiter_lines():
                event = parser.feed_line(line)
                if event is None:
                    continue
                if event.event == CONNECT_TOPIC:
                    await self._handle_connect(event)
                    connected = True
                else:
                    self._dispatch(event)
        return connected

    async def _handle_connect(self, event: SSEEvent) -> None:
        try:
            self._client_id = str(json.loads(event.data).get("clientId") or event.id)
        except (ValueError, AttributeError):
            self._client_id = event.id
        reconnected = self._ever_connected
        await self._submit()
        self._last_error = None
        self._ever_connected = True
        self._generation += 1
        self._connected.set()
        self._signal()
        self._fire(self._on_connect, reconnected)
        for callback in list(self._subscriptions.get(CONNECT_TOPIC, ())):
            self._call(callback, RealtimeEvent(action="connect", topic=CONNECT_TOPIC))

    def _dispatch(self, event: SSEEvent) -> None:
        listeners = self._subscriptions.get(event.event)
        if not listeners:
            return
        try:
            decoded = _event_decoder.decode(event.data)
        except msgspec.DecodeError:
            log.warning("realtime: undecodable message on %s", event.event.split("?")[0])
            return
        decoded = msgspec.structs.replace(decoded, topic=event.event)
        for callback in list(listeners):
            self._call(callback, decoded)

    def _call(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            result = callback(*args)
        except Exception:
            log.exception("realtime callback %r failed", callback)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._callback_tasks.add(task)
            task.add_done_callback(self._callback_done)

    def _callback_done(self, task: asyncio.Task[Any]) -> None:
        self._callback_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("realtime callback failed", exc_info=task.exception())

    def _fire(self, callbacks: list[Any], argument: Any) -> None:
        for callback in list(callbacks):
            self._call(callback, argument)
