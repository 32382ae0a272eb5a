"""The emulator's WebSocket subscriptions (reference §7.4, §7.5): what each command answers first and what it pushes.

Pure bookkeeping over the store: every method returns the messages (dicts) to send; `ws.py` moves them.
Everything runs on the server loop with no await between reading the store and queueing the answer, so a save
can never fall between a subscription's first answer and its live updates.
"""

from __future__ import annotations

from typing import Any

from .store import SCOPES, Failure
from .values import aggregate, as_text

ATTRIBUTE_KEY_TYPES = {
    "CLIENT_SCOPE": "CLIENT_ATTRIBUTE",
    "SERVER_SCOPE": "SERVER_ATTRIBUTE",
    "SHARED_SCOPE": "SHARED_ATTRIBUTE",
}
ALLOWED_ENTITIES = 10_000


def ts_error(cmd_id: int, code: int, message: str) -> dict[str, Any]:
    return {"subscriptionId": cmd_id, "errorCode": code, "errorMsg": message, "data": None, "latestValues": {}}


def ts_reply(cmd_id: int, data: dict[str, list[tuple[int, Any]]]) -> dict[str, Any]:
    """The attribute/time-series family: `[ts, "text"]` pairs, keys sorted, `latestValues` = max ts per key."""
    body = {key: [[ts, None if value is None else as_text(value)] for ts, value in data[key]] for key in sorted(data)}
    latest = {key: max(ts for ts, _ in points) for key, points in data.items() if points}
    return {"subscriptionId": cmd_id, "errorCode": 0, "errorMsg": None, "data": body, "latestValues": latest}


def entity_reply(cmd_id: int, *, data: Any = None, update: Any = None) -> dict[str, Any]:
    return {
        "cmdId": cmd_id,
        "errorCode": 0,
        "errorMsg": None,
        "cmdUpdateType": "ENTITY_DATA",
        "data": data,
        "update": update,
        "allowedEntities": ALLOWED_ENTITIES,
    }


def window(store: Any, entity_id: str, keys: list[str], cmd: dict[str, Any], end_ts: int) -> dict[str, list[dict]]:
    """History of `keys` in [startTs, end_ts) as `{key: [{ts, value}]}`, newest first (raw) or aggregated."""
    start_ts = int(cmd.get("startTs") or 0)
    limit = int(cmd.get("limit") or 100)
    agg = cmd.get("agg") or "NONE"
    interval = int(cmd.get("interval") or 0)
    result: dict[str, list[dict]] = {}
    for key in keys:
        points = [p for p in store.history(entity_id, key) if start_ts <= p[0] < end_ts]
        if agg != "NONE" and interval > 0:
            chosen = list(reversed(aggregate(points, start_ts, end_ts, interval, agg)))
        else:
            chosen = list(reversed(points))[:limit]
        result[key] = [{"ts": ts, "value": as_text(value)} for ts, value in chosen]
    return result


class EntityDataSub:
    """ENTITY_DATA: a query's page, then latest-value and time-series updates for the entities on that page."""

    def __init__(self, cmd_id: int) -> None:
        self.cmd_id = cmd_id
        self.query: dict[str, Any] | None = None
        self.entities: set[str] = set()
        self.entity_types: dict[str, str] = {}
        self.latest_keys: list[tuple[str, str]] = []
        self.ts_keys: set[str] = set()
        self.sent_latest: dict[tuple[str, str, str], int] = {}
        self.data_sent = False

    def apply(self, store: Any, user: Any, cmd: dict[str, Any]) -> list[dict[str, Any]]:
        """Handle a (re)sent ENTITY_DATA command; §7.6: the full page goes out once per cmdId."""
        out: list[dict[str, Any]] = []
        if cmd.get("query") is not None:
            self.query = dict(cmd["query"])
        if self.query is None:
            raise Failure(400, "Query is empty!", 2)
        has_sub = any(cmd.get(name) is not None for name in ("latestCmd", "tsCmd", "historyCmd"))
        if has_sub:
            self.latest_keys, self.ts_keys = [], set()
        latest_cmd = cmd.get("latestCmd") or {}
        latest = list(self.query.get("latestValues") or [])
        for key in latest_cmd.get("keys") or []:
            if key not in latest:
                latest.append(key)
        self.query["latestValues"] = latest
        from . import query as entity_query  # written alongside; imported late so ws.py loads without it

        page = entity_query.find(store, user, self.query)
        self.entities = {row["entityId"]["id"] for row in page["data"]}
        self.entity_types = {row["entityId"]["id"]: row["entityId"]["entityType"] for row in page["data"]}
        self.latest_keys = [(k["type"], k["key"]) for k in latest if k.get("type") != "ENTITY_FIELD"]
        for row in page["data"]:
            for key_type, values in (row.get("latest") or {}).items():
                for key, entry in values.items():
                    self.sent_latest[(row["entityId"]["id"], key_type, key)] = entry.get("ts", 0)
        series: dict[str, dict[str, list[dict]]] = {}
        ts_cmd = cmd.get("tsCmd")
        if ts_cmd is not None:
            self.ts_keys = set(ts_cmd.get("keys") or [])
            end = int(ts_cmd.get("startTs") or 0) + int(ts_cmd.get("timeWindow") or 0)
            for entity_id in self.entities:
                series[entity_id] = window(store, entity_id, list(ts_cmd.get("keys") or []), ts_cmd, end)
        history_cmd = cmd.get("historyCmd")
        if history_cmd is not None:
            end = int(history_cmd.get("endTs") or 0)
            for entity_id in self.entities:
                found = window(store, entity_id, list(history_cmd.get("keys") or []), history_cmd, end)
                series.setdefault(entity_id, {}).update(found)
        if not self.data_sent:
            for row in page["data"]:
                row["timeseries"] = series.get(row["entityId"]["id"], {})
            out.append(entity_reply(self.cmd_id, data=page))
            self.data_sent = True
        elif series:
            update = [
                {"entityId": self._ref(eid), "latest": None, "timeseries": ts, "aggLatest": None}
                for eid, ts in series.items()
            ]
            out.append(entity_reply(self.cmd_id, update=update))
        return out

    def _ref(self, entity_id: str) -> dict[str, str]:
        return {"entityType": self.entity_types.get(entity_id, "DEVICE"), "id": entity_id}

    def changed(self, entity_id: str, kind: str, scope: str | None, values: dict, deleted: bool) -> list[dict]:
        if entity_id not in self.entities:
            return []
        latest: dict[str, dict[str, dict]] = {}
        for key_type, key in self.latest_keys:
            if key not in values:
                continue
            if kind == "TIMESERIES" and key_type != "TIME_SERIES":
                continue
            if kind == "ATTRIBUTES" and key_type not in ("ATTRIBUTE", ATTRIBUTE_KEY_TYPES.get(scope or "")):
                continue
            ts, value = values[key]
            mark = (entity_id, key_type, key)
            if not deleted and ts <= self.sent_latest.get(mark, -1):
                continue  # stale or duplicate latest values are suppressed (§7.5)
            self.sent_latest[mark] = ts
            latest.setdefault(key_type, {})[key] = {"ts": ts, "value": "" if deleted else as_text(value)}
        series = {}
        if kind == "TIMESERIES" and not deleted:
            series = {
                key: [{"ts": values[key][0], "value": as_text(values[key][1])}] for key in values if key in self.ts_keys
            }
        if not latest and not series:
            return []
        entry = {"entityId": self._ref(entity_id), "latest": latest or None, "timeseries": series or None}
        entry["aggLatest"] = None
        return [entity_reply(self.cmd_id, update=[entry])]


class AttributesSub:
    """ATTRIBUTES: current values of one entity, then one reply per change."""

    def __init__(self, cmd_id: int, entity_id: str, keys: list[str] | None, scope: str | None) -> None:
        self.cmd_id, self.entity_id, self.keys, self.scope = cmd_id, entity_id, keys, scope

    def first(self, store: Any) -> list[dict[str, Any]]:
        data: dict[str, list[tuple[int, Any]]] = {}
        for scope in [self.scope] if self.scope else SCOPES:
            for key, ts, value in store.get_attributes(self.entity_id, scope, self.keys):
                data[key] = [(ts, value)]
        return [ts_reply(self.cmd_id, data)]

    def changed(self, entity_id: str, kind: str, scope: str | None, values: dict, deleted: bool) -> list[dict]:
        if entity_id != self.entity_id or kind != "ATTRIBUTES" or (self.scope and scope != self.scope):
            return []
        data = {k: [v] for k, v in values.items() if self.keys is None or k in self.keys}
        return [ts_reply(self.cmd_id, data)] if data else []


class TimeseriesSub:
    """TIMESERIES: a history window or the latest values of one entity, then live points."""

    def __init__(self, cmd_id: int, entity_id: str, cmd: dict[str, Any]) -> None:
        self.cmd_id, self.entity_id, self.cmd = cmd_id, entity_id, cmd
        keys = cmd.get("keys")
        self.keys: list[str] | None = keys.split(",") if keys else None
        self.latest_only = cmd.get("scope") == "LATEST_TELEMETRY"
        self.last_ts: dict[str, int] = {}

    def first(self, store: Any) -> list[dict[str, Any]]:
        time_window = int(self.cmd.get("timeWindow") or 0)
        data: dict[str, list[tuple[int, Any]]] = {}
        if self.keys is None or time_window <= 0:
            latest = store.latest(self.entity_id)
            for key in self.keys if self.keys is not None else sorted(latest):
                data[key] = [latest[key]] if key in latest else [(store.now_ms(), None)]
        else:
            end = int(self.cmd.get("startTs") or 0) + time_window
            found = window(store, self.entity_id, self.keys, self.cmd, end)
            data = {key: [(p["ts"], p["value"]) for p in points] for key, points in found.items()}
        for key, points in data.items():
            stamps = [ts for ts, value in points if value is not None]
            if stamps:
                self.last_ts[key] = max(stamps)
        return [ts_reply(self.cmd_id, data)]

    def changed(self, entity_id: str, kind: str, scope: str | None, values: dict, deleted: bool) -> list[dict]:
        if entity_id != self.entity_id or kind != "TIMESERIES":
            return []
        data = {}
        for key, (ts, value) in values.items():
            if self.keys is not None and key not in self.keys:
                continue
            if self.latest_only and not deleted and ts <= self.last_ts.get(key, -1):
                continue
            self.last_ts[key] = max(ts, self.last_ts.get(key, ts))
            data[key] = [(ts, value)]
        return [ts_reply(self.cmd_id, data)] if data else []


class CountSub:
    """ENTITY_COUNT: the count now, then again every refresh interval when it changed (§7.4)."""

    def __init__(self, cmd_id: int, query: dict[str, Any]) -> None:
        self.cmd_id, self.query = cmd_id, query
        self.last: int | None = None

    def refresh(self, store: Any, user: Any) -> list[dict[str, Any]]:
        from . import query as entity_query  # written alongside; imported late so ws.py loads without it

        count = entity_query.count(store, user, self.query)
        if count == self.last:
            return []
        self.last = count
        return [{"cmdId": self.cmd_id, "errorCode": 0, "errorMsg": None, "cmdUpdateType": "COUNT_DATA", "count": count}]

    def changed(self, entity_id: str, kind: str, scope: str | None, values: dict, deleted: bool) -> list[dict]:
        return []
