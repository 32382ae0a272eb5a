"""Live telemetry: one WebSocket per client (`tb.telemetry`), shared by every `TelemetrySubscriber` (reference §7).

The connection is a loop the reader can follow (websockets' `connect` loop, STYLE §5):

    connect (fresh JWT in authCmd) -> resubscribe everyone with fresh cmdIds -> read until the socket drops
        -> wait (capped, jittered backoff; reset after the first message) -> connect again ...

After a reconnect each ENTITY_DATA time-series subscription holds its live updates back, fetches the gap by REST
history from the last point it delivered, delivers that as one `backfill` update and then releases the held updates;
a high-water mark per (entity, key) (`ws_commands.GapTracker`) makes every point arrive exactly once, in order.
The socket opens on the first subscriber and closes `idle_timeout` seconds after the last one leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import msgspec
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from console.errors import ApiError, AuthenticationError, error_from_transport
from console.thingsboard.ws_commands import (
    SubscriptionBook,
    WsCommand,
    auth_command,
    build_frames,
    subscribe_wire,
    unsubscribe_wire,
)
from console.thingsboard.ws_messages import decode_envelope, error_of
from console.thingsboard.ws_reconnect import Backoff, CloseVerdict, describe_close
from console.thingsboard.ws_subscriber import TelemetrySubscriber

if TYPE_CHECKING:
    from console.thingsboard.models import EntityId
    from console.thingsboard.query import TsValue

__all__ = ["DEFAULT_IDLE_TIMEOUT", "ConnectionState", "TelemetryService", "TelemetrySubscriber"]

log = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT = 90.0  # seconds with no subscriber before the socket closes (the UI's rule, §9.2)

_LARGEST_ID = 2**31 - 1  # sizes frames as if the command id were as long as it can get
History = Callable[["EntityId", list[str], int, int], Awaitable[dict[str, list["TsValue"]]]]


class ConnectionState(msgspec.Struct, frozen=True, kw_only=True):
    """The socket's state for the status bar: connecting, open, reconnecting (attempt, delay), closed (reason)."""

    state: str
    attempt: int = 0
    delay: float = 0.0
    reason: str = ""
    warning: bool = False


class TelemetryService:
    """The WebSocket of one `ThingsboardClient`. Build it through `tb.telemetry`.

    `backoff` makes a fresh `Backoff` (inject short delays in tests); `history` fetches complete REST history
    for backfill (default: `tb.attributes.get_timeseries_history`).
    """

    def __init__(
        self,
        client: Any,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        backoff: Callable[[], Backoff] = Backoff,
        history: History | None = None,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
    ) -> None:
        self._client = client
        self.idle_timeout = idle_timeout
        self._backoff_factory = backoff
        self._history = history
        self._open_timeout = open_timeout
        self._ping_interval = ping_interval
        self._book: SubscriptionBook[TelemetrySubscriber] = SubscriptionBook()
        self._state = ConnectionState(state="closed")
        self._listeners: list[Callable[[ConnectionState], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._ws: Any = None
        self._outbox: asyncio.Queue[bytes] | None = None
        self._work: set[asyncio.Task[Any]] = set()
        self._idle: asyncio.TimerHandle | None = None
        self._stopping = False
        self._wake: asyncio.Event | None = None
        self._abort_reason = ""
        self._force_refresh = False
        self._closing: asyncio.Future[Any] | None = None

    # --- public surface -------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    @property
    def url(self) -> str:
        base = self._client.base_url
        scheme = "wss" if base.scheme == "https" else "ws"
        return str(base.copy_with(scheme=scheme).join("api/ws"))

    def on_state(self, callback: Callable[[ConnectionState], None]) -> Callable[[], None]:
        """Call `callback` on every state change; returns a function that removes it."""
        self._listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return remove

    async def close(self) -> None:
        """Close the socket now and end every subscriber's streams."""
        for subscriber in self._book.subscribers:
            self._book.remove(subscriber)
            subscriber._end(None)
        self._stop()
        task = self._task
        if task is not None and not task.done():
            # A connect that hangs (server unreachable) must not hold the caller for the whole open timeout.
            await asyncio.wait({task}, timeout=1.0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._state.state != "closed":
            self._set_state("closed", reason="Closed.")

    # --- called by TelemetrySubscriber (plain calls: work is scheduled on the running loop) -----------

    def _subscribe(self, subscriber: TelemetrySubscriber, commands: Iterable[WsCommand]) -> None:
        if subscriber in self._book:
            return
        commands = list(commands)
        # Refuse a command the server could never accept now, rather than retrying it forever (raises ApiError).
        build_frames([subscribe_wire(cmd, _LARGEST_ID) for cmd in commands])
        self._book.add(subscriber, commands)
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._outbox is not None and not self._stopping:
            issued = self._book.assign(subscriber)
            subscriber._on_resubscribe(issued)
            self._send([subscribe_wire(cmd, cmd_id) for cmd_id, cmd in issued])
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name="thingsboard-websocket")

    def _unsubscribe(self, subscriber: TelemetrySubscriber) -> None:
        issued = self._book.remove(subscriber)
        if self._outbox is not None and issued:
            self._send([unsubscribe_wire(cmd, cmd_id) for cmd_id, cmd in issued])
        if not len(self._book) and self._task is not None and not self._task.done():
            loop = asyncio.get_running_loop()
            if self._idle is not None:
                self._idle.cancel()
            self._idle = loop.call_later(self.idle_timeout, self._idle_expired)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        """Run connection-scoped work (a backfill); it is cancelled when the socket drops."""
        task = asyncio.ensure_future(coro)
        self._work.add(task)
        ws = self._ws
        task.add_done_callback(lambda done: self._work_done(done, ws))

    def _work_done(self, task: asyncio.Task[Any], ws: Any) -> None:
        self._work.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and ws is not None and ws is self._ws:  # not a newer connection's socket
            # A gap we could not fill must not be skipped: drop the socket and let the next reconnect retry it.
            self._abort_reason = f"Filling the gap after a reconnect failed: {getattr(error, 'message', error)}"
            if isinstance(error, ApiError):
                log.info("%s", self._abort_reason)
            else:
                log.warning("%s", self._abort_reason, exc_info=error)
            self._closing = asyncio.ensure_future(ws.close(code=1000, reason="backfill failed"))

    async def _fetch_history(self, entity_id: EntityId, keys: list[str], start_ts: int, end_ts: int) -> Any:
        if self._history is not None:
            return await self._history(entity_id, keys, start_ts, end_ts)
        return await self._client.attributes.get_timeseries_history(entity_id, keys, start_ts, end_ts)

    # --- the connection loop --------------------------------------------------------------------------

    def _set_state(self, state: str, **fields: Any) -> None:
        self._state = ConnectionState(state=state, **fields)
        for callback in list(self._listeners):
            try:
                callback(self._state)
            except Exception:  # a broken listener must not break the socket
                log.exception("connection-state listener failed")

    def _send(self, commands: list[dict[str, Any]], auth: dict[str, Any] | None = None) -> None:
        assert self._outbox is not None
        for frame in build_frames(commands, auth):
            self._outbox.put_nowait(frame)

    def _idle_expired(self) -> None:
        self._idle = None
        if not len(self._book):
            self._stop()

    def _stop(self) -> None:
        self._stopping = True
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._wake is not None:
            self._wake.set()
        if self._ws is not None:
            self._closing = asyncio.ensure_future(self._ws.close())

    async def _run(self) -> None:
        backoff = self._backoff_factory()
        self._wake = asyncio.Event()
        reason = ""
        while True:
            if self._stopping and not len(self._book):
                break
            self._stopping = False
            self._set_state("connecting", attempt=backoff.attempt)
            try:
                verdict = await self._connect_once(backoff)
            except AuthenticationError as exc:
                reason = exc.message
                for subscriber in self._book.subscribers:
                    self._book.remove(subscriber)
                    subscriber._end(exc)
                self._set_state("closed", reason=reason, warning=True)
                return
            except ApiError as exc:
                verdict = CloseVerdict(exc.message, False, False, False)
            if self._stopping:
                reason = "No live subscriptions."
                continue
            self._force_refresh = verdict.refresh_token
            delay = backoff.capped_delay() if verdict.slow_retry else backoff.next_delay()
            log.info("live connection: %s Reconnecting in %.1f s (#%d).", verdict.message, delay, backoff.attempt)
            self._set_state(
                "reconnecting", attempt=backoff.attempt, delay=delay, reason=verdict.message, warning=verdict.warning
            )
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
        self._set_state("closed", reason=reason)

    async def _connect_once(self, backoff: Backoff) -> CloseVerdict:
        """One connection's life; returns why it ended. Raises ApiError when no token can be had."""
        if self._force_refresh and self._client.api_key is None:
            # The server refused the token our clock still trusts (expired early, logged out): renew it.
            self._force_refresh = False
            await self._client.force_refresh()
        token = await self._client.ensure_token()  # refreshed before reopening, never sent stale
        auth = auth_command(token=token) if token else auth_command(api_key=self._client.api_key)
        self._abort_reason = ""
        url = self.url
        proxy = getattr(self._client, "proxy", None) or (True if getattr(self._client, "trust_env", True) else None)
        try:
            async with connect(
                url,
                ssl=self._client.ssl_context if url.startswith("wss") else None,
                proxy=proxy,
                open_timeout=self._open_timeout,
                ping_interval=self._ping_interval,
                max_size=None,
                compression=None,
            ) as ws:
                self._ws = ws
                if self._stopping:
                    return describe_close(1000)
                self._outbox = asyncio.Queue()
                wires: list[dict[str, Any]] = []
                for subscriber, issued in self._book.renew():
                    subscriber._on_resubscribe(issued)
                    wires.extend(subscribe_wire(cmd, cmd_id) for cmd_id, cmd in issued)
                self._send(wires, auth)
                self._set_state("open", attempt=backoff.attempt)
                writer = asyncio.ensure_future(self._write(ws, self._outbox))
                try:
                    await self._read(ws, backoff)
                finally:
                    writer.cancel()
        except ConnectionClosed as exc:
            close = exc.rcvd
            verdict = describe_close(close.code if close else None, close.reason if close else "")
        except (OSError, TimeoutError, EOFError, InvalidHandshake, InvalidURI) as exc:
            verdict = CloseVerdict(error_from_transport(exc, url).message, False, False, False)
        else:
            verdict = describe_close(1000)
        finally:
            self._ws = None
            self._outbox = None
            for task in list(self._work):
                task.cancel()
            for subscriber in self._book.subscribers:
                subscriber._on_disconnect()
        if self._abort_reason:
            return CloseVerdict(self._abort_reason, False, False, False)
        return verdict

    async def _write(self, ws: Any, outbox: asyncio.Queue[bytes]) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.send(await outbox.get(), text=True)

    async def _read(self, ws: Any, backoff: Backoff) -> None:
        first = True
        while True:
            raw = await ws.recv(decode=False)
            if first:
                backoff.reset()  # only a message proves the session works (auth is not acknowledged)
                first = False
            self._dispatch(raw)

    def _dispatch(self, raw: bytes) -> None:
        try:
            envelope = decode_envelope(raw)
        except msgspec.DecodeError:
            log.warning("ignored a WebSocket message that is not a ThingsBoard update")
            return
        route = envelope.route_id
        owner = self._book.owner(route) if route is not None else None
        if owner is None:
            return  # a late answer to a command of an older connection or an unsubscribed one
        subscriber, cmd = owner
        error = error_of(envelope)
        if error is not None:
            subscriber._on_error(error)
            return
        try:
            subscriber._on_message(route, cmd, envelope)
        except msgspec.DecodeError as exc:
            subscriber._on_error(ApiError(f"A live update could not be decoded: {exc}"))


def now_ms() -> int:
    return int(time.time() * 1000)
