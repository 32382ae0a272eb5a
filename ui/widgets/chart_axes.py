"""Several y-axes on one pyqtgraph plot: extra ViewBoxes sharing the x-axis, one right-hand axis each.

Imported only by `live_chart` (it imports pyqtgraph). With one axis every series lives in the plot's own ViewBox;
with an axis per key, the first key keeps the left axis and the next keys get their own ViewBox and axis on the
right (up to `MAX_AXES`; further keys share the last one), because temperature in °C and pressure in kPa on one
scale flatten one of them into a line.
"""

from __future__ import annotations

import importlib
from collections import OrderedDict
from typing import Any

import pyqtgraph as pg

__all__ = ["MAX_AXES", "AxisManager", "time_axis"]

MAX_AXES = 4


def time_axis() -> pg.DateAxisItem:
    """A date axis that labels a 5-minute window in the narrow device panel too: pyqtgraph's minute labels jump
    from every minute to every 5 minutes when they don't fit, which leaves one label or none there."""
    dates = importlib.import_module("pyqtgraph.graphicsItems.DateAxisItem")
    minutes = dates.ZoomLevel(
        [
            dates.TickSpec(dates.DAY_SPACING, dates.makeSStepper(dates.DAY_SPACING), "%a %d"),
            dates.TickSpec(
                dates.MINUTE_SPACING, dates.makeSStepper(dates.MINUTE_SPACING), "%H:%M", autoSkip=[1, 2, 5, 10, 15, 30]
            ),
        ],
        dates.HOUR_MINUTE_ZOOM_LEVEL.exampleText,
    )
    axis = pg.DateAxisItem()
    levels = axis.zoomLevels.items()
    axis.zoomLevels = OrderedDict(
        (spacing, minutes if level is dates.HOUR_MINUTE_ZOOM_LEVEL else level) for spacing, level in levels
    )
    return axis


class AxisManager:
    """Decides which ViewBox draws a series and keeps the extra ViewBoxes aligned with the main one."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self._plot = plot
        self.per_key = False
        self._keys: list[str] = []  # in order of first appearance
        self._extras: list[tuple[pg.ViewBox, pg.AxisItem]] = []
        plot.vb.sigResized.connect(self._sync)

    @property
    def main(self) -> pg.ViewBox:
        return self._plot.vb

    def views(self) -> list[pg.ViewBox]:
        return [self.main, *(vb for vb, _axis in self._extras)]

    def view_for(self, key: str, colour: str) -> pg.ViewBox:
        """The ViewBox a series of `key` belongs in (created on demand)."""
        if key not in self._keys:
            self._keys.append(key)
        if not self.per_key:
            return self.main
        index = min(self._keys.index(key), MAX_AXES - 1)
        if index == 0:
            if self._plot.getAxis("left").labelText != key:
                self._plot.setLabel("left", key, color=colour)  # the first series of the key sets the colour
            return self.main
        while len(self._extras) < index:
            self._add_extra()
        vb, axis = self._extras[index - 1]
        if not axis.isVisible():
            axis.show()
        if axis.labelText == "":
            axis.setLabel(key, color=colour)
        elif key not in axis.labelText.split(", ") and len(axis.labelText) < 40:
            axis.setLabel(f"{axis.labelText}, {key}", color=colour)
        return vb

    def set_per_key(self, per_key: bool) -> None:
        """Switch modes; the caller moves its items afterwards (via `view_for`)."""
        self.per_key = per_key
        self._keys.clear()
        self._plot.setLabel("left", "")
        for _vb, axis in self._extras:
            axis.setLabel("")
            axis.hide()

    def forget_key(self, key: str) -> None:
        if key in self._keys and not self.per_key:
            self._keys.remove(key)

    def enable_y_autorange(self) -> None:
        for vb in self.views():
            vb.enableAutoRange(axis=pg.ViewBox.YAxis)

    def dispose(self) -> None:
        """Take the extra ViewBoxes and axes out of the scene (they are not owned by the plot)."""
        try:
            self._plot.vb.sigResized.disconnect(self._sync)
        except (RuntimeError, TypeError):
            pass
        scene = self._plot.scene()
        for vb, axis in self._extras:
            vb.clear()
            self._plot.layout.removeItem(axis)
            if scene is not None:
                scene.removeItem(axis)
                scene.removeItem(vb)
        self._extras.clear()

    def _add_extra(self) -> None:
        vb = pg.ViewBox()
        axis = pg.AxisItem("right")
        self._plot.layout.addItem(axis, 2, 3 + len(self._extras))
        self._plot.scene().addItem(vb)
        axis.linkToView(vb)
        vb.setXLink(self._plot.vb)
        vb.enableAutoRange(axis=pg.ViewBox.YAxis)
        vb.setMouseEnabled(x=False, y=True)
        self._extras.append((vb, axis))
        self._sync()

    def _sync(self, *_args: Any) -> None:
        rect = self._plot.vb.sceneBoundingRect()
        for vb, _axis in self._extras:
            vb.setGeometry(rect)
            vb.linkedViewChanged(self._plot.vb, vb.XAxis)
