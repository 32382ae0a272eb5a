"""The attribute editor with an in-memory fleet: in-place edit, validation, conflicts, failed writes, journal.

The same screens against the ThingsBoard emulator and a real PocketBase are in test_attribute_editor_servers.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from console.errors import PermissionDeniedError
from console.fleet.values import ValueType
from console.journal import Journal, Outcome
from tests.gui.conftest import save_screenshot
from tests.unit.test_bulk import FakeFleet
from ui.models.attributes import VALUE, RowState
from ui.tasks import TaskManager
from ui.widgets.attribute_editor import AttributeEditor


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


@pytest.fixture
def editor(qloop, journal):
    fleet = FakeFleet({"pump-1": {"target": 21.5, "mode": "eco", "enabled": True, "limits": {"lo": 1, "hi": 9}}})
    fleet.data[("pump-1", "CLIENT_SCOPE")].update({"firmware": "1.4.2", "rssi": -71})
    tasks = TaskManager()
    widget = AttributeEditor(tasks, journal, profile="site-visit")
    widget.resize(900, 520)
    widget.show()
    widget.set_device(fleet, "pump-1")
    qloop.wait_until(lambda: widget.model is not None and widget.model.rowCount() == 4, what="attributes loaded")
    qloop.wait_until(lambda: widget._subscription is not None, what="live subscription")
    yield widget, fleet, tasks
    qloop.run(widget.aclose())
    qloop.run(tasks.shutdown())
    widget.close()
    widget.deleteLater()


def _edit_cell(qloop, widget: AttributeEditor, key: str, text: str) -> QLineEdit:
    index = widget.value_index(key)
    widget.table.setCurrentIndex(index)
    widget.table.edit(index)
    qloop.settle(0.02)
    editor = widget.table.findChild(QLineEdit, f"cell-editor-{key}")
    assert editor is not None, "the cell editor did not open"
    editor.setText(text)
    return editor


def _commit(qloop, widget: AttributeEditor, editor: QLineEdit) -> None:
    widget.table.commitData(editor)
    widget.table.closeEditor(editor, widget.table.itemDelegate().EndEditHint.NoHint)
    qloop.settle(0.02)


def test_edit_in_place_writes_typed_value_and_journals_it(qloop, editor, journal, screenshot_dir):
    widget, fleet, _ = editor
    assert widget.scope == "SHARED_SCOPE"  # the first writable scope
    cell = _edit_cell(qloop, widget, "target", "22.75")
    save_screenshot(widget, screenshot_dir, "attributes_editing")
    _commit(qloop, widget, cell)
    qloop.wait_until(lambda: widget.row_for("target").state is RowState.SYNCED, what="write done")
    assert fleet.data[("pump-1", "SHARED_SCOPE")]["target"] == 22.75
    history = qloop.run(journal.history(entity_id="pump-1"))
    assert [(e.key, e.old, e.new, e.outcome) for e in history] == [("target", 21.5, 22.75, Outcome.WRITTEN)]
    assert history[0].profile == "site-visit" and history[0].server == fleet.title


def test_invalid_value_is_refused_kept_and_never_sent(qloop, editor, screenshot_dir):
    widget, fleet, _ = editor
    cell = _edit_cell(qloop, widget, "target", "12,5")
    _commit(qloop, widget, cell)
    row = widget.row_for("target")
    assert row.state is RowState.INVALID and row.draft == "12,5"  # nothing typed is lost
    assert "not a number" in widget.note.text()
    # the JSON editor panel points at the line and column
    widget.select_key("limits")
    widget.panel.value_edit.setPlainText('{\n  "lo": 1,\n  "hi": 9,\n}')
    qloop.settle(0.02)
    assert "line 4, column 1" in widget.panel.error_label.text()
    assert not widget.panel.save_button.isEnabled()
    save_screenshot(widget, screenshot_dir, "attributes_validation_error")
    widget.panel.key_edit.setReadOnly(False)
    widget.panel.start_new(set(widget.model.keys()))
    widget.panel.key_edit.setText("mode")
    assert "already exists" in widget.panel.error_label.text()
    widget.panel.key_edit.setText("big")
    widget.panel.type_combo.setCurrentIndex(widget.panel.type_combo.findData(ValueType.INTEGER))
    widget.panel.value_edit.setPlainText("9223372036854775808")
    assert "64 bits" in widget.panel.error_label.text()
    qloop.settle(0.05)
    assert fleet.writes["pump-1"] == 0  # an invalid value never reached the server


def test_client_scope_is_read_only(qloop, editor):
    widget, _, _ = editor
    widget.set_scope("CLIENT_SCOPE")
    model = widget.model
    assert model is not None and not model.writable and model.rowCount() == 2
    assert not model.flags(model.index(0, VALUE)) & Qt.ItemFlag.ItemIsEditable
    assert not model.setData(model.index(0, VALUE), "x")
    assert not widget.panel.isVisible()


def test_live_value_changes_in_place_and_conflicts_while_editing(qloop, editor, screenshot_dir):
    widget, fleet, _ = editor
    fleet.external_change("pump-1", "SHARED_SCOPE", {"mode": "boost"})
    assert widget.row_for("mode").value == "boost"  # not being edited: changes in place
    cell = _edit_cell(qloop, widget, "target", "23")
    fleet.external_change("pump-1", "SHARED_SCOPE", {"target": 19.0})
    assert cell.text() == "23"  # the open editor is not overwritten
    _commit(qloop, widget, cell)
    row = widget.row_for("target")
    assert row.state is RowState.CONFLICT and row.local == 23.0 and row.incoming.value == 19.0
    widget.select_key("target")
    assert widget.buttons["keep"].isEnabled() and widget.buttons["take"].isEnabled()
    save_screenshot(widget, screenshot_dir, "attributes_conflict")
    assert fleet.data[("pump-1", "SHARED_SCOPE")]["target"] == 19.0  # nothing sent yet
    widget.keep_mine()
    qloop.wait_until(lambda: row.state is RowState.SYNCED, what="keep mine written")
    assert fleet.data[("pump-1", "SHARED_SCOPE")]["target"] == 23.0


def test_take_servers_value_resolves_a_conflict(qloop, editor):
    widget, fleet, _ = editor
    cell = _edit_cell(qloop, widget, "mode", "manual")
    fleet.external_change("pump-1", "SHARED_SCOPE", {"mode": "away"})
    _commit(qloop, widget, cell)
    widget.select_key("mode")
    widget.take_server()
    row = widget.row_for("mode")
    assert row.state is RowState.SYNCED and row.value == "away"
    assert fleet.writes["pump-1"] == 0


def test_failed_write_stays_on_its_row_with_the_message_and_retries(qloop, editor, journal, screenshot_dir):
    widget, fleet, _ = editor
    fleet.faults["pump-1"] = [PermissionDeniedError("You don't have permission to do this.", status=403)]
    cell = _edit_cell(qloop, widget, "mode", "turbo")
    _commit(qloop, widget, cell)
    row = widget.row_for("mode")
    qloop.wait_until(lambda: row.state is RowState.FAILED, what="write failed")
    assert row.local == "turbo" and "permission" in row.message
    status = widget.model.data(widget.model.index(widget.model.keys().index("mode"), 4))
    assert status.startswith("Failed: You don't have permission") and "Retry" in status
    widget.select_key("mode")
    assert widget.buttons["retry"].isEnabled()
    save_screenshot(widget, screenshot_dir, "attributes_failed_write")
    widget.retry_selected()
    qloop.wait_until(lambda: row.state is RowState.SYNCED, what="retry written")
    assert fleet.data[("pump-1", "SHARED_SCOPE")]["mode"] == "turbo"
    outcomes = [e.outcome for e in qloop.run(journal.history(entity_id="pump-1"))]
    assert outcomes == [Outcome.WRITTEN, Outcome.FAILED]


def test_add_delete_search_sort_and_copy(qloop, editor):
    widget, fleet, _ = editor
    widget.panel.start_new(set(widget.model.keys()))
    widget.panel.key_edit.setText("schedule")
    widget.panel.type_combo.setCurrentIndex(widget.panel.type_combo.findData(ValueType.JSON))
    widget.panel.value_edit.setPlainText('{"mon": [8, 18]}')
    widget.panel.save_button.click()
    qloop.wait_until(lambda: fleet.data[("pump-1", "SHARED_SCOPE")].get("schedule") == {"mon": [8, 18]})
    widget.search.setText("SCH")
    assert widget.proxy.rowCount() == 1
    widget.search.clear()
    widget.table.selectAll()
    widget.copy_key()
    assert QApplication.clipboard().text().splitlines() == ["enabled", "limits", "mode", "schedule", "target"]
    widget.select_key("mode")
    widget.copy_value()
    assert QApplication.clipboard().text() == "eco"
    widget.table.selectAll()
    selection = widget.table.selectionModel()
    for key in ("enabled", "limits", "schedule"):
        selection.select(widget.value_index(key), selection.SelectionFlag.Deselect | selection.SelectionFlag.Rows)
    assert widget.selected_keys() == ["mode", "target"]
    widget.delete_selected()
    qloop.wait_until(lambda: widget.model.rowCount() == 3, what="two keys deleted")
    assert set(fleet.data[("pump-1", "SHARED_SCOPE")]) == {"enabled", "limits", "schedule"}


def test_thingsboard_numeric_text_gets_a_note_not_an_error(qloop, editor):
    widget = editor[0]
    widget.panel.numeric_text_note = True
    widget.panel.start_new(set(widget.model.keys()))
    widget.panel.key_edit.setText("serial")
    widget.panel.value_edit.setPlainText("0042")
    assert "stores text that reads as a number" in widget.panel.error_label.text()
    assert widget.panel.save_button.isEnabled()  # a note, not a refusal


def test_a_valid_edit_after_a_refused_one_clears_the_error(qloop, editor):
    widget, fleet, _ = editor
    _commit(qloop, widget, _edit_cell(qloop, widget, "target", "abc"))
    assert "not a number" in widget.note.text()
    _commit(qloop, widget, _edit_cell(qloop, widget, "target", "23"))
    qloop.wait_until(lambda: widget.row_for("target").state is RowState.SYNCED, what="write done")
    assert fleet.data[("pump-1", "SHARED_SCOPE")]["target"] == 23
    assert widget.note.text() == ""  # the refused value's message no longer shows under a saved value


def test_the_delete_key_deletes_the_selected_keys_but_not_inside_a_cell_editor(qloop, editor):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    widget, fleet, _ = editor
    widget.activateWindow()
    widget.table.setFocus()
    qloop.wait_until(lambda: QApplication.activeWindow() is widget.window(), what="window active")
    cell = _edit_cell(qloop, widget, "target", "22.5")
    QTest.keyClick(cell, Qt.Key.Key_Delete)  # edits the text, deletes no key
    qloop.settle(0.05)
    assert widget.row_for("target") is not None
    widget.table.closeEditor(cell, widget.table.itemDelegate().EndEditHint.RevertModelCache)
    widget.table.setFocus()
    widget.select_key("mode")
    QTest.keyClick(widget.table, Qt.Key.Key_Delete)  # was ignored: only the Delete button deleted
    qloop.wait_until(lambda: "mode" not in fleet.data[("pump-1", "SHARED_SCOPE")], what="mode deleted")
    assert set(fleet.data[("pump-1", "SHARED_SCOPE")]) == {"target", "enabled", "limits"}
