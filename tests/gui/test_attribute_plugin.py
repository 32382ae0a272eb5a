"""The attribute editing plug-in in a real main window against the ThingsBoard emulator: editor tab, Bulk edit on the
device menu, Undo last change (with its preview), History."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLineEdit

from console.fleet.thingsboard import ThingsboardFleet
from console.journal import Journal
from tests.gui.conftest import save_screenshot
from ui.models.attributes import RowState
from ui.widgets.attribute_editor import AttributeEditor
from ui.widgets.bulk_actions import install_attribute_editing

SCOPE = "SHARED_SCOPE"


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


def test_editor_bulk_undo_and_history_in_the_main_window(qloop, window_factory, tb_server, journal, screenshot_dir):
    window = window_factory()
    editing = install_attribute_editing(window, journal, profile="Lab")
    assert isinstance(window.device_panel.attributes_view, AttributeEditor)
    assert editing.bulk_action in window.device_actions.actions()
    window.resize(1500, 860)
    window.show()
    fleet = ThingsboardFleet(tb_server.url, username="tenant@thingsboard.org", password="tenant")
    qloop.run(fleet.connect())
    qloop.run(window.set_fleet(fleet, owned=True))
    qloop.wait_until(lambda: window.devices_page.model.rowCount() > 5, what="devices")
    model = window.devices_page.model
    first = model.row_at(0)
    key = f"mode_{uuid.uuid4().hex[:6]}"
    qloop.run(fleet.save_attributes(first.id, SCOPE, {key: "eco"}))

    window.devices_page.select_device(first.id)
    editor = editing.editor
    window.device_panel.setCurrentWidget(editor)
    qloop.wait_until(lambda: editor.row_for(key) is not None, what="editor loaded")
    index = editor.value_index(key)
    editor.table.setCurrentIndex(index)
    editor.table.edit(index)
    qloop.settle(0.02)
    cell = editor.table.findChild(QLineEdit, f"cell-editor-{key}")
    cell.setText("boost")
    editor.table.commitData(cell)
    editor.table.closeEditor(cell, editor.table.itemDelegate().EndEditHint.NoHint)
    qloop.wait_until(lambda: editor.row_for(key).state is RowState.SYNCED, what="saved")
    save_screenshot(window, screenshot_dir, "main_window_attribute_editor")

    # Undo last change: a revert preview first, nothing written until Apply
    editing.undo_action.trigger()
    qloop.wait_until(lambda: any(getattr(d, "plan", None) is not None for d in editing.dialogs), what="undo preview")
    undo = next(d for d in editing.dialogs if getattr(d, "plan", None) is not None)
    assert undo.plan.devices[0].diffs[0].describe() == f"{key}: boost → eco"
    assert editor.row_for(key).value == "boost"
    undo.start_apply()
    qloop.wait_until(lambda: undo.report is not None, what="undo applied")
    qloop.wait_until(lambda: editor.row_for(key).value == "eco", what="live value back")
    undo.close()

    # Bulk edit on the selected devices, from the device menu
    window.devices_page.view.selectAll()
    dialog = None
    editing.bulk_action.trigger()
    dialog = editing.dialogs[-1]
    assert len(dialog.devices) == model.rowCount()
    dialog.close()

    history = editing.open_history()
    qloop.wait_until(lambda: len(history.entries) == 2, what="history of this device")
    assert [e.new for e in history.entries] == ["eco", "boost"]
    save_screenshot(history, screenshot_dir, "main_window_history")
    history.close()
    qloop.run(fleet.delete_attributes(first.id, SCOPE, [key]))


def test_a_dialog_opens_after_a_closed_one_was_deleted(qloop, window_factory, tb_server, journal):
    from PySide6.QtCore import QCoreApplication, QEvent

    window = window_factory()
    editing = install_attribute_editing(window, journal, profile="Lab")
    fleet = ThingsboardFleet(tb_server.url, username="tenant@thingsboard.org", password="tenant")
    qloop.run(fleet.connect())
    qloop.run(window.set_fleet(fleet, owned=True))
    qloop.wait_until(lambda: window.devices_page.model.rowCount() > 0, what="devices")
    window.devices_page.select_device(window.devices_page.model.row_at(0).id)
    first = editing.open_bulk_edit()
    first.close()  # WA_DeleteOnClose: Qt deletes it at the next turn of the loop
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    second = editing.open_bulk_edit()  # raised "Internal C++ object (BulkEditDialog) already deleted"
    assert second is not None and editing.dialogs == [second]
    second.close()


def test_history_shows_a_revert_once_it_is_written(qloop, window_factory, tb_server, journal):
    from console.fleet.bulk import BulkRunner, single_plan

    window = window_factory()
    editing = install_attribute_editing(window, journal, profile="Lab")
    fleet = ThingsboardFleet(tb_server.url, username="tenant@thingsboard.org", password="tenant")
    qloop.run(fleet.connect())
    qloop.run(window.set_fleet(fleet, owned=True))
    qloop.wait_until(lambda: window.devices_page.model.rowCount() > 0, what="devices")
    device = window.devices_page.model.row_at(0)
    key = f"mode_{uuid.uuid4().hex[:6]}"
    plan = single_plan(device.id, device.name, SCOPE, {key: (None, "eco")})
    qloop.run(BulkRunner(fleet, journal, profile="Lab", server=fleet.title).apply(plan))
    history = editing.open_history()
    qloop.wait_until(lambda: len(history.entries) == 1, what="the edit in the history")
    history.revert_requested.emit(history.entries[0].batch_id)  # "Revert this batch…"
    revert = editing.dialogs[-1]
    qloop.wait_until(lambda: revert.plan is not None, what="revert preview")
    revert.start_apply()
    qloop.wait_until(lambda: revert.report is not None, what="revert written")
    qloop.wait_until(lambda: len(history.entries) == 2, what="the revert in the history")  # needed Refresh
    revert.close()
    history.close()
