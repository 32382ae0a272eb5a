"""WebSocket commands and the pure bookkeeping behind a socket that loses nothing (reference §7).

No I/O lives here, so every rule is tested without a socket:

- command types (the seed's `EntityDataCmd`, `TimeSeriesCmd`, ...) and their wire form (§7.3, §7.4);
- frames: the `authCmd` wrapper, at most 10 commands and 32 KB per frame (§7.2, pitfall 28);
- command ids and which subscriber owns which id on the current connection (fresh ids on every reconnect);
- gap arithmetic: a high-water mark per (entity, key) so each point is delivered once and in order, and the
  ranges to backfill by REST after a reconnect.

The reconnect policy (backoff, close codes) is in `ws_reconnect.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

import msgspec

from console.errors import ApiError

__all__ = [
    "MAX_COMMANDS_PER_FRAME",
    "MAX_FRAME_BYTES",
    "AttributesSubscriptionCmd",
    "EntityCountCmd",
    "EntityDataCmd",
    "EntityHistoryCmd",
    "GapRequest",
    "GapTracker",
    "LatestValueCmd",
    "SubscriptionBook",
    "TimeSeriesCmd",
    "TimeseriesSubscriptionCmd",
    "WsCommand",
    "auth_command",
    "build_frames",
    "subscribe_wire",
    "unsubscribe_wire",
]

MAX_COMMANDS_PER_FRAME = 10
MAX_FRAME_BYTES = 32 * 1024  # the server's inbound text limit; a bigger frame closes the session with 1009

_encode = msgspec.json.Encoder().encode


# --- sub-commands of ENTITY_DATA (§7.4) ------------------------------------------------------------


class TimeSeriesCmd(msgspec.Struct, rename="camel", kw_only=True):
    """Time-window data for `keys` plus live points: the first answer holds [start_ts, start_ts + time_window)."""

    keys: list[str]
    start_ts: int
    time_window: int
    interval: int = 1000
    limit: int = 1000
    agg: str = "NONE"
    fetch_latest_previous_point: bool = False


class LatestValueCmd(msgspec.Struct, rename="camel", kw_only=True):
    """Live latest values of these `EntityKey`s."""

    keys: list[Any]


class EntityHistoryCmd(msgspec.Struct, rename="camel", kw_only=True):
    """One-shot history in [start_ts, end_ts)."""

    keys: list[str]
    start_ts: int
    end_ts: int
    interval: int = 1000
    limit: int = 1000
    agg: str = "NONE"
    fetch_latest_previous_point: bool = False


# --- top-level commands (each gets a `type` and a per-connection `cmdId` on the wire) ---------------


class _Command(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True, tag_field="type"):
    pass


class EntityDataCmd(_Command, tag="ENTITY_DATA", kw_only=True):
    """An entity data query with optional live latest values, a live time window and one-shot history."""

    query: Any = None
    latest_cmd: LatestValueCmd | None = None
    ts_cmd: TimeSeriesCmd | None = None
    history_cmd: EntityHistoryCmd | None = None


class EntityCountCmd(_Command, tag="ENTITY_COUNT", kw_only=True):
    """How many entities an `EntityCountQuery` matches."""

    query: Any = None


class AttributesSubscriptionCmd(_Command, tag="ATTRIBUTES", kw_only=True):
    """Plain attribute subscription of one entity (`keys` None = all keys, `scope` None = all scopes)."""

    entity_type: Any = "DEVICE"
    entity_id: str
    keys: list[str] | None = None
    scope: str | None = None


class TimeseriesSubscriptionCmd(_Command, tag="TIMESERIES", kw_only=True):
    """Plain time-series subscription of one entity; `time_window` 0 starts from the latest values."""

    entity_type: Any = "DEVICE"
    entity_id: str
    keys: list[str] | None = None
    start_ts: int = 0
    time_window: int = 0
    interval: int = 1000
    limit: int = 0
    agg: str = "NONE"
    scope: str | None = None


WsCommand = EntityDataCmd | EntityCountCmd | AttributesSubscriptionCmd | TimeseriesSubscriptionCmd

_UNSUBSCRIBE_TYPE = {EntityDataCmd: "ENTITY_DATA_UNSUBSCRIBE", EntityCountCmd: "ENTITY_COUNT_UNSUBSCRIBE"}


def _entity_type_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def subscribe_wire(cmd: WsCommand, cmd_id: int) -> dict[str, Any]:
    """The JSON object of one command with its connection-scoped id."""
    if cmd_id < 0:
        raise ValueError("command ids are non-negative")
    wire: dict[str, Any] = msgspec.to_builtins(cmd)
    if isinstance(cmd, AttributesSubscriptionCmd | TimeseriesSubscriptionCmd):
        # The legacy family takes keys as one comma-separated string (§7.4).
        wire["entityType"] = _entity_type_name(cmd.entity_type)
        if cmd.keys is not None:
            wire["keys"] = ",".join(cmd.keys)
    wire["cmdId"] = cmd_id
    return wire


def unsubscribe_wire(cmd: WsCommand, cmd_id: int) -> dict[str, Any]:
    """How to cancel `cmd`: a `*_UNSUBSCRIBE` command, or the legacy command again with `unsubscribe: true`."""
    kind = _UNSUBSCRIBE_TYPE.get(type(cmd))
    if kind is not None:
        return {"type": kind, "cmdId": cmd_id}
    wire = subscribe_wire(cmd, cmd_id)
    if not wire.get("entityId"):
        # An empty entityId would cancel every subscription of the session (pitfall 23).
        raise ValueError("a plain subscription needs its entity id to be cancelled")
    wire["unsubscribe"] = True
    return wire


def auth_command(*, token: str | None = None, api_key: str | None = None) -> dict[str, Any]:
    """The `authCmd` of the first frame: a JWT, or an API key on 4.4+ servers."""
    if token:
        return {"cmdId": 0, "token": token}
    if api_key:
        return {"cmdId": 0, "apiKey": api_key}
    raise ValueError("the WebSocket needs a token or an API key")


def build_frames(commands: Sequence[dict[str, Any]], auth: dict[str, Any] | None = None) -> list[bytes]:
    """Pack commands into as few frames as the server accepts: ≤ 10 commands and < 32 KB each.

    `auth` rides in the first frame (alone when there is nothing else to send). Raises `ApiError` when one
    command on its own is too large, since no split could make the server accept it.
    """
    head_first = b'{"authCmd":' + _encode(auth) + b',"cmds":[' if auth is not None else b'{"cmds":['
    frames: list[bytes] = []
    parts: list[bytes] = []
    head = head_first
    size = len(head) + 2
    for command in commands:
        part = _encode(command)
        if len(head) + len(part) + 2 > MAX_FRAME_BYTES:
            raise ApiError(
                f"A subscription command is too large for the server ({len(part)} bytes; "
                f"the limit is {MAX_FRAME_BYTES // 1024} KB per message). Subscribe to fewer keys or entities."
            )
        if parts and (len(parts) >= MAX_COMMANDS_PER_FRAME or size + 1 + len(part) > MAX_FRAME_BYTES):
            frames.append(head + b",".join(parts) + b"]}")
            head = b'{"cmds":['
            parts = []
            size = len(head) + 2
        size += len(part) + (1 if parts else 0)
        parts.append(part)
    if parts:
        frames.append(head + b",".join(parts) + b"]}")
    elif auth is not None:
        frames.append(b'{"authCmd":' + _encode(auth) + b"}")
    return frames


# --- which subscriber owns which command id on this connection ------------------------------------

S = TypeVar("S", bound=Hashable)


class SubscriptionBook(Generic[S]):
    """Subscriptions as data: subscribers keep their commands; ids live only as long as one connection.

    After a reconnect `renew()` hands every live subscriber fresh ids, like the Angular UI and the Dart client
    (§9.1, §9.2); replies carrying an id from an older connection are ignored because `owner` no longer knows it.
    """

    def __init__(self) -> None:
        self._commands: dict[S, list[WsCommand]] = {}
        self._ids: dict[S, list[int]] = {}
        self._owners: dict[int, tuple[S, WsCommand]] = {}
        self._next_id = 1

    def __len__(self) -> int:
        return len(self._commands)

    def __contains__(self, subscriber: object) -> bool:
        return subscriber in self._commands

    @property
    def subscribers(self) -> list[S]:
        return list(self._commands)

    def add(self, subscriber: S, commands: Iterable[WsCommand]) -> None:
        if subscriber not in self._commands:
            self._commands[subscriber] = list(commands)

    def assign(self, subscriber: S) -> list[tuple[int, WsCommand]]:
        """Give `subscriber`'s commands ids on the current connection (the commands to send)."""
        issued = []
        for cmd in self._commands.get(subscriber, []):
            cmd_id = self._next_id
            self._next_id += 1
            self._owners[cmd_id] = (subscriber, cmd)
            self._ids.setdefault(subscriber, []).append(cmd_id)
            issued.append((cmd_id, cmd))
        return issued

    def renew(self) -> list[tuple[S, list[tuple[int, WsCommand]]]]:
        """A new connection: forget every id, then issue fresh ones for every live subscriber, in order."""
        self._ids.clear()
        self._owners.clear()
        self._next_id = 1
        return [(subscriber, self.assign(subscriber)) for subscriber in self._commands]

    def remove(self, subscriber: S) -> list[tuple[int, WsCommand]]:
        """Drop a subscriber; returns its (id, command) pairs on this connection, to unsubscribe them."""
        self._commands.pop(subscriber, None)
        pairs = []
        for cmd_id in self._ids.pop(subscriber, []):
            _, cmd = self._owners.pop(cmd_id)
            pairs.append((cmd_id, cmd))
        return pairs

    def owner(self, cmd_id: int) -> tuple[S, WsCommand] | None:
        return self._owners.get(cmd_id)

    def ids_of(self, subscriber: S) -> list[int]:
        return list(self._ids.get(subscriber, []))


# --- gap arithmetic ---------------------------------------------------------------------------------

P = TypeVar("P")


def _point_ts(point: Any) -> int:
    return point.ts


class GapRequest(NamedTuple):
    """Fetch `keys` of `entity_id` from `start_ts` on (inclusive) to fill what a dropped socket missed."""

    entity_id: str
    keys: tuple[str, ...]
    start_ts: int


class GapTracker:
    """A high-water mark per (entity, key): a point is delivered only if it is newer than the last one.

    That one rule makes delivery exactly-once and in order when the same points arrive twice (REST backfill
    overlapping the live tail, a resubscription's first page) and after any number of reconnects. `floor_ts`
    is where a key with no point yet starts (the subscription's own start): the gap of such a key is everything
    from there on. A device that posts a point older than one already delivered is the one case this drops.
    """

    def __init__(self, floor_ts: int = 0) -> None:
        self.floor_ts = floor_ts
        self._last: dict[tuple[str, str], int] = {}

    def last(self, entity_id: str, key: str) -> int | None:
        return self._last.get((entity_id, key))

    def accept(self, entity_id: str, key: str, points: Sequence[P], ts: Callable[[P], int]) -> list[P]:
        """The points not delivered yet, ascending by ts; marks them delivered."""
        mark = self._last.get((entity_id, key))
        if len(points) == 1:  # the live case: one new point per key and update
            stamp = ts(points[0])
            if mark is not None and stamp <= mark:
                return []
            self._last[(entity_id, key)] = stamp
            return list(points)
        ordered = sorted(points, key=ts)
        if mark is not None:
            ordered = [point for point in ordered if ts(point) > mark]
        fresh: list[P] = []
        for point in ordered:  # also drops duplicates inside one batch
            stamp = ts(point)
            if not fresh or stamp > ts(fresh[-1]):
                fresh.append(point)
        if fresh:
            self._last[(entity_id, key)] = ts(fresh[-1])
        return fresh

    def accept_series(self, entity_id: str, series: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """`accept` for every key of `{key: [TsValue]}` at once (the hot path of live updates); drops empty keys."""
        marks = self._last
        fresh: dict[str, list[Any]] = {}
        for key, points in series.items():
            if len(points) == 1:
                stamp = points[0].ts
                mark_key = (entity_id, key)
                mark = marks.get(mark_key)
                if mark is None or stamp > mark:
                    marks[mark_key] = stamp
                    fresh[key] = points
            elif points:
                kept = self.accept(entity_id, key, points, _point_ts)
                if kept:
                    fresh[key] = kept
        return fresh

    def gap_start(self, entity_id: str, key: str) -> int:
        mark = self._last.get((entity_id, key))
        return self.floor_ts if mark is None else max(mark + 1, self.floor_ts)

    def plan(self, entity_ids: Iterable[str], keys: Sequence[str]) -> list[GapRequest]:
        """One REST history request per entity and distinct start, covering every key's gap."""
        requests = []
        for entity_id in entity_ids:
            by_start: dict[int, list[str]] = {}
            for key in keys:
                by_start.setdefault(self.gap_start(entity_id, key), []).append(key)
            requests.extend(GapRequest(entity_id, tuple(group), start) for start, group in sorted(by_start.items()))
        return requests
