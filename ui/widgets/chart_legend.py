"""The chart's legend: one row per series with its colour, a visibility check box, and a remove action.

A Qt list beside the plot rather than pyqtgraph's in-plot LegendItem: it never covers data, never gets clipped,
scrolls when there are a hundred series, and stays cheap to import (no pyqtgraph here).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMenu, QWidget

__all__ = ["PALETTE", "ChartLegend", "colour_for"]

# Colour-blind-friendly, readable on a white plot (Tableau 10).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip

Ident = tuple[str, str]  # (device id, key)


def colour_for(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class ChartLegend(QListWidget):
    """Series rows; checking a row shows its line, unchecking hides it."""

    visibility_changed = Signal(object, bool)  # ident, visible
    remove_requested = Signal(object)  # ident

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: dict[Ident, QListWidgetItem] = {}
        self.setMinimumWidth(160)
        self.setWordWrap(True)  # long device names wrap instead of being clipped
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_context_menu)
        self.itemChanged.connect(self._on_item_changed)

    def add_series(self, ident: Ident, title: str, colour: str, *, visible: bool = True) -> None:
        item = QListWidgetItem(_swatch(colour), title)
        item.setData(Qt.ItemDataRole.UserRole, ident)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
        item.setToolTip(title)
        self._items[ident] = item
        self.addItem(item)

    def remove_series(self, ident: Ident) -> None:
        item = self._items.pop(ident, None)
        if item is not None:
            self.takeItem(self.row(item))

    def set_note(self, ident: Ident, note: str) -> None:
        """A suffix on the row (e.g. 'not numeric'), with the full text as tooltip."""
        item = self._items.get(ident)
        if item is None:
            return
        base = item.data(Qt.ItemDataRole.UserRole + 1) or item.text()
        item.setData(Qt.ItemDataRole.UserRole + 1, base)
        self.blockSignals(True)
        item.setText(f"{base} — {note}" if note else base)
        item.setToolTip(item.text())
        self.blockSignals(False)

    def set_visible(self, ident: Ident, visible: bool) -> None:
        item = self._items.get(ident)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def is_visible(self, ident: Ident) -> bool:
        item = self._items.get(ident)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def titles(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        ident = item.data(Qt.ItemDataRole.UserRole)
        if ident is not None:
            self.visibility_changed.emit(tuple(ident), item.checkState() == Qt.CheckState.Checked)

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        ident = tuple(item.data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Remove from chart", lambda: self.remove_requested.emit(ident))
        menu.popup(self.viewport().mapToGlobal(pos))
