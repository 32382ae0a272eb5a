"""The attribute editor tab: one table per scope with search, sort, add, in-place edit, delete, copy, live values.

It follows the device panel's `set_device(fleet, device_id)` contract. Every write goes through the bulk runner as a
one-device plan, so it is journaled (undo, history) and retried like a bulk edit; a failed write stays on its row.
"""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.fleet import Attribute, AttributeScopeInfo, Fleet, Subscription
from console.fleet.bulk import BulkRunner, DeviceOutcome, single_plan
from console.fleet.values import ValueType, ValueValidationError, format_value
from console.journal import Journal
from ui.models.attributes import KEY, UPDATED, VALUE, AttributeTableModel, RowState, SortRole
from ui.tasks import TaskManager
from ui.widgets.attribute_panel import AttributeDelegate, ValueEditPanel

__all__ = ["AttributeEditor"]


class AttributeEditor(QWidget):
    """Edits the attributes of one device; client scope (or any non-writable scope) is read-only."""

    def __init__(
        self, tasks: TaskManager, journal: Journal | None = None, *, profile: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.journal = journal
        self.profile = profile
        self.fleet: Fleet | None = None
        self.device_id: str | None = None
        self.device_name = ""
        self.models: dict[str, AttributeTableModel] = {}
        self._scopes: list[AttributeScopeInfo] = []
        self._subscription: Subscription | None = None
        self._generation = 0

        self.scope_tabs = QTabBar(self)
        self.scope_tabs.setDocumentMode(True)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search keys")
        self.search.setClearButtonEnabled(True)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setFilterKeyColumn(KEY)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(SortRole)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.table.setItemDelegate(AttributeDelegate(lambda: self.model, self.table))
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(VALUE, QHeaderView.ResizeMode.Interactive)
        self.panel = ValueEditPanel(self)
        self.note = QLabel(self)
        self.note.setWordWrap(True)

        self.buttons: dict[str, QPushButton] = {}
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        actions = QHBoxLayout()
        for name, title, slot in (
            ("delete", "Delete", self.delete_selected),
            ("copy_key", "Copy key", self.copy_key),
            ("copy_value", "Copy value", self.copy_value),
            ("retry", "Retry", self.retry_selected),
            ("keep", "Keep mine", self.keep_mine),
            ("take", "Take theirs", self.take_server),
            ("refresh", "Refresh", self.reload),
        ):
            button = QPushButton(title, self)
            button.setToolTip({"take": "Drop my change and use the server's value",
                               "keep": "Write my value over the server's"}.get(name, ""))
            button.clicked.connect(slot)
            self.buttons[name] = button
            (top if name == "refresh" else actions).addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.scope_tabs)
        layout.addLayout(top)
        layout.addLayout(actions)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.panel)

        # a key added after the load (Add, or a live update) must not come out clipped ("setp…") in a narrow column
        self.proxy.rowsInserted.connect(lambda *_: self.table.resizeColumnToContents(KEY))
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        delete_key = QAction("Delete selected keys", self.table)  # the Delete key, as the Delete button
        delete_key.setShortcut(QKeySequence.StandardKey.Delete)
        delete_key.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # not while a cell editor is open
        delete_key.triggered.connect(self.delete_selected)
        self.table.addAction(delete_key)
        self.scope_tabs.currentChanged.connect(self._on_scope_tabs_changed)
        self.table.clicked.connect(lambda _index: self._on_selection_changed())
        self.panel.submitted.connect(self._on_panel_submitted)
        self._update_buttons()

    # --- the current scope --------------------------------------------------------------------------------

    @property
    def scope(self) -> str | None:
        index = self.scope_tabs.currentIndex()
        return self._scopes[index].name if 0 <= index < len(self._scopes) else None

    @property
    def model(self) -> AttributeTableModel | None:
        return self.models.get(self.scope or "")

    def set_scope(self, name: str) -> None:
        for i, info in enumerate(self._scopes):
            if info.name == name:
                self.scope_tabs.setCurrentIndex(i)

    def _on_scope_tabs_changed(self, _index: int) -> None:
        model = self.model
        self.proxy.setSourceModel(model)
        self.table.sortByColumn(KEY, Qt.SortOrder.AscendingOrder)
        self.table.resizeColumnsToContents()
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection_changed())
        writable = bool(model and model.writable)
        self.panel.setVisible(writable)
        self.note.setText("" if writable or model is None else "This scope is reported by the device: read-only.")
        self.panel.start_new(set(model.keys()) if model else set())
        self._update_buttons()

    # --- device -------------------------------------------------------------------------------------------

    def set_device(self, fleet: Fleet | None, device_id: str | None) -> None:
        """Show another device (the device panel calls this); closes the previous live subscription."""
        if fleet is self.fleet and device_id == self.device_id:
            return
        self._generation += 1
        old, self._subscription = self._subscription, None
        if old is not None:
            self.tasks.start(old.close(), "Closing attribute subscription")
        self.fleet, self.device_id = fleet, device_id
        self.panel.numeric_text_note = fleet is not None and fleet.kind == "thingsboard"
        self.models = {}
        self._scopes = list(fleet.attribute_scopes()) if fleet is not None and device_id is not None else []
        for scope in self._scopes:
            model = AttributeTableModel(scope.name, scope.writable, self)
            model.write_requested.connect(lambda key, value, m=model: self._on_write_requested(m, key, value))
            model.delete_requested.connect(lambda keys, m=model: self._on_delete_requested(m, keys))
            model.validation_failed.connect(lambda key, message: self.show_note(f"{key}: {message}", error=True))
            model.conflict_raised.connect(
                lambda key: self.show_note(f"{key} changed on the server while you edited it: keep yours or theirs.")
            )
            self.models[scope.name] = model
        self.scope_tabs.blockSignals(True)
        while self.scope_tabs.count():
            self.scope_tabs.removeTab(0)
        for scope in self._scopes:
            title = scope.title.removesuffix(" attributes")
            self.scope_tabs.addTab(title + ("" if scope.writable else " (read-only)"))
        writable = [i for i, s in enumerate(self._scopes) if s.writable]
        self.scope_tabs.setCurrentIndex(writable[0] if writable else 0)
        self.scope_tabs.blockSignals(False)
        self._on_scope_tabs_changed(self.scope_tabs.currentIndex())
        if fleet is None or device_id is None:
            self.show_note("Select a device.")
            return
        self.show_note("Loading…")
        self.tasks.start(
            self._load(fleet, device_id, self._generation, subscribe=True),
            "Loading attributes",
            on_error=lambda m: self.show_note(m, error=True),
        )

    def reload(self) -> None:
        if self.fleet is not None and self.device_id is not None:
            self.tasks.start(
                self._load(self.fleet, self.device_id, self._generation, subscribe=False),
                "Loading attributes",
                on_error=lambda m: self.show_note(m, error=True),
            )

    async def _load(self, fleet: Fleet, device_id: str, generation: int, *, subscribe: bool) -> None:
        results = await asyncio.gather(*(fleet.attributes(device_id, s.name) for s in self._scopes))
        if generation != self._generation:
            return
        for scope, attributes in zip(self._scopes, results, strict=True):
            self.models[scope.name].set_attributes(list(attributes))
        self.table.resizeColumnsToContents()
        self.show_note("" if self.model is None or self.model.writable else "This scope is read-only.")
        if self.model is not None:
            self.panel.start_new(set(self.model.keys()))
        if subscribe:
            try:
                details = await fleet.get_device(device_id)
                self.device_name = details.row.name
            except Exception:
                self.device_name = device_id  # the name is only for the journal; an id will do
            subscription = await fleet.subscribe_attributes(device_id, self._on_live)
            if generation != self._generation:
                await subscription.close()
                return
            self._subscription = subscription

    def _on_live(self, device_id: str, attributes: Any) -> None:
        if device_id != self.device_id:
            return
        by_scope: dict[str, list[Attribute]] = {}
        for attribute in attributes:
            by_scope.setdefault(attribute.scope, []).append(attribute)
        for scope, changed in by_scope.items():
            if scope in self.models:
                self.models[scope].apply_server_update(changed)
        self._update_buttons()

    async def aclose(self) -> None:
        """Release the live subscription (the window calls this on close)."""
        self._generation += 1
        self.fleet, self.device_id = None, None  # the next set_device loads again, even for the same device
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.close()

    # --- writes -------------------------------------------------------------------------------------------

    def _runner(self) -> BulkRunner:
        assert self.fleet is not None
        return BulkRunner(self.fleet, self.journal, profile=self.profile, server=self.fleet.title, attempts=2)

    def _on_write_requested(self, model: AttributeTableModel, key: str, value: Any) -> None:
        self.show_note("")  # the value validated: an earlier validation error or conflict note is stale now
        row = model.row(key)
        old = row.server.value if row is not None and row.server is not None else None
        device_id, name = self.device_id or "", self.device_name or self.device_id or ""
        plan = single_plan(device_id, name, model.scope, {key: (old, value)})

        async def write() -> None:
            report = await self._runner().apply(plan)
            result = report.results[device_id]
            error = None
            if result.outcome is not DeviceOutcome.WRITTEN:
                error = result.message or "The write did not finish."
            model.write_finished(key, value, error)
            self._update_buttons()

        self.tasks.start(write(), f"Saving {key}", on_error=lambda m: model.write_finished(key, value, m))
        self._update_buttons()

    def _on_delete_requested(self, model: AttributeTableModel, keys: list[str]) -> None:
        device_id, name = self.device_id or "", self.device_name or self.device_id or ""
        changes = {k: ((r.server.value if (r := model.row(k)) and r.server else None), None) for k in keys}
        plan = single_plan(device_id, name, model.scope, changes, title=f"Delete {', '.join(keys)} on {name}")

        async def delete() -> None:
            report = await self._runner().apply(plan)
            result = report.results[device_id]
            model.delete_finished(keys, None if result.outcome is DeviceOutcome.WRITTEN else result.message)
            self._update_buttons()

        self.tasks.start(delete(), "Deleting attributes", on_error=lambda m: model.delete_finished(keys, m))

    def _on_panel_submitted(self, key: str, value_type: ValueType, text: str, is_new: bool) -> None:
        model = self.model
        if model is None:
            return
        try:
            if is_new:
                model.add_key(key, value_type, text)
            elif not model.edit_value(key, value_type, text):
                return
        except ValueValidationError as exc:
            self.panel.error_label.setText(exc.message)
            return
        self.show_note("")
        if is_new:
            self.panel.start_new(set(model.keys()))

    # --- actions on the selection -------------------------------------------------------------------------

    def selected_keys(self) -> list[str]:
        """Selected keys in the order the view shows them."""
        model = self.model
        if model is None:
            return []
        view_rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [model.row_at(self.proxy.mapToSource(self.proxy.index(r, KEY)).row()).key for r in view_rows]

    def select_key(self, key: str) -> None:
        model = self.model
        if model is None or (row := model.row(key)) is None:
            return
        source = model.index(model.keys().index(row.key), KEY)
        index = self.proxy.mapFromSource(source)
        self.table.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.setCurrentIndex(index)
        self._on_selection_changed()

    def delete_selected(self) -> None:
        if self.model is not None:
            self.model.request_delete(self.selected_keys())

    def copy_key(self) -> None:
        keys = self.selected_keys()
        if keys:
            QGuiApplication.clipboard().setText("\n".join(keys))

    def copy_value(self) -> None:
        model = self.model
        values = [model.row(k) for k in self.selected_keys()] if model else []
        texts = [format_value(r.value, r.value_type) for r in values if r is not None and r.value is not None]
        if texts:
            QGuiApplication.clipboard().setText("\n".join(texts))

    def retry_selected(self) -> None:
        for key in self.selected_keys():
            if self.model is not None:
                self.model.retry(key)

    def keep_mine(self) -> None:
        self.retry_selected()

    def take_server(self) -> None:
        for key in self.selected_keys():
            if self.model is not None:
                self.model.take_server(key)
        self._update_buttons()

    def _on_selection_changed(self) -> None:
        keys = self.selected_keys()
        model = self.model
        if model is not None and len(keys) == 1 and model.writable and (row := model.row(keys[0])) is not None:
            self.panel.edit_row(row)
        self._update_buttons()

    def _update_buttons(self) -> None:
        model = self.model
        keys = self.selected_keys() if model is not None else []
        rows = [r for k in keys if model is not None and (r := model.row(k)) is not None]
        writable = bool(model and model.writable)
        self.buttons["delete"].setEnabled(writable and bool(rows))
        self.buttons["copy_key"].setEnabled(bool(rows))
        self.buttons["copy_value"].setEnabled(bool(rows))
        conflict = any(r.state is RowState.CONFLICT for r in rows)
        # the repair buttons only show when they apply: a narrow panel has no room for seven buttons
        for name, show in (
            ("retry", any(r.state is RowState.FAILED for r in rows)),
            ("keep", conflict),
            ("take", conflict or any(r.state in (RowState.FAILED, RowState.INVALID) for r in rows)),
        ):
            self.buttons[name].setEnabled(show)
            self.buttons[name].setVisible(show)
        self.buttons["refresh"].setEnabled(self.fleet is not None)
        if model is not None and len(rows) == 1 and model.writable:
            self.panel.refresh_row(rows[0])

    def show_note(self, text: str, error: bool = False) -> None:
        self.note.setText(text)
        self.note.setStyleSheet("color: #b3261e;" if error else "")

    def row_for(self, key: str) -> Any:
        model = self.model
        return model.row(key) if model is not None else None

    def sort_by_last_update(self) -> None:
        self.table.sortByColumn(UPDATED, Qt.SortOrder.DescendingOrder)

    def value_index(self, key: str) -> Any:
        """The view index of a key's value cell (tests and keyboard navigation)."""
        model = self.model
        if model is None or model.row(key) is None:
            return None
        return self.proxy.mapFromSource(model.index(model.keys().index(key), VALUE))
