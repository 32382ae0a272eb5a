"""Plugs charts into the main window: the device panel's Chart tab, "Add to chart" actions, the chart workspace.

The window keeps one line for it (`self.charts = install_charts(self)`) plus `await self.charts.aclose()` on close;
everything else goes through the window's public plug-in points (`device_panel.add_tab`, `device_actions`,
`devices_page.selected_rows()`, `fleet`). Nothing here imports pyqtgraph: it loads with the first chart shown.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction

from ui.widgets.chart_tab import DeviceChartTab
from ui.widgets.chart_workspace import ChartWorkspace

__all__ = ["ChartPlugin", "install_charts"]


class ChartPlugin(QObject):
    """Owns the Chart tab and the workspace window of one main window."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.tab = DeviceChartTab(window.device_panel)
        window.device_panel.add_tab(self.tab, "Chart")
        self._workspace: ChartWorkspace | None = None  # made on first use: no hidden top-level window before

        self.add_devices_action = QAction("Add to chart", window)
        self.add_devices_action.setToolTip("Overlay every numeric key of the selected devices in the chart workspace")
        self.add_devices_action.triggered.connect(self.add_selected_devices)
        self.show_workspace_action = QAction("Show chart workspace", window)
        self.show_workspace_action.triggered.connect(self.show_workspace)
        window.device_actions.addSeparator()
        window.device_actions.addAction(self.add_devices_action)
        window.device_actions.addAction(self.show_workspace_action)

        table = window.device_panel.latest_view.table
        self.add_keys_action = QAction("Add to chart", table)
        self.add_keys_action.setToolTip("Overlay the selected keys of this device in the chart workspace")
        self.add_keys_action.triggered.connect(self.add_selected_keys)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        table.addAction(self.add_keys_action)

    @property
    def workspace(self) -> ChartWorkspace:
        if self._workspace is None:
            self._workspace = ChartWorkspace(self.window)
        return self._workspace

    def _device_name(self, device_id: str) -> str:
        current = self.window.devices_page.current_device()
        return current.name if current is not None and current.id == device_id else device_id

    def add_selected_devices(self) -> int:
        """Every key of each selected device (non-numeric keys are listed but hidden, with a note)."""
        fleet = self.window.fleet
        rows = self.window.devices_page.selected_rows()
        if fleet is None or not rows:
            return 0
        for row in rows:
            self.workspace.add_device(fleet, row.id, row.name)
        return len(rows)

    def add_selected_keys(self) -> int:
        """The keys selected in the latest-telemetry table, for the device shown in the panel."""
        fleet, device_id = self.window.fleet, self.window.device_panel.device_id
        table = self.window.device_panel.latest_view.table
        rows = sorted({index.row() for index in table.selectionModel().selectedRows()})
        keys = [table.item(r, 0).text() for r in rows if table.item(r, 0) is not None]
        if fleet is None or device_id is None or not keys:
            return 0
        name = self._device_name(device_id)
        self.workspace.add_keys(fleet, [(device_id, key, name) for key in keys])
        return len(keys)

    def show_workspace(self) -> None:
        self.workspace.show()
        self.workspace.raise_()

    async def aclose(self) -> None:
        await self.tab.aclose()
        workspace, self._workspace = self._workspace, None
        if workspace is not None:
            await workspace.aclose()
            workspace.close()
            workspace.deleteLater()


def install_charts(window: Any) -> ChartPlugin:
    return ChartPlugin(window)
