"""The local undo journal: every attribute write, single or bulk, recorded in SQLite before it is sent.

One row per (device, scope, key) change, grouped in batches (one user action). A change is recorded as PENDING
before the request goes out and completed afterwards (WRITTEN, FAILED, or UNKNOWN when the request was cancelled in
flight), so a crash or a cancel never loses track of what may have reached the server. "Undo" and "Revert this
batch" read the old values back from here; the CSV export is the hand-over report after a site visit.

Values are stored as JSON text (which keeps 1 and 1.0 apart); NULL means "the key did not exist" (before) or
"the key was deleted" (after). ThingsBoard has no null attribute values, so None is free to mean "missing".
All blocking SQLite work runs in a worker thread (`asyncio.to_thread`); one connection, guarded by a lock.
"""

from __future__ import annotations

import asyncio
import csv
import enum
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

__all__ = [
    "Batch",
    "BatchKind",
    "Change",
    "Journal",
    "JournalEntry",
    "Outcome",
    "default_journal_path",
]

APP_NAME = "thingscope"


class Outcome(enum.StrEnum):
    PENDING = "pending"
    WRITTEN = "written"
    FAILED = "failed"
    UNKNOWN = "unknown"  # cancelled while in flight: the server may or may not have applied it
    SKIPPED = "skipped"  # never sent (the batch was cancelled first)


class BatchKind(enum.StrEnum):
    EDIT = "edit"  # one device, from the attribute editor
    BULK = "bulk"
    REVERT = "revert"  # undo / revert of an earlier batch
    RETRY = "retry"  # "retry failed" of an earlier batch


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One key change about to be sent. `old`/`new` None mean missing / deleted."""

    entity_id: str
    entity_name: str = ""
    scope: str
    key: str
    old: Any = None
    new: Any = None


class JournalEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    batch_id: int
    profile: str
    server: str
    entity_id: str
    entity_name: str
    scope: str
    key: str
    old: Any
    new: Any
    created_ms: int
    completed_ms: int | None
    outcome: Outcome
    message: str


class Batch(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    profile: str
    server: str
    kind: BatchKind
    title: str
    created_ms: int
    reverts: int | None = None
    written: int = 0
    failed: int = 0
    pending: int = 0
    total: int = 0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS batch (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    profile TEXT NOT NULL,
    server TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    reverts INTEGER REFERENCES batch(id)
);
CREATE TABLE IF NOT EXISTS entry (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id INTEGER NOT NULL REFERENCES batch(id),
    entity_id TEXT NOT NULL,
    entity_name TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    old_json TEXT,
    new_json TEXT,
    created_ms INTEGER NOT NULL,
    completed_ms INTEGER,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS entry_batch ON entry(batch_id);
CREATE INDEX IF NOT EXISTS entry_entity ON entry(entity_id);
CREATE INDEX IF NOT EXISTS batch_profile ON batch(profile, server);
"""

_ENTRY_COLUMNS = (
    "e.id, e.batch_id, b.profile, b.server, e.entity_id, e.entity_name, e.scope, e.key, e.old_json, e.new_json, "
    "e.created_ms, e.completed_ms, e.outcome, e.message"
)

_BATCH_COLUMNS = (
    "b.id, b.profile, b.server, b.kind, b.title, b.created_ms, b.reverts, "
    "(SELECT COUNT(*) FROM entry e WHERE e.batch_id = b.id AND e.outcome = 'written'), "
    "(SELECT COUNT(*) FROM entry e WHERE e.batch_id = b.id AND e.outcome = 'failed'), "
    "(SELECT COUNT(*) FROM entry e WHERE e.batch_id = b.id AND e.outcome IN ('pending', 'unknown')), "
    "(SELECT COUNT(*) FROM entry e WHERE e.batch_id = b.id)"
)


def default_journal_path() -> Path:
    """The journal file in the platform's data folder (created on first use); `THINGSCOPE_JOURNAL` overrides it."""
    override = os.environ.get("THINGSCOPE_JOURNAL")
    if override:
        return Path(override)
    return platformdirs.user_data_path(APP_NAME, appauthor=False) / "journal.sqlite3"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, allow_nan=False)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class Journal:
    """The SQLite journal. Create it, use the coroutines from the event loop, `close()` when done."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_journal_path()
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None  # opened on first use (in a worker thread)

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, opened on first use; callers hold `_lock`."""
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: survives an app crash, fast commits
            db.executescript(_SCHEMA)
            self._connection = db
        return self._connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # --- writing ----------------------------------------------------------------------------------

    async def start_batch(
        self, *, profile: str, server: str, kind: BatchKind, title: str, reverts: int | None = None
    ) -> int:
        """Open a batch (one user action) and return its id."""
        return await asyncio.to_thread(self._start_batch, profile, server, kind, title, reverts)

    async def record(self, batch_id: int, changes: Sequence[Change]) -> list[int]:
        """Record changes as PENDING before they are sent; returns their entry ids in order."""
        return await asyncio.to_thread(self._record, batch_id, list(changes))

    async def complete(self, entry_ids: Iterable[int], outcome: Outcome, message: str = "") -> None:
        """Mark entries as finished once the server answered (or the request was cancelled)."""
        ids = list(entry_ids)
        if ids:
            await asyncio.to_thread(self._complete, ids, outcome, message)

    async def complete_many(self, items: Sequence[tuple[Sequence[int], Outcome, str]]) -> None:
        """Several completions in one transaction and one thread hop (bulk runs complete in batches)."""
        if any(ids for ids, _, _ in items):
            await asyncio.to_thread(self._complete_many, [(list(i), o, m) for i, o, m in items])

    def complete_now(self, entry_ids: Iterable[int], outcome: Outcome, message: str = "") -> None:
        """Synchronous variant for cancellation paths, where awaiting is no longer possible. Tiny and fast."""
        self._complete(list(entry_ids), outcome, message)

    # --- reading ----------------------------------------------------------------------------------

    async def batch(self, batch_id: int) -> Batch | None:
        rows = await asyncio.to_thread(self._query, f"SELECT {_BATCH_COLUMNS} FROM batch b WHERE b.id = ?", (batch_id,))
        return _batch(rows[0]) if rows else None

    async def batches(self, *, profile: str | None = None, server: str | None = None, limit: int = 500) -> list[Batch]:
        where, args = _where(("b.profile", profile), ("b.server", server))
        sql = f"SELECT {_BATCH_COLUMNS} FROM batch b {where} ORDER BY b.id DESC LIMIT ?"
        return [_batch(r) for r in await asyncio.to_thread(self._query, sql, (*args, limit))]

    async def entries(self, batch_id: int) -> list[JournalEntry]:
        sql = f"SELECT {_ENTRY_COLUMNS} FROM entry e JOIN batch b ON b.id = e.batch_id "
        sql += "WHERE e.batch_id = ? ORDER BY e.id"
        return [_entry(r) for r in await asyncio.to_thread(self._query, sql, (batch_id,))]

    async def history(
        self,
        *,
        profile: str | None = None,
        server: str | None = None,
        entity_id: str | None = None,
        limit: int = 5000,
    ) -> list[JournalEntry]:
        """Newest first: the History view per device (entity_id) or per profile."""
        return await asyncio.to_thread(self._history, profile, server, entity_id, limit)

    async def last_undoable(self, *, profile: str, server: str) -> Batch | None:
        """The newest batch with written changes that is not a revert and has not been reverted yet."""
        sql = (
            f"SELECT {_BATCH_COLUMNS} FROM batch b WHERE b.profile = ? AND b.server = ? AND b.kind != 'revert' "
            "AND EXISTS (SELECT 1 FROM entry e WHERE e.batch_id = b.id AND e.outcome IN ('written', 'unknown')) "
            "AND NOT EXISTS (SELECT 1 FROM batch r WHERE r.reverts = b.id AND EXISTS "
            "(SELECT 1 FROM entry e2 WHERE e2.batch_id = r.id AND e2.outcome = 'written')) "
            "ORDER BY b.id DESC LIMIT 1"
        )
        rows = await asyncio.to_thread(self._query, sql, (profile, server))
        return _batch(rows[0]) if rows else None

    async def export_csv(
        self,
        path: Path | str,
        *,
        profile: str | None = None,
        server: str | None = None,
        entity_id: str | None = None,
    ) -> int:
        """Write the journal (oldest first) as CSV for a hand-over report; returns the number of rows."""
        return await asyncio.to_thread(self._export_csv, Path(path), profile, server, entity_id)

    # --- the blocking part ------------------------------------------------------------------------

    def _start_batch(self, profile: str, server: str, kind: BatchKind, title: str, reverts: int | None) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO batch (profile, server, kind, title, created_ms, reverts) VALUES (?, ?, ?, ?, ?, ?)",
                (profile, server, str(kind), title, _now_ms(), reverts),
            )
            return int(cursor.lastrowid or 0)

    def _record(self, batch_id: int, changes: list[Change]) -> list[int]:
        now = _now_ms()
        ids: list[int] = []
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for change in changes:
                    cursor = self._db.execute(
                        "INSERT INTO entry (batch_id, entity_id, entity_name, scope, key, old_json, new_json, "
                        "created_ms, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending')",
                        (
                            batch_id,
                            change.entity_id,
                            change.entity_name,
                            change.scope,
                            change.key,
                            _dump(change.old),
                            _dump(change.new),
                            now,
                        ),
                    )
                    ids.append(int(cursor.lastrowid or 0))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ids

    def _complete(self, entry_ids: list[int], outcome: Outcome, message: str) -> None:
        self._complete_many([(entry_ids, outcome, message)])

    def _complete_many(self, items: list[tuple[list[int], Outcome, str]]) -> None:
        now = _now_ms()
        rows = [(str(outcome), message, now, i) for ids, outcome, message in items for i in ids]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("UPDATE entry SET outcome = ?, message = ?, completed_ms = ? WHERE id = ?", rows)
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _history(
        self, profile: str | None, server: str | None, entity_id: str | None, limit: int
    ) -> list[JournalEntry]:
        where, args = _where(("b.profile", profile), ("b.server", server), ("e.entity_id", entity_id))
        sql = f"SELECT {_ENTRY_COLUMNS} FROM entry e JOIN batch b ON b.id = e.batch_id {where} "
        sql += "ORDER BY e.id DESC LIMIT ?"
        return [_entry(r) for r in self._query(sql, (*args, limit))]

    def _export_csv(self, path: Path, profile: str | None, server: str | None, entity_id: str | None) -> int:
        entries = list(reversed(self._history(profile, server, entity_id, 10**9)))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["time (UTC)", "profile", "server", "batch", "device", "device id", "scope", "key", "old value",
                 "new value", "outcome", "message"]
            )
            for e in entries:
                writer.writerow(
                    [
                        datetime.fromtimestamp(e.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S"),
                        e.profile,
                        e.server,
                        e.batch_id,
                        e.entity_name,
                        e.entity_id,
                        e.scope,
                        e.key,
                        "(missing)" if e.old is None else _dump(e.old),
                        "(deleted)" if e.new is None else _dump(e.new),
                        str(e.outcome),
                        e.message,
                    ]
                )
        return len(entries)


def _where(*pairs: tuple[str, str | None]) -> tuple[str, tuple[Any, ...]]:
    clauses = [f"{column} = ?" for column, value in pairs if value is not None]
    args = tuple(value for _, value in pairs if value is not None)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    return JournalEntry(
        id=row[0],
        batch_id=row[1],
        profile=row[2],
        server=row[3],
        entity_id=row[4],
        entity_name=row[5],
        scope=row[6],
        key=row[7],
        old=_load(row[8]),
        new=_load(row[9]),
        created_ms=row[10],
        completed_ms=row[11],
        outcome=Outcome(row[12]),
        message=row[13],
    )


def _batch(row: tuple[Any, ...]) -> Batch:
    return Batch(
        id=row[0],
        profile=row[1],
        server=row[2],
        kind=BatchKind(row[3]),
        title=row[4],
        created_ms=row[5],
        reverts=row[6],
        written=row[7],
        failed=row[8],
        pending=row[9],
        total=row[10],
    )
