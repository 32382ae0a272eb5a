"""The Devices page: search, profile and state filters, the device table, and its context menu actions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.fleet import DeviceRow, Fleet
from ui.models.devices import DeviceTableModel, export_devices_csv
from ui.tasks import BackgroundTask, TaskManager
from ui.widgets.banner import Banner

__all__ = ["DevicesPage"]

_ALL_PROFILES = "All device profiles"
_STATES = (("Any state", None), ("Active", True), ("Inactive", False))


class DevicesPage(QWidget):
    """Owns the device model and view; the main window reads the selection and adds actions to `actions_menu`."""

    selection_changed = Signal(list)  # device ids, in table order
    current_device_changed = Signal(object)  # device id or None
    message = Signal(str)  # a short confirmation for the status bar

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.model = DeviceTableModel(tasks, self)
        self._wanted_id: str | None = None  # keep the selected device selected across a new query
        self._emitted_id: str | None = None

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search devices by name…")
        self.search.setClearButtonEnabled(True)
        self.search.textEdited.connect(self.model.set_search_text)
        self.search.returnPressed.connect(self.model.flush_search)
        self.profile_filter = QComboBox(self)
        self.profile_filter.addItem(_ALL_PROFILES, None)
        self.profile_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.profile_filter.currentIndexChanged.connect(self._on_profile_filter_changed)
        self.state_filter = QComboBox(self)
        for title, value in _STATES:
            self.state_filter.addItem(title, value)
        self.state_filter.currentIndexChanged.connect(self._on_state_filter_changed)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.model.reload)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.clicked.connect(self._on_export_clicked)
        self.count_label = QLabel(self)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.profile_filter)
        bar.addWidget(self.state_filter)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)

        self.banner = Banner(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)
        self.view.horizontalHeader().sortIndicatorChanged.connect(self._on_sort_indicator_changed)
        self._set_column_widths()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count_label)

        self.actions_menu = QMenu("&Device", self)
        self.copy_id_action = QAction("Copy device id", self)
        self.copy_id_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_id_action.triggered.connect(self.copy_device_id)
        self.copy_token_action = QAction("Copy access token", self)
        self.copy_token_action.triggered.connect(self.copy_access_token)
        self.actions_menu.addAction(self.copy_id_action)
        self.actions_menu.addAction(self.copy_token_action)
        self.view.addAction(self.copy_id_action)

        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        self.model.modelAboutToBeReset.connect(self._on_model_about_to_reset)
        self.model.page_loaded.connect(self._on_page_loaded)
        self.model.total_changed.connect(self._update_count)
        self.model.rowsInserted.connect(self._update_count)
        self.model.modelReset.connect(self._update_count)
        self.model.load_failed.connect(lambda m: self.banner.show_message(m, retry=self.model.reload))
        self._update_count()

    def _set_column_widths(self) -> None:
        metrics = self.view.fontMetrics()
        date_width = metrics.horizontalAdvance("2025-10-09 11:00:20") + 16
        widths = {"created_time": date_width, "name": 150, "profile": 110, "label": 90, "active": 70, "customer": 110}
        for field, width in widths.items():
            self.view.setColumnWidth(self.model.column_of_field(field), width)

    def fit_columns(self) -> None:
        """Size columns to the rows on screen (once per query's first page), within sensible bounds."""
        header = self.view.horizontalHeader()
        for column in range(self.model.columnCount() - 1):
            hint = max(self.view.sizeHintForColumn(column), header.sectionSizeHint(column))
            self.view.setColumnWidth(column, max(60, min(hint + 8, 240)))

    # --- fleet ---------------------------------------------------------------------------------------------

    def set_fleet(self, fleet: Fleet | None) -> None:
        self.banner.dismiss()
        self._wanted_id = None
        # the window cleared the device panel for the new fleet: the same device selected again on it (same server,
        # another profile) must reach the panel, not be swallowed as "no change"
        self._emitted_id = None
        self.profile_filter.blockSignals(True)
        self.profile_filter.clear()
        self.profile_filter.addItem(_ALL_PROFILES, None)
        self.profile_filter.blockSignals(False)
        self.model.set_fleet(fleet)
        if fleet is not None:
            self._tasks.start(self._load_profiles(fleet), "Loading device profiles")

    async def _load_profiles(self, fleet: Fleet) -> None:
        profiles = await fleet.device_profiles()
        if fleet is not self.model.fleet:
            return
        current = self.profile_filter.currentData()
        self.profile_filter.blockSignals(True)
        for name in sorted(profiles):
            self.profile_filter.addItem(name, name)
        if current is not None:
            self.profile_filter.setCurrentIndex(max(0, self.profile_filter.findData(current)))
        self.profile_filter.blockSignals(False)

    # --- selection -----------------------------------------------------------------------------------------

    def selected_rows(self) -> list[DeviceRow]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [self.model.row_at(r) for r in rows]

    def selected_device_ids(self) -> list[str]:
        return [row.id for row in self.selected_rows()]

    def current_device(self) -> DeviceRow | None:
        index = self.view.selectionModel().currentIndex()
        if not index.isValid() or not self.view.selectionModel().isRowSelected(index.row(), QModelIndex()):
            rows = self.selected_rows()
            return rows[0] if rows else None
        return self.model.row_at(index.row())

    def select_device(self, device_id: str) -> bool:
        """Select a device by id (now if loaded, else when it arrives in this query)."""
        row = self.model.row_of(device_id)
        if row < 0:
            self._wanted_id = device_id
            return False
        self._wanted_id = None
        index = self.model.index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)
        return True

    def _on_selection_changed(self, *_args: object) -> None:
        ids = self.selected_device_ids()
        if ids:
            self._wanted_id = None
        self.selection_changed.emit(ids)
        self._emit_current()

    def _on_current_row_changed(self, *_args: object) -> None:
        self._emit_current()

    def _emit_current(self) -> None:
        row = self.current_device()
        if row is None and self._wanted_id is not None:
            return  # a new query is loading; the panel keeps the device until it is selected again
        device_id = row.id if row else None
        if device_id != self._emitted_id:
            self._emitted_id = device_id
            self.current_device_changed.emit(device_id)

    def _on_model_about_to_reset(self) -> None:
        # the reset clears the selection; the new query selects the same device again when it arrives
        row = self.current_device()
        if row is not None:
            self._wanted_id = row.id

    def _on_page_loaded(self, _count: int) -> None:
        if self.model.rowCount() == _count:  # the first page of this query
            self.fit_columns()
        if self._wanted_id is not None:
            self.select_device(self._wanted_id)

    # --- filters and sort ------------------------------------------------------------------------------------

    def _on_profile_filter_changed(self, _index: int) -> None:
        self.model.set_profile_filter(self.profile_filter.currentData())

    def _on_state_filter_changed(self, _index: int) -> None:
        self.model.set_active_filter(self.state_filter.currentData())

    def _on_sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        if self.model.field_of_column(column) not in self.model.sortable:
            # the server can't sort by this column: put the indicator back where the data is sorted
            query = self.model.query
            order = Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder
            header = self.view.horizontalHeader()
            header.blockSignals(True)
            header.setSortIndicator(self.model.column_of_field(query.sort), order)
            header.blockSignals(False)
            self.message.emit("The server can't sort by this column.")

    def _update_count(self, *_args: object) -> None:
        loaded, total = self.model.rowCount(), self.model.total
        if self.model.fleet is None:
            self.count_label.setText("")
        elif total > loaded:
            self.count_label.setText(f"{loaded:,} of {total:,} devices loaded (scroll for more)")
        else:
            self.count_label.setText(f"{loaded:,} devices")

    # --- actions -----------------------------------------------------------------------------------------------

    def _on_view_context_menu(self, pos: QPoint) -> None:
        self.actions_menu.popup(self.view.viewport().mapToGlobal(pos))

    def copy_device_id(self) -> None:
        ids = self.selected_device_ids()
        if ids:
            QGuiApplication.clipboard().setText("\n".join(ids))
            self.message.emit("Device id copied." if len(ids) == 1 else f"{len(ids)} device ids copied.")

    def copy_access_token(self) -> BackgroundTask | None:
        row = self.current_device()
        fleet = self.model.fleet
        if row is None or fleet is None:
            return None

        async def fetch() -> None:
            token = await fleet.access_token(row.id)
            QGuiApplication.clipboard().setText(token)
            self.message.emit(f"Access token of {row.name} copied.")

        return self._tasks.start(fetch(), "Reading access token")

    def _on_export_clicked(self) -> None:
        if self.model.fleet is None:
            return
        dialog = QFileDialog(self, "Export devices to CSV", "devices.csv", "CSV files (*.csv)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(lambda path: self.export_csv(Path(path)))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()  # never exec(): no nested loop under qasync

    def export_csv(self, path: Path) -> BackgroundTask | None:
        """Export every device of the current query (not only the loaded rows) in the background."""
        fleet = self.model.fleet
        if fleet is None:
            return None
        query, total = self.model.query, self.model.total

        async def run(handle: BackgroundTask) -> None:
            try:
                count = await export_devices_csv(fleet, query, path, handle, total)
            except asyncio.CancelledError:  # the status bar's Cancel: say so, and that no half file was left
                self.message.emit(f"Export cancelled: {path.name} was not written.")
                raise
            self.message.emit(f"Exported {count:,} devices to {path.name}.")

        return self._tasks.start(run, f"Exporting devices to {path.name}", visible=True)
