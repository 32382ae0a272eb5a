"""History of attribute changes from the undo journal, per device or per profile, with revert and CSV export.

As a device-panel tab it follows `set_device(fleet, device_id)`; opened from the main window it shows the whole
profile. It never writes itself: "Revert this batch" asks the host (`revert_requested`) to open the bulk dialog, so
a revert gets the same preview and report as any bulk edit.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.fleet import Fleet
from console.fleet.values import value_summary
from console.journal import Journal, JournalEntry, Outcome
from ui.tasks import BackgroundTask, TaskManager

__all__ = ["HistoryView"]

COLUMNS = ("Time", "Device", "Scope", "Key", "Old value", "New value", "Outcome", "Message", "Batch")
_COLOURS = {
    Outcome.FAILED: "#b3261e",
    Outcome.UNKNOWN: "#b58900",
    Outcome.PENDING: "#b58900",
    Outcome.SKIPPED: "#6b6b6b",
}


class HistoryView(QWidget):
    """The journal as a table, newest first."""

    revert_requested = Signal(int)  # batch id
    exported = Signal(str, int)  # path, rows

    def __init__(
        self,
        tasks: TaskManager,
        journal: Journal,
        *,
        profile: str | None = None,
        server: str | None = None,
        device_id: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.journal = tasks, journal
        self.profile, self.server, self.device_id = profile, server, device_id
        self.entries: list[JournalEntry] = []
        self._generation = 0
        self.scope_combo = QComboBox(self)
        self.scope_combo.addItem("This device", "device")
        self.scope_combo.addItem("This profile", "profile")
        self.scope_combo.setCurrentIndex(0 if device_id else 1)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.refresh_button = QPushButton("Refresh", self)
        self.revert_button = QPushButton("Revert this batch…", self)
        self.export_button = QPushButton("Export CSV…", self)
        self.note = QLabel(self)
        bar = QHBoxLayout()
        bar.addWidget(self.scope_combo)
        bar.addStretch(1)
        for button in (self.refresh_button, self.revert_button, self.export_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self.scope_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.refresh_button.clicked.connect(self.refresh)
        self.revert_button.clicked.connect(self._on_revert_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def set_device(self, fleet: Fleet | None, device_id: str | None) -> None:
        """Device-panel tab contract: follow the selected device (and the fleet's server)."""
        self.device_id = device_id
        if fleet is not None:
            self.server = fleet.title
        self.refresh()

    def _filters(self) -> dict[str, str | None]:
        per_device = self.scope_combo.currentData() == "device" and self.device_id is not None
        return {
            "profile": self.profile,
            "server": self.server,
            "entity_id": self.device_id if per_device else None,
        }

    def refresh(self) -> BackgroundTask:
        self._generation += 1
        generation = self._generation

        async def load() -> None:
            entries = await self.journal.history(**self._filters())
            if generation == self._generation:
                self.show_entries(entries)

        return self.tasks.start(load(), "Loading history", on_error=self.note.setText)

    def show_entries(self, entries: list[JournalEntry]) -> None:
        self.entries = entries
        self.table.setRowCount(len(entries))
        for r, e in enumerate(entries):
            texts = [
                datetime.fromtimestamp(e.created_ms / 1000).strftime("%Y-%m-%d %H:%M:%S"),
                e.entity_name or e.entity_id,
                e.scope,
                e.key,
                "(missing)" if e.old is None else value_summary(e.old, 60),
                "(deleted)" if e.new is None else value_summary(e.new, 60),
                str(e.outcome),
                e.message,
                str(e.batch_id),
            ]
            colour = _COLOURS.get(e.outcome, "")
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if colour and c == 6:
                    item.setForeground(QColor(colour))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.note.setText(f"{len(entries)} change(s)." if entries else "No changes recorded yet.")
        self._update_buttons()

    def selected_batch(self) -> int | None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return self.entries[rows[0]].batch_id if rows and rows[0] < len(self.entries) else None

    def _update_buttons(self) -> None:
        self.revert_button.setEnabled(self.selected_batch() is not None)
        self.export_button.setEnabled(bool(self.entries))

    def _on_revert_clicked(self) -> None:
        batch = self.selected_batch()
        if batch is not None:
            self.revert_requested.emit(batch)

    def _on_export_clicked(self) -> None:
        dialog = QFileDialog(self, "Export history as CSV", "thingscope-history.csv", "CSV files (*.csv)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(lambda path: self.export_csv(Path(path)))
        dialog.open()  # never exec(): no nested event loop under qasync

    def export_csv(self, path: Path) -> BackgroundTask:
        """Write what this view shows (device or profile) as CSV, in a worker thread."""

        async def run() -> None:
            rows = await self.journal.export_csv(path, **self._filters())
            self.note.setText(f"Exported {rows} change(s) to {path}.")
            self.exported.emit(str(path), rows)

        return self.tasks.start(run(), "Exporting history", on_error=self.note.setText)
