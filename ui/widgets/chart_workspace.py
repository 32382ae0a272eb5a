"""The chart workspace: one window where any numeric key of any device can be overlaid ("Add to chart").

Light to import (no pyqtgraph): the LiveChart inside is built on the first `add_*` call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from console.fleet import Fleet

if TYPE_CHECKING:
    from ui.widgets.live_chart import LiveChart

__all__ = ["ChartWorkspace"]


class ChartWorkspace(QWidget):
    """A top-level window holding one multi-device chart; `add_series` / `add_device` fill it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Chart workspace — Thingscope")
        self.resize(1100, 620)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self.hint = QLabel('Use "Add to chart" on a device or a telemetry key to overlay it here.', self)
        self.hint.setStyleSheet("color: palette(mid);")
        self._layout.addWidget(self.hint)
        self.chart: LiveChart | None = None
        self._retiring: set[asyncio.Task[None]] = set()

    def _chart_for(self, fleet: Fleet) -> LiveChart:
        from ui.widgets.live_chart import LiveChart

        if self.chart is not None and self.chart.fleet is not fleet:
            self._retire(self.chart)  # a new connection: the old chart's series belong to the old fleet
            self.chart = None
        if self.chart is None:
            self.chart = LiveChart(fleet, self)
            self._layout.addWidget(self.chart, 1)
            self.hint.setVisible(False)
        return self.chart

    def add_series(self, fleet: Fleet, device_id: str, key: str, device_name: str = "") -> None:
        """Overlay one key of one device (no-op if it is already there) and bring the window up."""
        self._chart_for(fleet).add_series(device_id, key, device_name or device_id)
        self._present()

    def add_keys(self, fleet: Fleet, items: Sequence[tuple[str, str, str]]) -> None:
        """Overlay several (device id, key, device name) at once: one subscription, batched history."""
        self._chart_for(fleet).add_many([(d, k, n or d) for d, k, n in items])
        self._present()

    def add_device(self, fleet: Fleet, device_id: str, device_name: str = "") -> None:
        """Overlay every numeric key of a device (its keys are fetched first)."""
        chart = self._chart_for(fleet)
        chart.add_device_keys(device_id, device_name or device_id)
        self._present()

    def _present(self) -> None:
        if not self.isVisible():
            self.show()
        self.raise_()
        self.activateWindow()

    def _retire(self, chart: LiveChart) -> None:
        chart.hide()
        task = asyncio.ensure_future(chart.aclose())
        self._retiring.add(task)
        task.add_done_callback(lambda t: (self._retiring.discard(t), chart.deleteLater()))

    async def aclose(self) -> None:
        """Stop the chart's live feed and timer; the window can then be closed or reused."""
        chart, self.chart = self.chart, None
        if chart is not None:
            chart.hide()
            await chart.aclose()
            chart.deleteLater()
            self.hint.setVisible(True)
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)
