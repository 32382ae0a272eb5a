"""The attribute table of one device and one scope: typed in-place editing, live values, conflicts, failed writes.

Rows are keyed by attribute key and keep their identity across live updates. The model never talks to the server:
`setData` validates (console.fleet.values) and emits `write_requested`; the editor widget sends it and reports back
with `write_finished`. A value that arrives from the server while its cell is being edited, or while a local change
is pending or failed, never overwrites it: the row goes to CONFLICT until the user keeps theirs or takes the server's.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from console.fleet import Attribute
from console.fleet.values import (
    ValueType,
    ValueValidationError,
    coerce_like,
    format_value,
    parse_value,
    same_as_written,
    type_of,
    validate_key,
    value_summary,
    values_equal,
)

__all__ = ["COLUMNS", "AttributeRow", "AttributeTableModel", "RowRole", "RowState", "SortRole", "StateRole"]

RowRole = Qt.ItemDataRole.UserRole + 1  # the AttributeRow itself
StateRole = Qt.ItemDataRole.UserRole + 2  # RowState
SortRole = Qt.ItemDataRole.UserRole + 3  # key text or last-update ms

KEY, TYPE, VALUE, UPDATED, STATUS = range(5)
COLUMNS = ("Key", "Type", "Value", "Last update", "Status")

_FAILED = QBrush(QColor("#fde2e1"))
_CONFLICT = QBrush(QColor("#fff1c2"))
_SAVING = QBrush(QColor("#e8eef9"))
_INVALID = QBrush(QColor("#f6d6f0"))


class RowState(enum.Enum):
    SYNCED = "synced"
    SAVING = "saving"
    DELETING = "deleting"
    FAILED = "failed"  # the server refused: the local value stays, with its message, until retried
    CONFLICT = "conflict"  # the server changed while we edited / had a local change
    INVALID = "invalid"  # what was typed does not validate; kept as a draft so nothing is lost


@dataclass(eq=False)
class AttributeRow:
    key: str
    server: Attribute | None = None  # last value known from the server (None: not on the server yet)
    local: Any = None  # a value being written, failed or in conflict (None: no local change)
    local_type: ValueType | None = None
    state: RowState = RowState.SYNCED
    message: str = ""
    incoming: Attribute | None = None  # the server's value that arrived during a conflict
    draft: str | None = None  # invalid text the user typed

    @property
    def value(self) -> Any:
        return self.local if self.local is not None else (self.server.value if self.server else None)

    @property
    def value_type(self) -> ValueType:
        if self.local_type is not None:
            return self.local_type
        return type_of(self.value) if self.value is not None else ValueType.STRING

    @property
    def last_update(self) -> int:
        return self.server.last_update_ts if self.server else 0


class AttributeTableModel(QAbstractTableModel):
    """One scope of one device. Emits write/delete requests; the widget sends them and reports the outcome."""

    columns: ClassVar = COLUMNS

    write_requested = Signal(str, object)  # key, typed value
    delete_requested = Signal(list)  # keys
    validation_failed = Signal(str, str)  # key, message
    conflict_raised = Signal(str)  # key

    def __init__(self, scope: str, writable: bool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scope = scope
        self.writable = writable
        self._rows: list[AttributeRow] = []
        self._by_key: dict[str, AttributeRow] = {}
        self._editing: set[str] = set()

    # --- reading ------------------------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def row(self, key: str) -> AttributeRow | None:
        return self._by_key.get(key)

    def row_at(self, row: int) -> AttributeRow:
        return self._rows[row]

    def keys(self) -> list[str]:
        return [r.key for r in self._rows]

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not index.isValid():
            return base
        row = self._rows[index.row()]
        if self.writable and index.column() in (TYPE, VALUE) and row.state not in (RowState.SAVING, RowState.DELETING):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.EditRole:
            if column == TYPE:
                return row.value_type.value
            if column == VALUE:
                if row.draft is not None:
                    return row.draft
                if row.value is None:
                    return ""
                if row.value_type is ValueType.JSON:  # one line for the cell editor; the edit panel shows it indented
                    return json.dumps(row.value, ensure_ascii=False, separators=(", ", ": "))
                return format_value(row.value, row.value_type)
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == VALUE and row.value is not None:
                return format_value(row.value, row.value_type)[:2000]
            if column == STATUS and row.message:
                return row.message
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            return {
                RowState.FAILED: _FAILED,
                RowState.CONFLICT: _CONFLICT,
                RowState.SAVING: _SAVING,
                RowState.DELETING: _SAVING,
                RowState.INVALID: _INVALID,
            }.get(row.state)
        if role == Qt.ItemDataRole.FontRole and row.state in (RowState.SAVING, RowState.DELETING):
            font = QFont()
            font.setItalic(True)
            return font
        if role == RowRole:
            return row
        if role == StateRole:
            return row.state
        if role == SortRole:
            return row.last_update if column == UPDATED else row.key.lower()
        return None

    def _display(self, row: AttributeRow, column: int) -> str:
        if column == KEY:
            return row.key
        if column == TYPE:
            return row.value_type.title
        if column == VALUE:
            return row.draft if row.draft is not None else value_summary(row.value, 120)
        if column == UPDATED:
            ts = row.last_update
            return datetime.fromtimestamp(ts / 1000).strftime("%Y-%m-%d %H:%M:%S") if ts else ""
        return self._status_text(row)

    @staticmethod
    def _status_text(row: AttributeRow) -> str:
        if row.state is RowState.SAVING:
            return "Saving…"
        if row.state is RowState.DELETING:
            return "Deleting…"
        if row.state is RowState.FAILED:
            return f"Failed: {row.message} — Retry"
        if row.state is RowState.CONFLICT:
            theirs = value_summary(row.incoming.value, 30) if row.incoming and row.incoming.value is not None else "?"
            return f"Conflict: the server now has {theirs}"
        if row.state is RowState.INVALID:
            return f"Invalid: {row.message}"
        return ""

    # --- editing ------------------------------------------------------------------------------------------

    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole
    ) -> bool:
        """Validate what was typed; on success the row goes to SAVING and `write_requested` is emitted."""
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        if not self.flags(index) & Qt.ItemFlag.ItemIsEditable:
            return False
        row = self._rows[index.row()]
        if index.column() == TYPE:
            try:
                value_type = ValueType(str(value))
            except ValueError:
                return False
            text = row.draft if row.draft is not None else (format_value(row.value) if row.value is not None else "")
            if value_type is ValueType.JSON and row.value is not None and type_of(row.value) is not ValueType.JSON:
                text = ""  # a scalar is never a valid JSON attribute: start the user from an empty editor
            return self.edit_value(row.key, value_type, text)
        return self.edit_value(row.key, row.value_type, str(value))

    def edit_value(self, key: str, value_type: ValueType, text: str) -> bool:
        """The one entry for a typed edit (cell, type column or the edit panel); False when it does not validate."""
        row = self._by_key.get(key)
        if row is None or not self.writable:
            return False
        try:
            value = parse_value(text, value_type)
        except ValueValidationError as exc:
            row.draft, row.local_type, row.message, row.state = text, value_type, exc.message, RowState.INVALID
            self._changed(row)
            self.validation_failed.emit(key, exc.message)
            return False
        if row.incoming is not None and row.state in (RowState.SYNCED, RowState.INVALID, RowState.FAILED):
            # the server changed while this cell was open: never overwrite it silently, let the user decide
            row.local, row.local_type, row.draft, row.message = value, value_type, None, ""
            row.state = RowState.CONFLICT
            self._changed(row)
            self.conflict_raised.emit(key)
            return True
        unchanged = row.server is not None and values_equal(value, row.server.value)
        if unchanged and row.state in (RowState.SYNCED, RowState.INVALID, RowState.FAILED):
            row.local = row.local_type = row.draft = None
            row.state, row.message = RowState.SYNCED, ""
            self._changed(row)
            return True  # nothing changed: nothing to send
        self._start_write(row, value, value_type)
        return True

    def add_key(self, key: str, value_type: ValueType, text: str) -> None:
        """Add a new key (raises ValueValidationError before anything is sent)."""
        if not self.writable:
            raise ValueValidationError("This scope is read-only.")
        validate_key(key, self._by_key.keys())
        value = parse_value(text, value_type)
        row = AttributeRow(key=key)
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
        self._rows.append(row)
        self._by_key[key] = row
        self.endInsertRows()
        self._start_write(row, value, value_type)

    def _start_write(self, row: AttributeRow, value: Any, value_type: ValueType) -> None:
        row.local, row.local_type, row.draft, row.message = value, value_type, None, ""
        row.state, row.incoming = RowState.SAVING, None
        self._changed(row)
        self.write_requested.emit(row.key, value)

    def retry(self, key: str) -> bool:
        """Send a failed (or conflicting, "keep mine") value again."""
        row = self._by_key.get(key)
        if row is None or row.local is None or row.state not in (RowState.FAILED, RowState.CONFLICT):
            return False
        if row.incoming is not None:
            row.server = row.incoming  # the journal's old value is what the server has now
        self._start_write(row, row.local, row.value_type)
        return True

    keep_mine = retry

    def take_server(self, key: str) -> bool:
        """Resolve a conflict (or drop a failed/invalid change) in favour of the server's value."""
        row = self._by_key.get(key)
        if row is None or row.state not in (RowState.CONFLICT, RowState.FAILED, RowState.INVALID):
            return False
        if row.incoming is not None:
            row.server = row.incoming
        if row.server is None:
            self._remove(row)
            return True
        row.local = row.local_type = row.draft = row.incoming = None
        row.state, row.message = RowState.SYNCED, ""
        self._changed(row)
        return True

    def request_delete(self, keys: list[str]) -> list[str]:
        """Mark rows as deleting and emit `delete_requested`; rows that exist only locally are simply dropped."""
        if not self.writable:
            return []
        sent: list[str] = []
        for key in keys:
            row = self._by_key.get(key)
            if row is None or row.state in (RowState.SAVING, RowState.DELETING):
                continue
            if row.server is None:
                self._remove(row)
                continue
            row.state, row.message = RowState.DELETING, ""
            self._changed(row)
            sent.append(key)
        if sent:
            self.delete_requested.emit(sent)
        return sent

    def begin_edit(self, key: str) -> None:
        self._editing.add(key)

    def end_edit(self, key: str) -> None:
        self._editing.discard(key)
        row = self._by_key.get(key)
        if row is not None and row.incoming is not None and row.state is RowState.SYNCED:
            # the editor closed without a change while the server moved: show it as a conflict now
            row.state, row.local = RowState.CONFLICT, row.value
            self._changed(row)
            self.conflict_raised.emit(key)

    def is_editing(self, key: str) -> bool:
        return key in self._editing

    # --- results from the widget --------------------------------------------------------------------------

    def write_finished(self, key: str, value: Any, error: str | None, ts: int = 0) -> None:
        row = self._by_key.get(key)
        if row is None or row.state is not RowState.SAVING or not values_equal(row.local, value):
            return  # superseded by a newer edit
        if error is not None:
            row.state, row.message = RowState.FAILED, error
        elif row.incoming is not None and not same_as_written(value, row.incoming.value):
            row.state, row.message = RowState.CONFLICT, ""
        else:
            if row.incoming is not None:  # what the server made of it (ThingsBoard turns "42" into 42)
                row.server = row.incoming
            else:
                row.server = Attribute(key=key, scope=self.scope, value=value, last_update_ts=ts)
            row.local = row.local_type = row.incoming = None
            row.state, row.message = RowState.SYNCED, ""
        self._changed(row)

    def delete_finished(self, keys: list[str], error: str | None) -> None:
        for key in keys:
            row = self._by_key.get(key)
            if row is None or row.state is not RowState.DELETING:
                continue
            if error is None:
                self._remove(row)
            else:
                row.state, row.message = RowState.FAILED, f"delete failed: {error}"
                self._changed(row)

    # --- server values ------------------------------------------------------------------------------------

    def set_attributes(self, attributes: list[Attribute]) -> None:
        """A fresh load; keeps local changes (pending, failed, conflicting, invalid) of keys we already had."""
        kept = {r.key: r for r in self._rows if r.state is not RowState.SYNCED}
        self.beginResetModel()
        self._rows, self._by_key = [], {}
        for attribute in attributes:
            if attribute.scope != self.scope:
                continue
            row = kept.pop(attribute.key, None)
            if row is None:
                row = AttributeRow(key=attribute.key, server=attribute)
            elif not values_equal(row.server.value if row.server else None, attribute.value):
                row.incoming = attribute
            self._rows.append(row)
            self._by_key[row.key] = row
        for row in kept.values():
            self._rows.append(row)
            self._by_key[row.key] = row
        self.endResetModel()

    def apply_server_update(self, attributes: list[Attribute]) -> None:
        """Live values: change in place, or raise a conflict instead of overwriting a cell the user is working on."""
        for attribute in attributes:
            if attribute.scope != self.scope:
                continue
            row = self._by_key.get(attribute.key)
            if row is not None and attribute.value is not None:
                like = row.local if row.local is not None else (row.server.value if row.server else None)
                coerced = coerce_like(attribute.value, like)
                if coerced is not attribute.value:
                    attribute = Attribute(
                        key=attribute.key, scope=attribute.scope, value=coerced, last_update_ts=attribute.last_update_ts
                    )
            if row is None:
                if attribute.value is None:
                    continue
                row = AttributeRow(key=attribute.key, server=attribute)
                self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
                self._rows.append(row)
                self._by_key[row.key] = row
                self.endInsertRows()
                continue
            if attribute.value is None:  # deleted on the server
                if row.state is RowState.SYNCED and attribute.key not in self._editing:
                    self._remove(row)
                continue
            busy = row.state is not RowState.SYNCED or attribute.key in self._editing
            if not busy:
                row.server = attribute
                self._changed(row)
                continue
            if row.state is RowState.SAVING and same_as_written(row.local, attribute.value):
                row.incoming = attribute  # our own write echoed back
                continue
            if row.server is not None and values_equal(attribute.value, row.server.value) and row.incoming is None:
                continue  # same value re-sent: no conflict
            row.incoming = attribute
            if row.state in (RowState.FAILED, RowState.INVALID) or (
                row.state is RowState.SYNCED and attribute.key in self._editing
            ):
                if row.state is RowState.SYNCED:
                    continue  # editor still open: end_edit turns it into a conflict if nothing was committed
                row.state = RowState.CONFLICT
                if row.local is None and row.draft is None:
                    row.local = row.value
                self._changed(row)
                self.conflict_raised.emit(row.key)
            elif row.state is RowState.SAVING:
                pass  # write_finished decides: our value won, or the server's differs → conflict
            else:
                self._changed(row)

    # --- helpers ------------------------------------------------------------------------------------------

    def _changed(self, row: AttributeRow) -> None:
        r = self._rows.index(row)
        self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))

    def _remove(self, row: AttributeRow) -> None:
        r = self._rows.index(row)
        self.beginRemoveRows(QModelIndex(), r, r)
        del self._rows[r]
        del self._by_key[row.key]
        self.endRemoveRows()
