"""Plugs attribute editing into the main window: the editor tab, Bulk edit on the device menu, Undo and History.

    editing = install_attribute_editing(window)          # once, after the MainWindow is built

Uses only the window's plug-in points: `device_panel.set_attributes_widget`, `device_actions`, `menuBar()`,
`tasks`, `fleet`, `selected_devices()` and the devices page's current query.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from console.journal import Journal
from ui.widgets.attribute_editor import AttributeEditor
from ui.widgets.bulk_dialog import BulkEditDialog
from ui.widgets.history_view import HistoryView

__all__ = ["AttributeEditing", "install_attribute_editing"]


class AttributeEditing(QObject):
    """What `install_attribute_editing` added, so tests and the app can reach it."""

    def __init__(self, window: Any, journal: Journal | None = None, profile: str = "") -> None:
        super().__init__(window)
        self.window = window
        self.journal = journal or Journal()  # opens lazily, in the platform's data folder
        self._profile = profile
        self.dialogs: list[QWidget] = []
        self.editor: AttributeEditor = window.device_panel.set_attributes_widget(
            lambda panel: AttributeEditor(panel.tasks, self.journal, profile=self.profile, parent=panel)
        )
        self.bulk_action = QAction("&Bulk edit attributes…", window)
        self.bulk_action.setToolTip("Set, rename or delete attribute keys on the selected devices")
        self.bulk_all_action = QAction("Bulk edit all devices &matching the filter…", window)
        self.undo_action = QAction("&Undo last change", window)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.history_action = QAction("Attribute &history…", window)
        window.device_actions.addSeparator()
        window.device_actions.addAction(self.bulk_action)
        window.device_actions.addAction(self.bulk_all_action)
        edit_menu = window.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.history_action)
        self.bulk_action.triggered.connect(self.open_bulk_edit)
        self.bulk_all_action.triggered.connect(self.open_bulk_edit_all)
        self.undo_action.triggered.connect(self.undo_last_change)
        self.history_action.triggered.connect(self.open_history)

    @property
    def profile(self) -> str:
        """The connection profile's name recorded in the journal (History "This profile", Undo)."""
        return self._profile

    @profile.setter
    def profile(self, name: str) -> None:
        self._profile = name
        self.editor.profile = name

    @property
    def _server(self) -> str:
        fleet = self.window.fleet
        return fleet.title if fleet is not None else ""

    def _show(self, widget: QWidget) -> QWidget:
        # a closed one is deleted (WA_DeleteOnClose): asking its wrapper isVisible() would raise RuntimeError
        self.dialogs = [d for d in self.dialogs if shiboken6.isValid(d) and d.isVisible()]
        self.dialogs.append(widget)
        widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        widget.show()  # non-modal: the status bar's Cancel stays reachable; never exec() under qasync
        return widget

    def _need_fleet(self) -> bool:
        if self.window.fleet is None:
            self.window.status.showMessage("Connect to a server first.", 5000)
            return False
        return True

    def open_bulk_edit(self) -> BulkEditDialog | None:
        if not self._need_fleet():
            return None
        devices = self.window.selected_devices()
        if not devices:
            self.window.status.showMessage("Select one or more devices first (or bulk edit all matching).", 5000)
            return None
        dialog = BulkEditDialog(self.window.tasks, self.window.fleet, self.journal, devices=devices,
                                profile=self.profile, parent=self.window)
        self._show(dialog)
        return dialog

    def open_bulk_edit_all(self) -> BulkEditDialog | None:
        if not self._need_fleet():
            return None
        query = self.window.devices_page.model.query
        dialog = BulkEditDialog(self.window.tasks, self.window.fleet, self.journal, query=query,
                                profile=self.profile, parent=self.window)
        self._show(dialog)
        return dialog

    def open_revert(self, batch_id: int) -> BulkEditDialog | None:
        """The revert of a journal batch: the same preview first, nothing written until Apply."""
        if not self._need_fleet():
            return None
        dialog = BulkEditDialog(self.window.tasks, self.window.fleet, self.journal, revert_batch=batch_id,
                                profile=self.profile, parent=self.window)
        self._show(dialog)
        dialog.start_preview()
        return dialog

    def undo_last_change(self) -> None:
        if not self._need_fleet():
            return

        async def find() -> None:
            batch = await self.journal.last_undoable(profile=self.profile, server=self._server)
            if batch is None:
                self.window.status.showMessage("Nothing to undo.", 5000)
            else:
                self.open_revert(batch.id)

        self.window.tasks.start(find(), "Finding the last change")

    def _revert_from_history(self, view: HistoryView, batch_id: int) -> None:
        dialog = self.open_revert(batch_id)
        if dialog is not None:  # the history shows the revert once it is written (it showed the old list)
            dialog.report_ready.connect(lambda _report: view.refresh() if shiboken6.isValid(view) else None)

    def open_history(self) -> HistoryView:
        device_id = self.editor.device_id
        view = HistoryView(self.window.tasks, self.journal, profile=self.profile, server=self._server or None,
                           device_id=device_id, parent=self.window)
        view.setWindowFlag(Qt.WindowType.Window)
        view.setWindowTitle("Attribute history")
        view.resize(1000, 480)
        view.revert_requested.connect(lambda batch_id: self._revert_from_history(view, batch_id))
        self._show(view)
        view.refresh()
        return view


def install_attribute_editing(window: Any, journal: Journal | None = None, profile: str = "") -> AttributeEditing:
    """Add the attribute editor, Bulk edit, Undo last change and History to `window` (a MainWindow)."""
    editing = AttributeEditing(window, journal, profile)
    window.attribute_editing = editing
    return editing
