"""The device panel's Chart tab: a light placeholder that builds the real chart the first time it is shown.

pyqtgraph and numpy cost ~0.5 s and ~70 MB, so this module imports neither: `ui.widgets.live_chart` is imported
inside `_ensure_chart`, when the user first opens the tab with a device selected.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from console.fleet import Fleet

if TYPE_CHECKING:
    from ui.widgets.live_chart import LiveChart

__all__ = ["DeviceChartTab"]


class DeviceChartTab(QWidget):
    """Follows the device panel's selection (`set_device(fleet, device_id)`) and charts that device's keys."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("Select a device to chart its telemetry.", self)
        self.placeholder.setStyleSheet("color: palette(mid); padding: 8px;")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._layout.addWidget(self.placeholder, 1)
        self.chart: LiveChart | None = None
        self._fleet: Fleet | None = None
        self._device_id: str | None = None
        self._shown_device: str | None = None
        self._closing: set[asyncio.Task[None]] = set()

    def set_device(self, fleet: Fleet | None, device_id: str | None) -> None:
        if fleet is not self._fleet and self.chart is not None:
            self._dispose_chart()
        self._fleet, self._device_id = fleet, device_id
        if self.isVisible():
            self._sync()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._sync()

    def _sync(self) -> None:
        if self._fleet is None or self._device_id is None:
            if self.chart is not None:
                self.chart.clear_series()
                self._shown_device = None
            if self.chart is not None:
                self.chart.setVisible(False)
            self.placeholder.setVisible(True)
            return
        if self._device_id == self._shown_device and self.chart is not None:
            return
        chart = self._ensure_chart(self._fleet)
        self._shown_device = self._device_id
        chart.show_device(self._device_id)

    def _ensure_chart(self, fleet: Fleet) -> LiveChart:
        if self.chart is None:
            from ui.widgets.live_chart import LiveChart

            self.chart = LiveChart(fleet, self)
            self._layout.insertWidget(0, self.chart, 1)
        self.placeholder.setVisible(False)
        self.chart.setVisible(True)
        return self.chart

    def _dispose_chart(self) -> None:
        chart, self.chart = self.chart, None
        self._shown_device = None
        if chart is None:
            return
        chart.hide()
        task = asyncio.ensure_future(chart.aclose())
        self._closing.add(task)
        task.add_done_callback(lambda t: (self._closing.discard(t), chart.deleteLater()))

    async def aclose(self) -> None:
        """Release the chart's subscription and timer (the panel calls this on close and before a new fleet)."""
        chart, self.chart = self.chart, None
        self._shown_device = None
        if chart is not None:
            chart.hide()
            await chart.aclose()
            chart.deleteLater()
            self.placeholder.setVisible(True)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
