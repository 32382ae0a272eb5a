"""A table model over server pages: incremental fetch, batched inserts, generations, rows found by id in O(1).

Subclasses say which columns exist and how to fetch page N; this class does the Qt bookkeeping. `fetchMore`
schedules a coroutine and returns at once; each page arrives as one `beginInsertRows` batch. A new query resets the
model and bumps the generation so late pages of the old query are dropped (like napari's slice request ids).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from console.fleet import Page
from ui.tasks import BackgroundTask, TaskManager

__all__ = ["IdRole", "PagedTableModel", "RowRole", "format_ms"]

RowRole = Qt.ItemDataRole.UserRole + 1  # the fleet row object itself
IdRole = Qt.ItemDataRole.UserRole + 2  # the row's id (str)

AnyIndex = QModelIndex | QPersistentModelIndex
_DISPLAY = Qt.ItemDataRole.DisplayRole


def format_ms(ms: int) -> str:
    """Local date and time, as the ThingsBoard web UI shows 'Created time'."""
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


class PagedTableModel(QAbstractTableModel):
    """Rows of one query, fetched page by page; rows keep their identity (id → row number)."""

    columns: ClassVar[Sequence[tuple[str, str]]] = ()  # (field, header title)
    page_size: int = 200
    task_title: str = "Loading"

    loading_changed = Signal(bool)
    total_changed = Signal(int)  # the server's total for the current query
    page_loaded = Signal(int)  # rows inserted by this page
    load_failed = Signal(str)  # readable message; fetching stops until refresh()

    def __init__(self, tasks: TaskManager, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._rows: list[Any] = []
        self._index: dict[str, int] = {}
        self._generation = 0
        self._next_page = 0
        self._has_next = False
        self._loading: BackgroundTask | None = None
        self._total = 0
        self.last_error = ""

    # --- subclass hooks ------------------------------------------------------------------------------

    def _ready(self) -> bool:
        """True when a fleet is set and pages can be fetched."""
        raise NotImplementedError

    async def _fetch(self, page: int) -> Page:
        raise NotImplementedError

    def _display(self, row: Any, field: str) -> str:
        value = getattr(row, field, "")
        if field == "created_time":
            return format_ms(value)
        return "" if value is None else str(value)

    # --- state ---------------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def total(self) -> int:
        return self._total

    @property
    def loading(self) -> bool:
        return self._loading is not None

    @property
    def has_more(self) -> bool:
        return self._has_next

    def rows(self) -> list[Any]:
        return list(self._rows)

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def row_of(self, row_id: str) -> int:
        """Row number of an id, or -1."""
        return self._index.get(row_id, -1)

    def row_by_id(self, row_id: str) -> Any | None:
        i = self._index.get(row_id)
        return None if i is None else self._rows[i]

    def reload(self) -> None:
        """Drop everything and fetch the first page again (new generation)."""
        self._generation += 1
        if self._loading is not None:
            self._loading.cancel()
            self._set_loading(None)
        self.beginResetModel()
        self._rows = []
        self._index = {}
        self._next_page = 0
        self._has_next = self._ready()
        self.last_error = ""
        self.endResetModel()
        if self._has_next:
            self.fetchMore(QModelIndex())

    def update_row(self, row: Any) -> bool:
        """Replace a row in place (live update); only its cells are repainted. False when it isn't loaded."""
        i = self._index.get(row.id)
        if i is None:
            return False
        self._rows[i] = row
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))
        return True

    def _set_loading(self, handle: BackgroundTask | None) -> None:
        was = self._loading is not None
        self._loading = handle
        if was != (handle is not None):
            self.loading_changed.emit(handle is not None)

    def append_rows(self, rows: Iterable[Any]) -> int:
        """Insert rows at the end in one batch; a row whose id is already present replaces it in place."""
        fresh = []
        for row in rows:
            i = self._index.get(row.id)
            if i is None:
                fresh.append(row)
            else:
                self._rows[i] = row
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))
        if not fresh:
            return 0
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._rows.extend(fresh)
        for offset, row in enumerate(fresh):
            self._index.setdefault(row.id, first + offset)
        self.endInsertRows()
        return len(fresh)

    def _set_total(self, total: int) -> None:
        if total != self._total:
            self._total = total
            self.total_changed.emit(total)

    # --- incremental fetch ---------------------------------------------------------------------------

    def canFetchMore(self, parent: AnyIndex = QModelIndex()) -> bool:
        return not parent.isValid() and self._has_next and self._loading is None and self._ready()

    def fetchMore(self, parent: AnyIndex = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        generation, page = self._generation, self._next_page
        handle = self._tasks.start(
            self._load_page(generation, page),
            self.task_title,
            on_error=lambda message, g=generation: self._on_page_failed(g, message),
        )
        if handle.running:
            self._set_loading(handle)

    async def _load_page(self, generation: int, page: int) -> None:
        result = await self._fetch(page)
        if generation != self._generation:
            return  # a newer query owns the model now
        self._next_page = page + 1
        self._has_next = bool(result.has_next) and bool(result.rows)
        self._set_total(result.total)
        added = self.append_rows(result.rows)
        self._set_loading(None)
        self.page_loaded.emit(added)

    def _on_page_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._has_next = False  # no retry storm: the view would ask again at once; refresh() retries
        self.last_error = message
        self._set_loading(None)
        self.load_failed.emit(message)

    # --- Qt model --------------------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section][1]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    extra_roles: ClassVar[frozenset[int]] = frozenset()  # roles `_extra_data` answers (besides display/row/id)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called for every visible cell and role on each repaint: return early for the many roles we don't serve.
        if role == _DISPLAY:
            return self._display(self._rows[index.row()], self.columns[index.column()][0])
        if role in self.extra_roles:
            return self._extra_data(self._rows[index.row()], self.columns[index.column()][0], role)
        if role == RowRole:
            return self._rows[index.row()]
        if role == IdRole:
            return self._rows[index.row()].id
        return None

    def _extra_data(self, row: Any, field: str, role: int) -> Any:
        return None

    def field_of_column(self, column: int) -> str:
        return self.columns[column][0]

    def column_of_field(self, field: str) -> int:
        for i, (name, _title) in enumerate(self.columns):
            if name == field:
                return i
        return -1
