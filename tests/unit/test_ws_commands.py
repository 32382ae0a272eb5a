"""The socket-free rules of the live connection: wire form, frames, ids, gap arithmetic, backoff, close codes."""

from __future__ import annotations

import json

import pytest

from console.errors import ApiError
from console.thingsboard.ws_commands import (
    MAX_COMMANDS_PER_FRAME,
    MAX_FRAME_BYTES,
    AttributesSubscriptionCmd,
    EntityCountCmd,
    EntityDataCmd,
    GapRequest,
    GapTracker,
    LatestValueCmd,
    SubscriptionBook,
    TimeSeriesCmd,
    TimeseriesSubscriptionCmd,
    auth_command,
    build_frames,
    subscribe_wire,
    unsubscribe_wire,
)

QUERY = {"entityFilter": {"type": "entityType", "entityType": "DEVICE"}, "pageLink": {"page": 0, "pageSize": 10}}


def test_entity_data_cmd_wire_form_matches_reference():
    cmd = EntityDataCmd(
        query=QUERY,
        latest_cmd=LatestValueCmd(keys=[{"type": "TIME_SERIES", "key": "temperature"}]),
        ts_cmd=TimeSeriesCmd(keys=["temperature"], start_ts=1000, time_window=60_000),
    )
    wire = subscribe_wire(cmd, 7)
    assert wire["type"] == "ENTITY_DATA"
    assert wire["cmdId"] == 7
    assert wire["query"] == QUERY
    assert wire["latestCmd"] == {"keys": [{"type": "TIME_SERIES", "key": "temperature"}]}
    assert wire["tsCmd"]["keys"] == ["temperature"]
    assert wire["tsCmd"]["startTs"] == 1000 and wire["tsCmd"]["timeWindow"] == 60_000
    assert "historyCmd" not in wire  # unset sub-commands are left out, not sent as null


def test_legacy_family_keys_are_a_comma_string_and_unsubscribe_keeps_entity_id():
    cmd = TimeseriesSubscriptionCmd(entity_id="dev-1", keys=["a", "b"], scope="LATEST_TELEMETRY")
    wire = subscribe_wire(cmd, 3)
    assert wire == {
        "type": "TIMESERIES",
        "entityType": "DEVICE",
        "entityId": "dev-1",
        "keys": "a,b",
        "scope": "LATEST_TELEMETRY",
        "cmdId": 3,
    }
    gone = unsubscribe_wire(cmd, 3)
    assert gone["unsubscribe"] is True and gone["entityId"] == "dev-1" and gone["cmdId"] == 3
    attrs = AttributesSubscriptionCmd(entity_id="dev-1")
    assert "keys" not in subscribe_wire(attrs, 1)  # omitted means all keys
    with pytest.raises(ValueError):
        unsubscribe_wire(AttributesSubscriptionCmd(entity_id=""), 1)


def test_new_family_unsubscribe_commands():
    assert unsubscribe_wire(EntityDataCmd(query=QUERY), 4) == {"type": "ENTITY_DATA_UNSUBSCRIBE", "cmdId": 4}
    assert unsubscribe_wire(EntityCountCmd(query=QUERY), 5) == {"type": "ENTITY_COUNT_UNSUBSCRIBE", "cmdId": 5}


def test_auth_command_token_or_api_key():
    assert auth_command(token="jwt") == {"cmdId": 0, "token": "jwt"}
    assert auth_command(api_key="k") == {"cmdId": 0, "apiKey": "k"}
    with pytest.raises(ValueError):
        auth_command()


def test_frames_hold_at_most_ten_commands_and_auth_rides_in_the_first():
    commands = [subscribe_wire(EntityDataCmd(query=QUERY), i) for i in range(1, 24)]
    frames = build_frames(commands, auth_command(token="jwt"))
    decoded = [json.loads(frame) for frame in frames]
    assert [len(frame["cmds"]) for frame in decoded] == [10, 10, 3]
    assert decoded[0]["authCmd"] == {"cmdId": 0, "token": "jwt"}
    assert all("authCmd" not in frame for frame in decoded[1:])
    assert [cmd["cmdId"] for frame in decoded for cmd in frame["cmds"]] == list(range(1, 24))
    assert MAX_COMMANDS_PER_FRAME == 10


def test_frames_split_by_size_under_32_kb():
    big_query = dict(QUERY, entityFilter={"type": "entityList", "entityType": "DEVICE", "entityList": ["x" * 36] * 250})
    commands = [subscribe_wire(EntityDataCmd(query=big_query), i) for i in range(1, 9)]
    frames = build_frames(commands, auth_command(token="jwt"))
    assert len(frames) > 1
    assert all(len(frame) <= MAX_FRAME_BYTES for frame in frames)
    assert sum(len(json.loads(frame)["cmds"]) for frame in frames) == 8


def test_auth_alone_and_oversized_command():
    assert json.loads(build_frames([], auth_command(token="jwt"))[0]) == {"authCmd": {"cmdId": 0, "token": "jwt"}}
    assert build_frames([]) == []
    huge = subscribe_wire(EntityDataCmd(query={"textSearch": "x" * MAX_FRAME_BYTES}), 1)
    with pytest.raises(ApiError, match="too large"):
        build_frames([huge])


def test_book_gives_fresh_ids_on_every_connection_and_forgets_old_ones():
    book: SubscriptionBook[str] = SubscriptionBook()
    a_cmds = [EntityDataCmd(query=QUERY), EntityCountCmd(query=QUERY)]
    book.add("a", a_cmds)
    book.add("b", [EntityDataCmd(query=QUERY)])
    first = book.renew()
    assert [(sub, [cid for cid, _ in pairs]) for sub, pairs in first] == [("a", [1, 2]), ("b", [3])]
    assert book.owner(2) == ("a", a_cmds[1])
    removed = book.remove("a")
    assert [cid for cid, _ in removed] == [1, 2]
    assert book.owner(1) is None and "a" not in book
    second = book.renew()
    assert [(sub, [cid for cid, _ in pairs]) for sub, pairs in second] == [("b", [1])]
    book.add("c", [EntityDataCmd(query=QUERY)])
    assert [cid for cid, _ in book.assign("c")] == [2]
    assert book.ids_of("c") == [2] and len(book) == 2


def _ts(point):
    return point[0]


def test_gap_tracker_delivers_each_point_once_in_order():
    gaps = GapTracker(floor_ts=100)
    assert gaps.accept("e", "t", [(130, "c"), (110, "a"), (120, "b")], _ts) == [(110, "a"), (120, "b"), (130, "c")]
    # REST backfill overlapping what the socket already delivered, with one new point and a duplicate
    assert gaps.accept("e", "t", [(120, "b"), (130, "c"), (140, "d"), (140, "d")], _ts) == [(140, "d")]
    assert gaps.accept("e", "t", [(135, "late")], _ts) == []
    assert gaps.last("e", "t") == 140
    assert gaps.accept("e", "h", [(50, "old")], _ts) == [(50, "old")]  # first point of a key: nothing to compare


def test_gap_plan_starts_after_the_last_point_or_at_the_floor():
    gaps = GapTracker(floor_ts=1000)
    gaps.accept("e1", "t", [(1500, "x")], _ts)
    gaps.accept("e1", "h", [(1500, "y")], _ts)
    gaps.accept("e2", "t", [(1200, "z")], _ts)
    plan = gaps.plan(["e1", "e2"], ["t", "h"])
    assert plan == [
        GapRequest("e1", ("t", "h"), 1501),
        GapRequest("e2", ("h",), 1000),
        GapRequest("e2", ("t",), 1201),
    ]


class _P:
    def __init__(self, ts: int) -> None:
        self.ts = ts


def test_accept_series_filters_each_key_and_drops_empty_ones():
    gaps = GapTracker()
    first = gaps.accept_series("e", {"t": [_P(5)], "h": [_P(7), _P(3)], "x": []})
    assert {key: [p.ts for p in points] for key, points in first.items()} == {"t": [5], "h": [3, 7]}
    again = gaps.accept_series("e", {"t": [_P(5)], "h": [_P(8)]})
    assert {key: [p.ts for p in points] for key, points in again.items()} == {"h": [8]}
