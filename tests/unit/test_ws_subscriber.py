"""TelemetrySubscriber without a socket: first page, dedupe, resync after a reconnect with held updates and backfill."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from console.errors import ApiError
from console.thingsboard.query import TsValue
from console.thingsboard.ws_commands import (
    EntityCountCmd,
    EntityDataCmd,
    TimeSeriesCmd,
    TimeseriesSubscriptionCmd,
)
from console.thingsboard.ws_messages import decode_envelope, error_of
from console.thingsboard.ws_subscriber import TelemetrySubscriber

DEVICE = "3f8d2c1e-0000-11ee-8000-000000000001"


class FakeService:
    """Stands in for TelemetryService: records spawned work and answers REST history from a list of points."""

    def __init__(self, history: dict[str, list[tuple[int, str]]] | None = None) -> None:
        self.history = history or {}
        self.tasks: list[asyncio.Task[Any]] = []
        self.calls: list[tuple[str, list[str], int]] = []

    def _subscribe(self, subscriber: Any, commands: Any) -> None:
        pass

    def _unsubscribe(self, subscriber: Any) -> None:
        pass

    def _spawn(self, coro: Any) -> None:
        self.tasks.append(asyncio.ensure_future(coro))

    async def _fetch_history(self, entity_id: Any, keys: list[str], start_ts: int, end_ts: int) -> Any:
        self.calls.append((getattr(entity_id, "id", entity_id), keys, start_ts))
        return {
            key: [TsValue(ts, value) for ts, value in self.history.get(key, []) if start_ts <= ts < end_ts]
            for key in keys
        }


def entity(points: list[tuple[int, str]] | None, latest: tuple[int, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"entityId": {"entityType": "DEVICE", "id": DEVICE}, "latest": None, "timeseries": None}
    if points is not None:
        body["timeseries"] = {"temperature": [{"ts": ts, "value": v} for ts, v in points]}
    if latest is not None:
        body["latest"] = {"TIME_SERIES": {"temperature": {"ts": latest[0], "value": latest[1]}}}
    return body


def page_frame(cmd_id: int, points: list[tuple[int, str]]) -> Any:
    page = {"data": [entity(points)], "totalPages": 1, "totalElements": 1, "hasNext": False}
    return decode_envelope(json.dumps({"cmdId": cmd_id, "errorCode": 0, "cmdUpdateType": "ENTITY_DATA",
                                       "data": page, "update": None}).encode())


def update_frame(cmd_id: int, points: list[tuple[int, str]], latest: tuple[int, str] | None = None) -> Any:
    return decode_envelope(json.dumps({"cmdId": cmd_id, "errorCode": 0, "cmdUpdateType": "ENTITY_DATA",
                                       "data": None, "update": [entity(points, latest)]}).encode())


def drain(stream: Any) -> list[Any]:
    items = []
    while not stream._queue.empty():
        items.append(stream._queue.get_nowait())
    return items


def points_of(update: Any) -> list[int]:
    entities = update.data.data if update.data is not None else update.update
    return [p.ts for e in entities for p in e.timeseries.get("temperature", [])]


async def test_first_page_ascending_then_live_points_once():
    cmd = EntityDataCmd(query={}, ts_cmd=TimeSeriesCmd(keys=["temperature"], start_ts=1000, time_window=10_000))
    sub = TelemetrySubscriber(FakeService(), [cmd])  # type: ignore[arg-type]
    stream = sub.entity_data_stream
    sub._on_resubscribe([(1, cmd)])
    sub._on_message(1, cmd, page_frame(1, [(1200, "b"), (1100, "a")]))  # the server sends newest first
    sub._on_message(1, cmd, update_frame(1, [(1300, "c")]))
    sub._on_message(1, cmd, update_frame(1, [(1300, "c")]))  # duplicate: nothing new, nothing sent
    sub._on_message(1, cmd, update_frame(1, [(1250, "late")], latest=(1300, "c")))  # latest still goes out
    first, second, third = drain(stream)
    assert first.data is not None and points_of(first) == [1100, 1200]
    assert second.update is not None and points_of(second) == [1300]
    assert points_of(third) == [] and third.update[0].latest["TIME_SERIES"]["temperature"].ts == 1300


async def test_reconnect_holds_live_updates_until_the_gap_is_backfilled():
    history = {"temperature": [(1100, "a"), (1200, "b"), (1300, "c"), (1400, "d"), (1500, "e")]}
    service = FakeService(history)
    cmd = EntityDataCmd(query={}, ts_cmd=TimeSeriesCmd(keys=["temperature"], start_ts=1000, time_window=10_000))
    sub = TelemetrySubscriber(service, [cmd])  # type: ignore[arg-type]
    stream = sub.entity_data_stream
    sub._on_resubscribe([(1, cmd)])
    sub._on_message(1, cmd, page_frame(1, [(1200, "b"), (1100, "a")]))
    sub._on_message(1, cmd, update_frame(1, [(1300, "c")]))
    drain(stream)
    # the socket drops; points 1400 and 1500 are stored meanwhile; a new connection gives the command id 7
    sub._on_disconnect()
    sub._on_resubscribe([(7, cmd)])
    sub._on_message(7, cmd, page_frame(7, [(1500, "e"), (1400, "d"), (1300, "c")]))
    sub._on_message(7, cmd, update_frame(7, [(1600, "f")]))  # live before the backfill finished: held back
    assert drain(stream) == []
    await asyncio.gather(*service.tasks)
    backfill, live = drain(stream)
    assert backfill.backfill and backfill.cmd_id == 7 and points_of(backfill) == [1400, 1500]
    assert points_of(live) == [1600]
    assert service.calls == [(DEVICE, ["temperature"], 1301)]  # from just after the last delivered point


async def test_a_dropped_backfill_is_redone_on_the_next_connection():
    service = FakeService({"temperature": [(1100, "a"), (1400, "d")]})
    cmd = EntityDataCmd(query={}, ts_cmd=TimeSeriesCmd(keys=["temperature"], start_ts=1000, time_window=10_000))
    sub = TelemetrySubscriber(service, [cmd])  # type: ignore[arg-type]
    stream = sub.entity_data_stream
    sub._on_resubscribe([(1, cmd)])
    sub._on_message(1, cmd, page_frame(1, [(1100, "a")]))
    sub._on_disconnect()
    sub._on_resubscribe([(2, cmd)])
    sub._on_message(2, cmd, page_frame(2, [(1100, "a")]))
    service.tasks[0].cancel()  # the connection dropped again before the history arrived
    sub._on_disconnect()
    sub._on_resubscribe([(3, cmd)])
    sub._on_message(3, cmd, page_frame(3, [(1400, "d"), (1100, "a")]))
    await asyncio.gather(service.tasks[1])
    updates = drain(stream)
    assert [points_of(u) for u in updates] == [[1100], [1400]]


async def test_plain_timeseries_subscription_backfills_too():
    service = FakeService({"temperature": [(2000, "x"), (2100, "y")]})
    cmd = TimeseriesSubscriptionCmd(entity_id=DEVICE, keys=["temperature"], start_ts=1000, time_window=60_000)
    sub = TelemetrySubscriber(service, [cmd])  # type: ignore[arg-type]
    stream = sub.ts_data_stream
    sub._on_resubscribe([(1, cmd)])
    frame = decode_envelope(json.dumps({"subscriptionId": 1, "errorCode": 0,
                                        "data": {"temperature": [[2000, "x"]]}}).encode())
    sub._on_message(1, cmd, frame)
    sub._on_resubscribe([(2, cmd)])
    again = decode_envelope(json.dumps({"subscriptionId": 2, "errorCode": 0,
                                        "data": {"temperature": [[2100, "y"], [2000, "x"]]}}).encode())
    sub._on_message(2, cmd, again)
    await asyncio.gather(*service.tasks)
    first, backfill = drain(stream)
    assert [p.ts for p in first.data["temperature"]] == [2000]
    assert backfill.backfill and [p.ts for p in backfill.data["temperature"]] == [2100]


async def test_counts_errors_and_stream_end():
    cmd = EntityCountCmd(query={})
    sub = TelemetrySubscriber(FakeService(), [cmd])  # type: ignore[arg-type]
    counts, errors = sub.entity_count_stream, sub.error_stream
    sub._on_resubscribe([(4, cmd)])
    sub._on_message(4, cmd, decode_envelope(b'{"cmdId":4,"cmdUpdateType":"COUNT_DATA","count":42}'))
    failure = error_of(decode_envelope(b'{"subscriptionId":4,"errorCode":2,"errorMsg":"Query is empty!"}'))
    assert isinstance(failure, ApiError) and failure.error_code == 2 and "Query is empty!" in failure.message
    sub._on_error(failure)
    assert (await counts.__anext__()).count == 42
    assert await errors.__anext__() is failure  # errors are items of the error stream, not raised
    sub.unsubscribe()
    with pytest.raises(StopAsyncIteration):
        await counts.__anext__()
    with pytest.raises(StopAsyncIteration):
        await counts.__anext__()  # stays ended


def test_envelope_routes_by_family():
    entity_family = decode_envelope(b'{"cmdId":3,"subscriptionId":9,"cmdUpdateType":"ENTITY_DATA"}')
    assert entity_family.route_id == 3
    assert decode_envelope(b'{"subscriptionId":9,"data":{}}').route_id == 9
    assert error_of(decode_envelope(b'{"cmdId":3,"errorCode":0,"cmdUpdateType":"COUNT_DATA","count":1}')) is None
