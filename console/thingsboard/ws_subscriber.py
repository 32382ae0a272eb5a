"""`TelemetrySubscriber`: the seed's subscriber, with async-iterator streams and exactly-once time series.

    sub = TelemetrySubscriber(tb.telemetry, [EntityDataCmd(query=..., ts_cmd=TimeSeriesCmd(...))])
    stream = sub.entity_data_stream        # take the stream before subscribing
    sub.subscribe()
    async for update in stream: ...        # ends after sub.unsubscribe()

Each stream is a single-consumer queue, created on first access; messages for a stream nobody took are dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from console.errors import ApiError
from console.thingsboard.query import EntityData, TsValue
from console.thingsboard.ws_commands import (
    AttributesSubscriptionCmd,
    EntityCountCmd,
    EntityDataCmd,
    GapTracker,
    TimeseriesSubscriptionCmd,
    WsCommand,
)
from console.thingsboard.ws_messages import (
    EntityCountUpdate,
    EntityDataUpdate,
    Envelope,
    SubscriptionUpdate,
    decode_page,
    decode_pairs,
    decode_update,
)

if TYPE_CHECKING:
    from console.thingsboard.telemetry import TelemetryService

__all__ = ["TelemetrySubscriber", "UpdateStream"]

# Backfill asks REST for history up to this far past the local clock: a server clock running ahead of ours must
# not hide points that were stored before the resubscription went live (later ones arrive on the socket anyway).
BACKFILL_HORIZON_MS = 24 * 3600 * 1000

T = TypeVar("T")
_END = object()


class _Failed:
    """Ends a stream by raising `error` in the consumer (an item may itself be an exception: the error stream)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _ts(point: TsValue) -> int:
    return point.ts


class UpdateStream(Generic[T]):
    """An async iterator over one kind of update; it ends when the subscriber unsubscribes."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False

    def _put(self, item: Any) -> None:
        if not self._closed:
            self._queue.put_nowait(item)

    def _close(self, error: BaseException | None) -> None:
        if not self._closed:
            self._queue.put_nowait(_Failed(error) if error is not None else _END)
            self._closed = True

    def __aiter__(self) -> AsyncIterator[T]:
        return self

    async def __anext__(self) -> T:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)
            raise StopAsyncIteration
        if isinstance(item, _Failed):
            raise item.error
        return item


class _CmdState:
    """One command's delivery state: its current id, the gap marks, and updates held back during a resync."""

    def __init__(self, cmd: WsCommand) -> None:
        self.cmd = cmd
        self.cmd_id = 0
        self.ts_keys: list[str] = []
        floor = 0
        if isinstance(cmd, EntityDataCmd) and cmd.ts_cmd is not None:
            self.ts_keys, floor = list(cmd.ts_cmd.keys), cmd.ts_cmd.start_ts
        elif isinstance(cmd, TimeseriesSubscriptionCmd) and cmd.keys:
            self.ts_keys, floor = list(cmd.keys), cmd.start_ts
        self.gaps = GapTracker(floor_ts=floor)
        self.answered = False  # the server answered once: later connections must backfill
        self.resyncing = False
        self.backfilling = False
        self.held: list[Envelope] = []


class TelemetrySubscriber:
    """A set of commands that live as long as `subscribe()` ... `unsubscribe()`, across reconnects."""

    def __init__(self, service: TelemetryService, commands: Iterable[WsCommand]) -> None:
        self._service = service
        self.commands: list[WsCommand] = list(commands)
        self._states = {id(cmd): _CmdState(cmd) for cmd in self.commands}
        self._streams: dict[str, UpdateStream[Any]] = {}

    # --- the seed's API -------------------------------------------------------------------------------

    def subscribe(self) -> None:
        """Send the commands (now if the socket is open, else when it opens). Needs a running event loop."""
        self._service._subscribe(self, self.commands)

    def unsubscribe(self) -> None:
        """Cancel the commands on the server and end this subscriber's streams."""
        self._service._unsubscribe(self)
        self._end(None)

    @property
    def entity_data_stream(self) -> UpdateStream[EntityDataUpdate]:
        return self._stream("entity_data")

    @property
    def entity_count_stream(self) -> UpdateStream[EntityCountUpdate]:
        return self._stream("entity_count")

    @property
    def attribute_data_stream(self) -> UpdateStream[SubscriptionUpdate]:
        return self._stream("attributes")

    @property
    def ts_data_stream(self) -> UpdateStream[SubscriptionUpdate]:
        return self._stream("timeseries")

    @property
    def error_stream(self) -> UpdateStream[ApiError]:
        """Error replies of the server to these commands (they are not routed to the data streams)."""
        return self._stream("errors")

    def _stream(self, kind: str) -> UpdateStream[Any]:
        stream = self._streams.get(kind)
        if stream is None:
            stream = self._streams[kind] = UpdateStream()
        return stream

    def _emit(self, kind: str, item: Any) -> None:
        stream = self._streams.get(kind)
        if stream is not None:
            stream._put(item)

    def _end(self, error: BaseException | None) -> None:
        for stream in self._streams.values():
            stream._close(error)

    # --- called by the service ------------------------------------------------------------------------

    def _on_resubscribe(self, issued: list[tuple[int, WsCommand]]) -> None:
        for cmd_id, cmd in issued:
            state = self._states[id(cmd)]
            state.cmd_id = cmd_id
            if not state.gaps.floor_ts:  # a latest-values subscription: its gaps start when it was made
                state.gaps.floor_ts = int(time.time() * 1000)
            state.resyncing = state.answered and bool(state.ts_keys)
            state.backfilling = False
            state.held = []

    def _on_disconnect(self) -> None:
        for state in self._states.values():
            # Held updates are stored on the server: the next backfill fetches them again.
            state.held = []
            state.backfilling = False

    def _on_error(self, error: ApiError) -> None:
        self._emit("errors", error)

    def _on_message(self, cmd_id: int, cmd: WsCommand, envelope: Envelope) -> None:
        state = self._states[id(cmd)]
        if state.resyncing:
            if not state.backfilling and (isinstance(cmd, TimeseriesSubscriptionCmd) or envelope.has_page):
                # The resubscription's first answer: the server is live again, so the gap can be read now.
                state.backfilling = True
                self._service._spawn(self._backfill(state, envelope))
            else:
                state.held.append(envelope)
            return
        state.answered = True
        if isinstance(cmd, EntityDataCmd):
            self._entity_data(state, envelope)
        elif isinstance(cmd, EntityCountCmd):
            self._emit("entity_count", EntityCountUpdate(cmd_id=cmd_id, count=envelope.count or 0))
        elif isinstance(cmd, AttributesSubscriptionCmd):
            self._emit("attributes", SubscriptionUpdate(subscription_id=cmd_id, data=decode_pairs(envelope.data)))
        elif isinstance(cmd, TimeseriesSubscriptionCmd):
            data = self._keep_new_pairs(state, cmd.entity_id, decode_pairs(envelope.data))
            if data:
                self._emit("timeseries", SubscriptionUpdate(subscription_id=cmd_id, data=data))

    def _entity_data(self, state: _CmdState, envelope: Envelope) -> None:
        page = decode_page(envelope.data)
        if page is not None:
            for entity in page.data:
                self._keep_new(state, entity)
            self._emit(
                "entity_data",
                EntityDataUpdate(cmd_id=state.cmd_id, data=page, allowed_entities=envelope.allowed_entities),
            )
        changed = decode_update(envelope.update)
        if changed:
            kept = [entity for entity in changed if self._keep_new(state, entity) or entity.latest or entity.agg_latest]
            if kept:
                self._emit("entity_data", EntityDataUpdate(cmd_id=state.cmd_id, update=kept))

    @staticmethod
    def _keep_new(state: _CmdState, entity: EntityData) -> bool:
        """Reduce `entity.timeseries` to the points not delivered yet, ascending; True if any is left."""
        series = entity.timeseries
        if not series:
            return False
        fresh = entity.timeseries = state.gaps.accept_series(entity.entity_id.id, series)
        return bool(fresh)

    @staticmethod
    def _keep_new_pairs(state: _CmdState, entity_id: str, data: dict[str, list[TsValue]]) -> dict[str, list[TsValue]]:
        if not state.ts_keys:  # attribute-like latest subscription of all keys: no gap bookkeeping
            return data
        fresh = {}
        for key, points in data.items():
            real = [p for p in points if p.ts > 0 and p.value is not None]  # not "missing" or "deleted" markers
            kept = state.gaps.accept(entity_id, key, real, _ts)
            if kept:
                fresh[key] = kept
        return fresh

    async def _backfill(self, state: _CmdState, first: Envelope) -> None:
        """Fill the gap of every entity and key by REST, deliver it, then release the held updates."""
        end_ts = int(time.time() * 1000) + BACKFILL_HORIZON_MS
        cmd = state.cmd
        if isinstance(cmd, TimeseriesSubscriptionCmd):
            entities: list[Any] = [cmd.entity_id]
        else:
            page = decode_page(first.data)
            entities = [entity.entity_id for entity in page.data] if page is not None else []
        plans = [
            (entity, request)
            for entity in entities
            for request in state.gaps.plan([getattr(entity, "id", entity)], state.ts_keys)
        ]
        results = await asyncio.gather(
            *(self._service._fetch_history(_entity_ref(cmd, e), list(r.keys), r.start_ts, end_ts) for e, r in plans)
        )
        if not state.resyncing:
            return
        merged: dict[str, dict[str, list[TsValue]]] = {}
        for (entity, request), history in zip(plans, results, strict=True):
            series = merged.setdefault(getattr(entity, "id", entity), {})
            for key in request.keys:
                series.setdefault(key, []).extend(history.get(key, []))
        state.resyncing = False
        state.backfilling = False
        if isinstance(cmd, TimeseriesSubscriptionCmd):
            data = self._keep_new_pairs(state, cmd.entity_id, merged.get(cmd.entity_id, {}))
            data = _merge(data, self._keep_new_pairs(state, cmd.entity_id, decode_pairs(first.data)))
            if data:
                self._emit("timeseries", SubscriptionUpdate(subscription_id=state.cmd_id, data=data, backfill=True))
        else:
            page = decode_page(first.data)
            entries = []
            for entity in page.data if page is not None else []:
                # The first page's own window points are older than or equal to what REST returned.
                series = merged.get(entity.entity_id.id, {})
                for key, points in (entity.timeseries or {}).items():
                    series.setdefault(key, []).extend(points)
                entity.timeseries = series
                self._keep_new(state, entity)
                entries.append(entity)
            self._emit(
                "entity_data",
                EntityDataUpdate(
                    cmd_id=state.cmd_id, update=entries, allowed_entities=first.allowed_entities, backfill=True
                ),
            )
        held, state.held = state.held, []
        for envelope in held:
            self._on_message(state.cmd_id, cmd, envelope)


def _entity_ref(cmd: WsCommand, entity: Any) -> Any:
    """The entity id REST history wants: the page's EntityId, or one built from a plain subscription."""
    if isinstance(entity, str):
        from console.thingsboard.models import EntityId

        entity_type = getattr(cmd, "entity_type", "DEVICE")
        return EntityId(entity_type=str(getattr(entity_type, "value", entity_type)), id=entity)
    return entity


def _merge(first: dict[str, list[TsValue]], second: dict[str, list[TsValue]]) -> dict[str, list[TsValue]]:
    merged = {key: list(points) for key, points in first.items()}
    for key, points in second.items():
        merged.setdefault(key, []).extend(points)
    return merged
