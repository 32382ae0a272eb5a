"""The device panel: tabs for Details, Attributes (by scope), Latest telemetry, and whatever plugs in (Chart).

Plug-in contract: a tab widget may define `set_device(fleet, device_id)`; the panel calls it on every tab whenever the
shown device changes (`device_id` None when nothing is selected). A tab that holds live feeds may define
`async aclose()`: the window awaits it before it cancels its tasks (close, or a new connection).
Everything loads through the task manager, and a newer selection drops the older loads (generation numbers).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.fleet import Attribute, DeviceDetails, Fleet, LatestValue, Point, Subscription
from ui.models.paged import format_ms
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

KEYS_RECHECK_MS = 10_000  # how often the shown device's telemetry keys are checked for new ones

__all__ = ["AttributesView", "DetailsView", "DevicePanel", "DeviceTab", "LatestTelemetryView", "format_value"]


class DeviceTab(Protocol):
    def set_device(self, fleet: Fleet | None, device_id: str | None) -> None: ...


def format_value(value: Any) -> str:
    """Attribute / telemetry value as text: JSON for objects and lists and booleans, as-is otherwise."""
    if isinstance(value, bool) or isinstance(value, dict | list) or value is None:
        return json.dumps(value, separators=(", ", ": "), ensure_ascii=False)
    return str(value)


def _table(columns: Sequence[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    # the "Value" column takes what is left (long values elide, full text in the tooltip); nothing scrolls sideways
    header.setSectionResizeMode(columns.index("Value"), QHeaderView.ResizeMode.Stretch)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text if len(text) > 40 else "")
            table.setItem(r, c, item)


class _TabBase(QWidget):
    """A table with a one-line note above it (loading / empty / error)."""

    columns: Sequence[str] = ()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.table = _table(self.columns, self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.show_note("Select a device.")

    def show_note(self, text: str, error: bool = False) -> None:
        self.failed = error and bool(text)
        self.note.setStyleSheet("color: #c0392b;" if error else "color: palette(mid);")
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def clear(self, note: str = "Select a device.") -> None:
        self.table.setRowCount(0)
        self.show_note(note)


class DetailsView(_TabBase):
    columns = ("Field", "Value")

    def show_details(self, details: DeviceDetails) -> None:
        row = details.row
        state = "" if row.active is None else ("Active" if row.active else "Inactive")
        rows = [
            ("Name", row.name),
            ("Id", row.id),
            ("Device profile", row.profile),
            ("Label", row.label),
            ("State", state),
            ("Customer", row.customer),
            ("Is gateway", "Yes" if row.gateway else "No"),
            ("Created time", format_ms(row.created_time)),
        ]
        if row.type and row.type != row.profile:
            rows.append(("Type", row.type))
        if details.description:
            rows.append(("Description", details.description))
        shown = {label.lower(): value for label, value in rows}
        for label, value in details.extra.items():
            # adapters repeat some fields under their own names ("Device id"): show each fact once
            if any(label.lower().endswith(key) and value == known for key, known in shown.items()):
                continue
            rows.append((label, value))
        _fill(self.table, rows)
        self.show_note("")


def _short_scope(title: str) -> str:
    """'Server attributes' → 'Server': the tab already says these are attributes."""
    return title.removesuffix(" attributes")


class AttributesView(_TabBase):
    """Read-only attributes of every scope the fleet has; the attribute editor replaces it."""

    columns = ("Scope", "Key", "Value", "Last update")

    def show_attributes(self, attributes: Sequence[Attribute], titles: dict[str, str]) -> None:
        ordered = sorted(attributes, key=lambda a: (list(titles).index(a.scope) if a.scope in titles else 99, a.key))
        _fill(
            self.table,
            [
                (_short_scope(titles.get(a.scope, a.scope)), a.key, format_value(a.value), format_ms(a.last_update_ts))
                for a in ordered
            ],
        )
        self.show_note("" if attributes else "This device has no attributes.")


class LatestTelemetryView(_TabBase):
    """Latest value per key; live points update their row in place (the row order stays put)."""

    columns = ("Key", "Value", "Time")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[str, int] = {}
        self._ts: dict[str, int] = {}

    def show_latest(self, values: Sequence[LatestValue]) -> None:
        ordered = sorted(values, key=lambda v: v.key)
        _fill(self.table, [(v.key, format_value(v.value), format_ms(v.ts)) for v in ordered])
        self._rows = {v.key: i for i, v in enumerate(ordered)}
        self._ts = {v.key: v.ts for v in ordered}
        self.show_note("" if values else "No telemetry yet.")

    def clear(self, note: str = "Select a device.") -> None:
        self._rows, self._ts = {}, {}
        super().clear(note)

    def keys(self) -> set[str]:
        """The keys shown."""
        return set(self._rows)

    def update_point(self, key: str, point: Point) -> bool:
        """Show a newer point of `key`; older or unknown ones are ignored. True when the table changed."""
        row = self._rows.get(key)
        if row is None or point.ts < self._ts.get(key, 0):
            return False
        self._ts[key] = point.ts
        self.table.item(row, 1).setText(format_value(point.value))
        self.table.item(row, 2).setText(format_ms(point.ts))
        return True


class DevicePanel(QTabWidget):
    """Details / Attributes / Latest telemetry for the current device, plus tabs others add."""

    device_changed = Signal(object)  # device id or None
    details_loaded = Signal(object)  # DeviceDetails

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._fleet: Fleet | None = None
        self._device_id: str | None = None
        self._generation = 0
        self._live: Subscription | None = None  # the latest-telemetry feed of the shown device
        self.details_view = DetailsView(self)
        self.attributes_view: QWidget = AttributesView(self)
        self.latest_view = LatestTelemetryView(self)
        self.addTab(self.details_view, "Details")
        self.addTab(self.attributes_view, "Attributes")
        self.addTab(self.latest_view, "Latest telemetry")
        self.setDocumentMode(True)
        # the live feed covers the keys known when the device was selected: a device's first telemetry or a new
        # key would never appear, so while "Latest telemetry" is shown the key list is checked now and then
        self._keys_timer = QTimer(self)
        self._keys_timer.setInterval(KEYS_RECHECK_MS)
        self._keys_timer.timeout.connect(self._recheck_keys)

    # --- public plug-in API -------------------------------------------------------------------------------

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Add a tab (e.g. Chart). If it has `set_device(fleet, device_id)` it follows the selection."""
        index = self.addTab(widget, title)
        self._notify(widget)
        return index

    def set_attributes_widget(self, factory: Callable[[DevicePanel], QWidget]) -> QWidget:
        """Replace the read-only attributes view by `factory(panel)` (the editor); it gets `set_device` calls."""
        index = self.indexOf(self.attributes_view)
        widget = factory(self)
        old = self.attributes_view
        self.removeTab(index)
        self.insertTab(index, widget, "Attributes")
        old.deleteLater()
        self.attributes_view = widget
        self._notify(widget)
        return widget

    @property
    def fleet(self) -> Fleet | None:
        return self._fleet

    @property
    def device_id(self) -> str | None:
        return self._device_id

    @property
    def tasks(self) -> TaskManager:
        return self._tasks

    # --- selection ----------------------------------------------------------------------------------------

    def set_device(self, fleet: Fleet | None, device_id: str | None) -> None:
        self._generation += 1
        live, self._live = self._live, None
        if live is not None:
            self._tasks.start(live.close(), "Closing the live feed")
        self._fleet = fleet
        self._device_id = device_id
        for i in range(self.count()):
            self._notify(self.widget(i))
        self.device_changed.emit(device_id)
        if fleet is None or device_id is None:
            self._keys_timer.stop()
            self.details_view.clear()
            if isinstance(self.attributes_view, AttributesView):
                self.attributes_view.clear()
            self.latest_view.clear()
            return
        self._keys_timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Reload the built-in tabs for the current device."""
        fleet, device_id, generation = self._fleet, self._device_id, self._generation
        if fleet is None or device_id is None:
            return
        self.details_view.show_note("Loading…")
        self._tasks.start(
            self._load_details(fleet, device_id, generation),
            "Loading device",
            on_error=lambda m: self._failed(self.details_view, m, generation),
        )
        if isinstance(self.attributes_view, AttributesView):
            self.attributes_view.show_note("Loading…")
            self._tasks.start(
                self._load_attributes(fleet, device_id, generation),
                "Loading attributes",
                on_error=lambda m: self._failed(self.attributes_view, m, generation),  # type: ignore[arg-type]
            )
        self.latest_view.show_note("Loading…")
        self._tasks.start(
            self._load_latest(fleet, device_id, generation),
            "Loading latest telemetry",
            on_error=lambda m: self._failed(self.latest_view, m, generation),
        )

    def refresh_failed(self) -> None:
        """Reload the built-in tabs if one shows an error (the connection is back: don't leave a stale failure)."""
        views: list[QWidget] = [self.details_view, self.attributes_view, self.latest_view]
        if any(isinstance(v, _TabBase) and v.failed for v in views):
            self.refresh()

    def _notify(self, widget: QWidget) -> None:
        set_device = getattr(widget, "set_device", None)
        if callable(set_device):
            set_device(self._fleet, self._device_id)

    def _failed(self, view: _TabBase, message: str, generation: int) -> None:
        if generation == self._generation:
            view.table.setRowCount(0)
            view.show_note(message, error=True)

    async def _load_details(self, fleet: Fleet, device_id: str, generation: int) -> None:
        details = await fleet.get_device(device_id)
        if generation == self._generation:
            self.details_view.show_details(details)
            self.details_loaded.emit(details)

    async def _load_attributes(self, fleet: Fleet, device_id: str, generation: int) -> None:
        scopes = list(fleet.attribute_scopes())
        found: list[Attribute] = []
        for scope in scopes:
            found.extend(await fleet.attributes(device_id, scope.name))
            if generation != self._generation:
                return
        view = self.attributes_view
        if isinstance(view, AttributesView):
            view.show_attributes(found, {s.name: s.title for s in scopes})

    async def _load_latest(self, fleet: Fleet, device_id: str, generation: int) -> None:
        values = await fleet.latest_telemetry(device_id)
        if generation != self._generation:
            return
        self.latest_view.show_latest(values)
        keys = [v.key for v in values]
        if not keys:
            return
        feed = await fleet.subscribe_telemetry([device_id], keys, self._on_live_points)
        if generation != self._generation or self._live is not None:
            await feed.close()  # the selection moved on while subscribing
            return
        self._live = feed

    def _recheck_keys(self) -> None:
        fleet, device_id, generation = self._fleet, self._device_id, self._generation
        if fleet is None or device_id is None or self.currentWidget() is not self.latest_view:
            return
        self._tasks.start(
            self._reload_if_new_keys(fleet, device_id, generation),
            "Checking for new telemetry keys",
            on_error=lambda _m: None,  # offline: the connection state already says so, every 10 s would be noise
        )

    async def _reload_if_new_keys(self, fleet: Fleet, device_id: str, generation: int) -> None:
        keys = await fleet.telemetry_keys(device_id)
        if generation != self._generation or not set(keys) - self.latest_view.keys():
            return
        live, self._live = self._live, None
        if live is not None:
            await live.close()
        if generation == self._generation:
            await self._load_latest(fleet, device_id, generation)

    def _on_live_points(self, device_id: str, key: str, points: Sequence[Point]) -> None:
        if device_id == self._device_id and points:
            self.latest_view.update_point(key, points[-1])

    async def aclose(self) -> None:
        """Close the live feed (awaited: the window calls this before cancelling its tasks)."""
        self._generation += 1
        self._keys_timer.stop()
        live, self._live = self._live, None
        if live is not None:
            await live.close()
        for i in range(self.count()):
            close = getattr(self.widget(i), "aclose", None)
            if callable(close):
                try:
                    await close()
                except Exception:  # one tab failing to close must not keep the others open
                    log.exception("closing the %s tab failed", self.tabText(i))
