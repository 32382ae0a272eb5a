"""The main window: navigation (Devices, Dashboards, Collections on PocketBase), the central table, the device
panel and the status bar. It holds one `Fleet` at a time and never blocks the loop.

Plug-in points for other features: `device_actions` (a QMenu shown as the Device menu and the table's context
menu; actions read `selected_device_ids()`), `device_panel.add_tab(...)` / `set_attributes_widget(...)`, and
`tasks.start(...)` for background work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QListWidget,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.fleet import ConnectionState, DeviceRow, Fleet
from ui.tasks import TaskManager
from ui.widgets.banner import Banner
from ui.widgets.chart_plugin import install_charts
from ui.widgets.collections_page import CollectionsPage
from ui.widgets.dashboards_page import DashboardsPage
from ui.widgets.device_panel import DevicePanel
from ui.widgets.devices_page import DevicesPage
from ui.widgets.status_bar import StatusBar

__all__ = ["COUNTS_REFRESH_MS", "MainWindow"]

log = logging.getLogger(__name__)

COUNTS_REFRESH_MS = 30_000
SELECTION_SETTLE_MS = 250  # selection changes closer than this load only the last device
PAGE_DEVICES, PAGE_DASHBOARDS, PAGE_COLLECTIONS = "Devices", "Dashboards", "Collections"


class MainWindow(QMainWindow):
    """The console window. `set_fleet` shows a connected fleet; `aclose()` (or closing) winds everything down."""

    first_rows_painted = Signal()  # the device table painted its first page (once per window)
    connect_requested = Signal()  # File > Connect…: the app opens the connect dialog
    closed = Signal()  # after close: every task finished

    def __init__(self, tasks: TaskManager | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Thingscope")
        self.resize(1400, 820)
        self.tasks = tasks or TaskManager(self)
        self._fleet: Fleet | None = None
        self._owns_fleet = False
        self._fleet_closer: Callable[[], Awaitable[Any]] | None = None
        self._state_unsubscribe: Callable[[], None] | None = None
        self._painted = False
        self._closing: asyncio.Task[None] | None = None
        self._closed = False

        self.navigation = QListWidget(self)
        self.navigation.setMaximumWidth(150)
        self.navigation.addItems([PAGE_DEVICES, PAGE_DASHBOARDS])
        self.devices_page = DevicesPage(self.tasks, self)
        self.dashboards_page = DashboardsPage(self.tasks, self)
        self.collections_page = CollectionsPage(self.tasks, self)
        self.pages = QStackedWidget(self)
        for page in (self.devices_page, self.dashboards_page, self.collections_page):
            self.pages.addWidget(page)
        self.navigation.currentRowChanged.connect(self._on_navigation_row_changed)

        self.device_panel = DevicePanel(self.tasks, self)
        self.device_panel.setMinimumWidth(360)
        self.banner = Banner(self)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.navigation)
        splitter.addWidget(self.pages)
        splitter.addWidget(self.device_panel)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([120, 860, 420])
        self.splitter = splitter
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.banner)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        self.status = StatusBar(self.tasks, self)
        self.setStatusBar(self.status)
        self.device_actions: QMenu = self.devices_page.actions_menu
        self._build_menus()
        self.charts = install_charts(self)  # Chart tab, "Add to chart" actions, chart workspace (lazy pyqtgraph)

        self._counts_timer = QTimer(self)
        self._counts_timer.setInterval(COUNTS_REFRESH_MS)
        self._counts_timer.timeout.connect(self.refresh_counts)
        # arrow-key browsing: the first selection shows at once, the ones that follow within the interval collapse
        # into the last (each device costs ~7 requests; a rate-limited server answered hundreds of 429s)
        self._device_settle = QTimer(self)
        self._device_settle.setSingleShot(True)
        self._device_settle.setInterval(SELECTION_SETTLE_MS)
        self._device_settle.timeout.connect(self._apply_pending_device)
        self._pending_device: tuple[str | None] | None = None

        self.tasks.error_raised.connect(self.show_error)
        self.devices_page.message.connect(self.status.showMessage)
        self.dashboards_page.message.connect(self.status.showMessage)
        self.devices_page.current_device_changed.connect(self._on_current_device_changed)
        self.devices_page.model.page_loaded.connect(self._on_device_page_loaded)
        self.navigation.setCurrentRow(0)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.connect_action = QAction("&Connect…", self)
        self.connect_action.setShortcut(QKeySequence("Ctrl+K"))
        self.connect_action.triggered.connect(self.connect_requested.emit)
        self.disconnect_action = QAction("&Disconnect", self)
        self.disconnect_action.triggered.connect(lambda: self.tasks.start(self.set_fleet(None), "Disconnecting"))
        self.export_action = QAction("&Export devices to CSV…", self)
        self.export_action.triggered.connect(self.devices_page.export_button.click)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)  # also from History, the charts
        quit_action.triggered.connect(self.close)
        for action in (self.connect_action, self.disconnect_action, self.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self.menuBar().addMenu(self.device_actions)
        view_menu = self.menuBar().addMenu("&View")
        refresh = QAction("&Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.refresh)
        view_menu.addAction(refresh)
        find = QAction("&Find device", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.focus_search)
        view_menu.addAction(find)

    # --- fleet ----------------------------------------------------------------------------------------------

    @property
    def fleet(self) -> Fleet | None:
        return self._fleet

    async def set_fleet(
        self, fleet: Fleet | None, *, owned: bool = False, closer: Callable[[], Awaitable[Any]] | None = None
    ) -> None:
        """Show `fleet` (already connected). An `owned` fleet is closed when replaced or when the window closes;
        `closer` replaces `fleet.close()` for that (the demo runner stops its server)."""
        await self.device_panel.aclose()  # its live feed belongs to the old fleet
        await self._release_fleet()
        self._fleet = fleet
        self._owns_fleet = owned
        self._fleet_closer = closer
        self.devices_page.set_fleet(fleet)
        self.dashboards_page.set_fleet(fleet)
        self.collections_page.set_fleet(fleet)
        self._device_settle.stop()
        self._pending_device = None
        self.device_panel.set_device(fleet, None)
        self._set_collections_visible(fleet is not None and fleet.kind == "pocketbase")
        if fleet is None:
            self.status.set_connection("", ConnectionState.DISCONNECTED)
            self.status.set_counts(None)
            self.setWindowTitle("Thingscope")
            self._counts_timer.stop()
            return
        self.setWindowTitle(f"Thingscope — {fleet.title}")
        self.status.set_connection(fleet.title, ConnectionState.CONNECTED)
        self._state_unsubscribe = fleet.on_state(self._on_fleet_state)
        self.refresh_counts()
        self._counts_timer.start()

    async def _release_fleet(self) -> None:
        if self._state_unsubscribe is not None:
            self._state_unsubscribe()
            self._state_unsubscribe = None
        old, owned, closer = self._fleet, self._owns_fleet, self._fleet_closer
        self._fleet, self._owns_fleet, self._fleet_closer = None, False, None
        if old is not None and owned:
            try:
                await (closer() if closer is not None else old.close())
            except Exception:  # closing must not stop the window from going on
                log.exception("closing the connection failed")

    def _on_fleet_state(self, state: ConnectionState, detail: str) -> None:
        if self._fleet is not None:
            self.status.set_connection(self._fleet.title, state, detail)
            if state is ConnectionState.CONNECTED:
                self.device_panel.refresh_failed()  # e.g. "connection refused" while the server was down

    def refresh_counts(self) -> None:
        fleet = self._fleet
        if fleet is None:
            return

        async def load() -> None:
            counts = await fleet.device_counts()
            if fleet is self._fleet:
                self.status.set_counts(counts)

        self.tasks.start(load(), "Counting devices", on_error=lambda m: self.status.showMessage(m, 10000))

    def refresh(self) -> None:
        if self.pages.currentWidget() is self.dashboards_page:
            self.dashboards_page.model.reload()
        else:
            self.devices_page.model.reload()
        self.device_panel.refresh()
        self.refresh_counts()

    def focus_search(self) -> None:
        """Ctrl+F: the Devices page's search box, its text selected so typing replaces it."""
        self.navigation.setCurrentRow(0)
        self.devices_page.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.devices_page.search.selectAll()

    # --- navigation, selection --------------------------------------------------------------------------------

    def _set_collections_visible(self, visible: bool) -> None:
        present = self.navigation.count() == 3
        if visible and not present:
            self.navigation.addItem(PAGE_COLLECTIONS)
        elif not visible and present:
            if self.navigation.currentRow() == 2:
                self.navigation.setCurrentRow(0)
            self.navigation.takeItem(2)

    def show_page(self, name: str) -> None:
        for row in range(self.navigation.count()):
            if self.navigation.item(row).text() == name:
                self.navigation.setCurrentRow(row)
                return

    def _on_navigation_row_changed(self, row: int) -> None:
        if row >= 0:
            self.pages.setCurrentIndex(row)
            self.device_panel.setVisible(self.pages.currentWidget() is self.devices_page)

    def selected_device_ids(self) -> list[str]:
        """Ids of the devices selected in the table, in table order (for actions on several devices)."""
        return self.devices_page.selected_device_ids()

    def selected_devices(self) -> list[DeviceRow]:
        return self.devices_page.selected_rows()

    def _on_current_device_changed(self, device_id: str | None) -> None:
        if self._device_settle.isActive():
            self._pending_device = (device_id,)
            self._device_settle.start()  # wait until the selection stops moving
            return
        self.device_panel.set_device(self._fleet, device_id)
        self._device_settle.start()

    def _apply_pending_device(self) -> None:
        pending, self._pending_device = self._pending_device, None
        if pending is not None and not self._closed:
            self.device_panel.set_device(self._fleet, pending[0])
            self._device_settle.start()

    def _on_device_page_loaded(self, _count: int) -> None:
        if not self._painted:
            self._painted = True
            # emitted after the view had a chance to lay out and paint the new rows
            QTimer.singleShot(0, self._emit_first_rows_painted)

    def _emit_first_rows_painted(self) -> None:
        if not self._closed:
            self.devices_page.view.viewport().repaint()
            self.first_rows_painted.emit()

    # --- errors -----------------------------------------------------------------------------------------------

    def show_error(self, message: str) -> None:
        """The server's message, inline above the tables and in the status bar; never a traceback."""
        self.banner.show_message(message)
        self.status.show_error(message)

    # --- closing ----------------------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Cancel and await every task, drop the live feeds, close an owned fleet. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._counts_timer.stop()
        self._device_settle.stop()
        self.devices_page.model.set_fleet(None)
        self.dashboards_page.model.set_fleet(None)
        await self.device_panel.aclose()
        await self.charts.aclose()
        self.device_panel.set_device(None, None)
        await self.tasks.shutdown()
        await self._release_fleet()
        self.closed.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed:
            event.accept()
            return
        event.ignore()  # close for real once the tasks are done
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_later())

    async def _close_later(self) -> None:
        await self.aclose()
        self.close()
