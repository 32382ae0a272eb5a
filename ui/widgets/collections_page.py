"""The Collections page (PocketBase): the server's collections with their type and record count.

Collections are not part of the neutral Fleet protocol (ThingsBoard has none): a fleet that offers `collections()`
(a coroutine returning `CollectionRow`s) fills the table, otherwise the page says what is missing.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.fleet import CollectionRow, Fleet
from ui.tasks import TaskManager

__all__ = ["CollectionsPage"]


def _cells(row: CollectionRow) -> tuple[str, ...]:
    return (row.name, row.type, f"{row.records:,}", ", ".join(row.fields))


class CollectionsPage(QWidget):
    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fleet: Fleet | None = None
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(["Collection", "Type", "Records", "Fields"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)

    def set_fleet(self, fleet: Fleet | None) -> None:
        self._fleet = fleet
        self.table.setRowCount(0)
        lister = getattr(fleet, "collections", None)
        if fleet is None or fleet.kind != "pocketbase":
            self.note.setText("Collections are a PocketBase feature.")
        elif lister is None:
            self.note.setText(
                "This version lists the fleet's devices and dashboards; browsing raw PocketBase collections is not "
                "available for this connection yet."
            )
        else:
            self.note.setText("Loading collections…")
            self._tasks.start(self._load(fleet, lister), "Loading collections", on_error=self.note.setText)

    async def _load(self, fleet: Fleet, lister: Any) -> None:
        rows: list[CollectionRow] = list(await lister())
        if fleet is not self._fleet:
            return
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(_cells(row)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.note.setText(f"{len(rows)} collections.")
