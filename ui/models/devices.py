"""The device table: the web UI's columns, server-side sort and search, filters, and CSV export of all rows."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor

from console.fleet import DeviceQuery, DeviceRow, Fleet, Page
from ui.models.paged import IdRole, PagedTableModel, RowRole, format_ms
from ui.tasks import BackgroundTask, TaskManager

__all__ = ["SEARCH_DEBOUNCE_MS", "DeviceTableModel", "IdRole", "RowRole", "export_devices_csv"]

SEARCH_DEBOUNCE_MS = 300
EXPORT_PAGE_SIZE = 500
STREAM_PAGE_SIZE = 250
INSERT_INTERVAL_S = 0.1

_ACTIVE = QBrush(QColor("#1b7f3b"))
_INACTIVE = QBrush(QColor("#8a8a8a"))

CSV_HEADER = ("id", "created", "name", "profile", "label", "state", "customer", "gateway")


def _state(active: bool | None) -> str:
    if active is None:
        return ""
    return "Active" if active else "Inactive"


class DeviceTableModel(PagedTableModel):
    """Devices of the current `DeviceQuery`, paged in from the fleet as the view scrolls."""

    columns: ClassVar = (
        ("created_time", "Created time"),
        ("name", "Name"),
        ("profile", "Device profile"),
        ("label", "Label"),
        ("active", "State"),
        ("customer", "Customer"),
        ("gateway", "Is gateway"),
    )
    sortable: ClassVar = frozenset({"created_time", "name", "profile", "label", "customer"})
    extra_roles: ClassVar = frozenset(
        {Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.TextAlignmentRole}
    )
    page_size = 200
    task_title = "Loading devices"

    query_changed = Signal(object)  # the new DeviceQuery

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(tasks, parent)
        self._fleet: Fleet | None = None
        self._query = DeviceQuery()
        self._search = QTimer(self)
        self._search.setSingleShot(True)
        self._search.setInterval(SEARCH_DEBOUNCE_MS)
        self._search.timeout.connect(self._on_search_timeout)
        self._pending_text = ""

    # --- fleet and query -------------------------------------------------------------------------------

    @property
    def fleet(self) -> Fleet | None:
        return self._fleet

    @property
    def query(self) -> DeviceQuery:
        return self._query

    def set_fleet(self, fleet: Fleet | None) -> None:
        self._fleet = fleet
        self._search.stop()
        self.reload()

    def set_query(self, query: DeviceQuery) -> None:
        """Run a new server query: the model resets and older pages still in flight are dropped."""
        self._search.stop()
        self._pending_text = query.text
        self._query = query
        self.query_changed.emit(query)
        self.reload()

    def set_search_text(self, text: str) -> None:
        """Debounced: the query runs once typing pauses for SEARCH_DEBOUNCE_MS."""
        self._pending_text = text.strip()
        self._search.start()

    def flush_search(self) -> None:
        """Run a pending search now (Enter in the search box)."""
        if self._search.isActive():
            self._search.stop()
            self._on_search_timeout()

    def _on_search_timeout(self) -> None:
        if self._pending_text != self._query.text:
            self.set_query(msgspec.structs.replace(self._query, text=self._pending_text))

    def _changed(self, **changes: Any) -> DeviceQuery:
        """The current query with `changes`, and with search text still waiting for its debounce."""
        return msgspec.structs.replace(self._query, text=self._pending_text, **changes)

    def set_profile_filter(self, profile: str | None) -> None:
        if profile != self._query.profile:
            self.set_query(self._changed(profile=profile or None))

    def set_active_filter(self, active: bool | None) -> None:
        if active != self._query.active:
            self.set_query(self._changed(active=active))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Server-side sort; columns the server can't sort on are ignored."""
        field = self.field_of_column(column)
        if field not in self.sortable:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if field == self._query.sort and descending == self._query.descending:
            return
        self.set_query(self._changed(sort=field, descending=descending))

    # --- paging ----------------------------------------------------------------------------------------

    def _ready(self) -> bool:
        return self._fleet is not None

    async def _fetch(self, page: int) -> Page:
        assert self._fleet is not None
        return await self._fleet.list_devices(self._query, page, self.page_size)

    def load_all(self, page_size: int = STREAM_PAGE_SIZE) -> BackgroundTask:
        """Stream every device of the current query into the table, page after page, with progress."""
        generation = self.generation
        fleet = self._fleet
        assert fleet is not None
        query = self._query
        self._has_next = False  # incremental paging would race the stream

        async def stream(handle: BackgroundTask) -> int:
            # Rows are inserted at most ~10 times a second: every insert makes the view lay out and repaint.
            count = 0
            waiting: list[DeviceRow] = []
            flushed = time.monotonic()
            async for page in stream_device_pages(fleet, query, page_size):
                if generation != self.generation:
                    return count
                waiting.extend(page.rows)
                self._set_total(page.total)
                if time.monotonic() - flushed >= INSERT_INTERVAL_S or not page.has_next:
                    count += self.append_rows(waiting)
                    waiting = []
                    flushed = time.monotonic()
                    handle.set_progress(len(self._rows), max(page.total, len(self._rows)))
                await asyncio.sleep(0)
            if waiting and generation == self.generation:
                count += self.append_rows(waiting)
            return count

        return self._tasks.start(stream, "Loading all devices", visible=True)

    # --- display ---------------------------------------------------------------------------------------

    def _display(self, row: DeviceRow, field: str) -> str:
        if field == "active":
            return _state(row.active)
        if field == "gateway":
            return "Yes" if row.gateway else ""
        return super()._display(row, field)

    def _extra_data(self, row: DeviceRow, field: str, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and field == "active" and row.active is not None:
            return _ACTIVE if row.active else _INACTIVE
        if role == Qt.ItemDataRole.ToolTipRole and field == "name":
            return f"{row.name}\nid {row.id}"
        if role == Qt.ItemDataRole.TextAlignmentRole and field == "gateway":
            return Qt.AlignmentFlag.AlignCenter
        return None


async def stream_device_pages(
    fleet: Fleet, query: DeviceQuery, page_size: int = STREAM_PAGE_SIZE
) -> AsyncIterator[Page]:
    """Every page of `query`, in order, with the next request already in flight while one is handled.

    Not `Fleet.iter_device_pages` (concurrent): decoding a page costs the loop a few milliseconds, and pages fetched
    concurrently land together and stall the loop for all of them at once (tests/bench/bench_console.py).
    """
    page = 0
    pending = asyncio.ensure_future(fleet.list_devices(query, page, page_size))
    try:
        while True:
            result = await pending
            more = result.has_next and bool(result.rows)
            if more:
                pending = asyncio.ensure_future(fleet.list_devices(query, page + 1, page_size))
            yield result
            if not more:
                return
            page += 1
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending


def device_csv_row(row: DeviceRow) -> tuple[str, ...]:
    return (
        row.id,
        format_ms(row.created_time),
        row.name,
        row.profile,
        row.label,
        _state(row.active),
        row.customer,
        "true" if row.gateway else "false",
    )


async def export_devices_csv(
    fleet: Fleet, query: DeviceQuery, path: Path, handle: BackgroundTask | None = None, total: int | None = None
) -> int:
    """Write every device of `query` to `path` as CSV, page by page; returns the row count.

    Rows are formatted on the loop (cheap) and each page is written by a thread, so a slow disk can't stall the UI.
    The file appears only when complete (written to a temporary name, then renamed).
    """

    partial = path.with_name(path.name + ".part")
    count = 0
    try:
        with partial.open("w", newline="", encoding="utf-8") as out:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(CSV_HEADER)
            async for page in stream_device_pages(fleet, query, EXPORT_PAGE_SIZE):
                writer.writerows(device_csv_row(r) for r in page.rows)
                count += len(page.rows)
                chunk = buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
                await asyncio.to_thread(out.write, chunk)
                if handle is not None:
                    handle.set_progress(count, max(total or 0, count) or None)
            await asyncio.to_thread(out.write, buffer.getvalue())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count
