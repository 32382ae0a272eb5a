"""The Dashboards page: search, the dashboard table, open in the browser, export the JSON to a file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.fleet import DashboardRow, Fleet
from ui.models.dashboards import DashboardTableModel, export_dashboard_json
from ui.models.devices import SEARCH_DEBOUNCE_MS
from ui.tasks import BackgroundTask, TaskManager
from ui.widgets.banner import Banner

__all__ = ["DashboardsPage"]


class DashboardsPage(QWidget):
    message = Signal(str)

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.model = DashboardTableModel(tasks, self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search dashboards by title…")
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.model.set_search_text(self.search.text()))
        self.search.textEdited.connect(lambda _t: self._debounce.start())
        self.open_button = QPushButton("Open in browser", self)
        self.open_button.clicked.connect(self.open_selected)
        self.export_button = QPushButton("Export JSON…", self)
        self.export_button.clicked.connect(self._on_export_clicked)
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.open_button)
        bar.addWidget(self.export_button)

        self.banner = Banner(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.setAlternatingRowColors(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setColumnWidth(0, 150)
        self.view.setColumnWidth(1, 260)
        self.view.setColumnWidth(2, 260)
        self.view.doubleClicked.connect(lambda _i: self.open_selected())
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.model.load_failed.connect(lambda m: self.banner.show_message(m, retry=self.model.reload))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        self._update_buttons()

    def set_fleet(self, fleet: Fleet | None) -> None:
        self.banner.dismiss()
        self._debounce.stop()
        self.model.set_fleet(fleet)

    def selected(self) -> DashboardRow | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def _update_buttons(self, *_args: object) -> None:
        enabled = self.selected() is not None
        self.open_button.setEnabled(enabled)
        self.export_button.setEnabled(enabled)

    def dashboard_url(self) -> str | None:
        row, fleet = self.selected(), self.model.fleet
        if row is None or fleet is None:
            return None
        return fleet.dashboard_url(row.id)

    def open_selected(self) -> bool:
        url = self.dashboard_url()
        if url is None:
            return False
        if not QDesktopServices.openUrl(QUrl(url)):
            self.banner.show_message(f"Could not open a browser for {url}.", kind="warning")
            return False
        return True

    def _on_export_clicked(self) -> None:
        row = self.selected()
        if row is None:
            return
        safe = "".join(c if c.isalnum() or c in " -_" else "_" for c in row.title).strip() or "dashboard"
        dialog = QFileDialog(self, "Export dashboard JSON", f"{safe}.json", "JSON files (*.json)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("json")
        dialog.fileSelected.connect(lambda path: self.export_json(row, Path(path)))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def export_json(self, row: DashboardRow, path: Path) -> BackgroundTask | None:
        fleet = self.model.fleet
        if fleet is None:
            return None

        async def run() -> None:
            size = await export_dashboard_json(fleet, row.id, path)
            self.message.emit(f"Saved “{row.title}” ({size:,} bytes) to {path.name}.")

        return self._tasks.start(run(), f"Exporting {row.title}", visible=True)
