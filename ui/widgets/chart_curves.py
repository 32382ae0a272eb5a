"""Few graphics items for many series: series of the same colour, y-axis and kind share one pyqtgraph item.

pyqtgraph's per-item cost (bounding rects, auto-range bounds, paint set-up) is paid in Python for every item on every
frame; with 100 PlotCurveItems that alone is ~25 ms a frame. As in pyqtgraph's multiplePlotSpeedTest, series are
concatenated into one PlotCurveItem per (ViewBox, colour) with a `connect` mask that breaks the line between series
(and across connection gaps), and booleans into one ScatterPlotItem per (ViewBox, colour). Imported by live_chart only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg

__all__ = ["CurveGroups", "SeriesArrays"]

PEN_WIDTH = 1  # a 2 px pen costs ~5x more to rasterise (100 series: ~22 ms vs ~105 ms a frame)
SEGMENTED = "on"  # drawLines: no path stroking
SeriesArrays = tuple[np.ndarray, np.ndarray, np.ndarray | None]  # x (s), y, connect mask (None: all connected)
GroupKey = tuple[int, str, bool]  # id(ViewBox), colour, boolean


@dataclass
class _Group:
    view: pg.ViewBox
    item: pg.GraphicsObject
    members: list[Hashable] = field(default_factory=list)
    dirty: bool = True


class CurveGroups:
    """Which item draws each series, and the concatenation that feeds it."""

    def __init__(self) -> None:
        self._groups: dict[GroupKey, _Group] = {}
        self._of: dict[Hashable, GroupKey] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def assign(self, ident: Hashable, view: pg.ViewBox, colour: str, boolean: bool) -> None:
        """Put a series in its group (moving it if its axis, colour or kind changed)."""
        key = (id(view), colour, boolean)
        old = self._of.get(ident)
        if old == key:
            return
        if old is not None:
            self.remove(ident)
        group = self._groups.get(key)
        if group is None:
            if boolean:
                item: pg.GraphicsObject = pg.ScatterPlotItem(size=7, pen=None, brush=pg.mkBrush(colour), symbol="s")
            else:
                item = pg.PlotCurveItem(pen=pg.mkPen(colour, width=PEN_WIDTH), skipFiniteCheck=True)
                item.setSegmentedLineMode(SEGMENTED)
            view.addItem(item)
            group = self._groups[key] = _Group(view, item)
        group.members.append(ident)
        group.dirty = True
        self._of[ident] = key

    def has(self, ident: Hashable) -> bool:
        return ident in self._of

    def remove(self, ident: Hashable) -> None:
        key = self._of.pop(ident, None)
        if key is None:
            return
        group = self._groups[key]
        group.members.remove(ident)
        group.dirty = True
        if not group.members:
            group.view.removeItem(group.item)
            del self._groups[key]

    def clear(self) -> None:
        for ident in list(self._of):
            self.remove(ident)

    def mark_dirty(self, ident: Hashable) -> None:
        key = self._of.get(ident)
        if key is not None:
            self._groups[key].dirty = True

    def mark_all_dirty(self) -> None:
        for group in self._groups.values():
            group.dirty = True

    def item_for(self, ident: Hashable) -> pg.GraphicsObject | None:
        key = self._of.get(ident)
        return self._groups[key].item if key is not None else None

    def flush(self, arrays_for: Callable[[Hashable], SeriesArrays | None]) -> int:
        """Hand every dirty group its members' concatenated data; returns how many items were updated."""
        updated = 0
        for (_view, _colour, boolean), group in self._groups.items():
            if not group.dirty:
                continue
            group.dirty = False
            parts = [a for a in (arrays_for(ident) for ident in group.members) if a is not None and len(a[0])]
            updated += 1
            if not parts:
                group.item.setData(x=np.empty(0), y=np.empty(0)) if boolean else group.item.setData([], [])
                continue
            x = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
            y = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
            if boolean:
                group.item.setData(x=x, y=y)
                continue
            if len(parts) == 1 and parts[0][2] is None:
                group.item.setData(x, y, skipFiniteCheck=True, connect="all")
                continue
            connect = np.ones(len(x), dtype=bool)
            end = 0
            for px, _py, mask in parts:
                if mask is not None:
                    connect[end : end + len(px)] = mask
                end += len(px)
                connect[end - 1] = False  # never join the last point of one series to the first of the next
            group.item.setData(x, y, skipFiniteCheck=True, connect=connect)
        return updated
