"""Bulk edit dialog and history view with an in-memory fleet: preview, report, cancel, retry failed, revert, CSV.

The same flows against the ThingsBoard emulator (with injected faults) and a real PocketBase are in
test_bulk_servers.py.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest

from console.errors import PermissionDeniedError, ServerError
from console.fleet import DeviceRow
from console.fleet.values import ValueType
from console.journal import Journal, Outcome
from tests.gui.conftest import save_screenshot
from tests.unit.test_bulk import FakeFleet
from ui.tasks import TaskManager
from ui.widgets.bulk_dialog import BulkEditDialog
from ui.widgets.history_view import HistoryView


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


@pytest.fixture
def tasks(qloop):
    manager = TaskManager()
    yield manager
    qloop.run(manager.shutdown())


def _fleet(n: int = 12) -> tuple[FakeFleet, list[DeviceRow]]:
    fleet = FakeFleet({f"d{i}": ({"fw": "1.0"} if i % 3 else {}) for i in range(n)})
    fleet.data[("d1", "SHARED_SCOPE")]["fw"] = "2.0"
    return fleet, [DeviceRow(id=f"d{i}", name=f"Meter {i:02d}") for i in range(n)]


def _dialog(tasks, fleet, journal, devices, **kwargs) -> BulkEditDialog:
    dialog = BulkEditDialog(tasks, fleet, journal, devices=devices, profile="site", **kwargs)
    dialog.show()
    return dialog


def _set_form(dialog: BulkEditDialog, key: str, text: str, value_type: ValueType = ValueType.STRING) -> None:
    dialog.scope_combo.setCurrentIndex(dialog.scope_combo.findData("SHARED_SCOPE"))
    dialog.op_combo.setCurrentIndex(dialog.op_combo.findData("set"))
    dialog.key_edit.setText(key)
    dialog.type_combo.setCurrentIndex(dialog.type_combo.findData(value_type))
    dialog.value_edit.setPlainText(text)


def _table(dialog: BulkEditDialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def test_preview_then_apply_with_faults_then_retry_failed(qloop, tasks, journal, screenshot_dir):
    fleet, devices = _fleet()
    dialog = _dialog(tasks, fleet, journal, devices)
    _set_form(dialog, "fw", "2.0")
    dialog.start_preview()
    qloop.wait_until(lambda: dialog.plan is not None, what="preview")
    rows = {r[0]: r for r in _table(dialog)}
    assert rows["Meter 00"][1:] == ["fw: missing → 2.0", "will write"]
    assert rows["Meter 01"][1:] == ["fw: unchanged", "unchanged"]
    assert rows["Meter 02"][1:] == ["fw: 1.0 → 2.0", "will write"]
    assert "Nothing has been written yet" in dialog.summary_label.text()
    assert sum(fleet.writes.values()) == 0 and dialog.apply_button.isEnabled()
    save_screenshot(dialog, screenshot_dir, "bulk_preview")

    fleet.faults["d4"] = [PermissionDeniedError("You don't have permission to do this.", status=403)]
    fleet.faults["d7"] = [ServerError("The server had an internal error.", status=500)] * 5
    dialog.start_apply()
    qloop.wait_until(lambda: dialog.report is not None, what="report")
    report = dialog.report
    assert sorted(r.name for r in report.failed) == ["Meter 04", "Meter 07"]
    assert _table(dialog)[0][1] == "failed" and "permission" in " ".join(_table(dialog)[0] + _table(dialog)[1])
    assert dialog.summary_label.text().startswith("9 written, 1 unchanged, 2 failed of 12 devices.")
    assert dialog.retry_button.isEnabled()
    save_screenshot(dialog, screenshot_dir, "bulk_report")

    fleet.faults.clear()
    dialog.retry_failed()
    qloop.wait_until(lambda: dialog.report is not report and not dialog.report.failed, what="retry")
    assert sorted(r.name for r in dialog.report.written) == ["Meter 04", "Meter 07"]
    assert all(fleet.data[(d.id, "SHARED_SCOPE")]["fw"] == "2.0" for d in devices)
    dialog.close()


def test_invalid_value_is_refused_before_preview(qloop, tasks, journal):
    fleet, devices = _fleet(3)
    dialog = _dialog(tasks, fleet, journal, devices)
    _set_form(dialog, "limits", '{"lo": 1,, }', ValueType.JSON)
    assert dialog.start_preview() is None
    assert "line 1, column 10" in dialog.error_label.text()
    _set_form(dialog, "n", "nan", ValueType.DOUBLE)
    assert dialog.start_preview() is None and "NaN" in dialog.error_label.text()
    assert dialog.plan is None and sum(fleet.writes.values()) == 0
    dialog.close()


def test_cancelled_run_says_which_devices_were_written(qloop, tasks, journal):
    fleet, devices = _fleet(30)
    dialog = _dialog(tasks, fleet, journal, devices, concurrency=3)
    _set_form(dialog, "mode", "eco")
    dialog.start_preview()
    qloop.wait_until(lambda: dialog.plan is not None)
    fleet.gate = asyncio.Event()
    handle = dialog.start_apply()
    assert handle is not None and handle.visible  # the status bar shows it, with Cancel
    qloop.wait_until(lambda: fleet.in_flight == 3)
    dialog.cancel_run()
    qloop.wait_until(lambda: dialog.report is not None and dialog.report.cancelled, what="cancel report")
    text = dialog.summary_label.text()
    assert text.startswith("Cancelled: 0 written") and "3 interrupted" in text and "27 not sent" in text
    assert dialog.retry_button.isEnabled()
    fleet.gate.set()
    dialog.retry_failed()
    qloop.wait_until(lambda: dialog.report is not None and not dialog.report.cancelled and dialog.running is None)
    assert len(dialog.report.written) == 30
    dialog.close()


def test_history_revert_and_csv_export(qloop, tasks, journal, tmp_path, screenshot_dir):
    fleet, devices = _fleet(4)
    dialog = _dialog(tasks, fleet, journal, devices)
    _set_form(dialog, "fw", "3.0")
    dialog.start_preview()
    qloop.wait_until(lambda: dialog.plan is not None)
    dialog.start_apply()
    qloop.wait_until(lambda: dialog.report is not None)
    batch = dialog.report.batch_id
    dialog.close()

    history = HistoryView(tasks, journal, profile="site", server=fleet.title, device_id="d2")
    history.resize(1000, 360)
    history.show()
    history.refresh()
    qloop.wait_until(lambda: history.entries, what="device history")
    assert [(e.entity_id, e.old, e.new) for e in history.entries] == [("d2", "1.0", "3.0")]
    history.scope_combo.setCurrentIndex(history.scope_combo.findData("profile"))
    qloop.wait_until(lambda: len(history.entries) == 4, what="profile history")
    history.table.selectRow(0)
    save_screenshot(history, screenshot_dir, "history")
    requested: list[int] = []
    history.revert_requested.connect(requested.append)
    history.revert_button.click()
    assert requested == [batch]

    revert = _dialog(tasks, fleet, journal, (), revert_batch=batch)
    assert not revert.form.isVisible()
    revert.start_preview()
    qloop.wait_until(lambda: revert.plan is not None, what="revert preview")
    assert {r[1] for r in _table(revert)} >= {"fw: 3.0 → deleted", "fw: 3.0 → 1.0"}
    save_screenshot(revert, screenshot_dir, "bulk_revert_preview")
    revert.start_apply()
    qloop.wait_until(lambda: revert.report is not None)
    assert fleet.data[("d0", "SHARED_SCOPE")] == {} and fleet.data[("d2", "SHARED_SCOPE")]["fw"] == "1.0"
    assert fleet.data[("d1", "SHARED_SCOPE")]["fw"] == "2.0"
    assert qloop.run(journal.last_undoable(profile="site", server=fleet.title)) is None
    revert.close()

    out = tmp_path / "handover.csv"
    history.export_csv(out)
    qloop.wait_until(lambda: out.exists() and "Exported" in history.note.text())
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 8 and {r["outcome"] for r in rows} == {str(Outcome.WRITTEN)}
    assert rows[0]["device"] == "Meter 00" and rows[0]["old value"] == "(missing)"
    history.close()


def test_all_devices_matching_the_filter_are_previewed(qloop, tasks, journal):
    from console.fleet import DeviceQuery
    from tests.gui.fakes import FakeFleet as TableFleet

    fleet = TableFleet(250)
    query = DeviceQuery(profile="meter", active=True)
    dialog = BulkEditDialog(tasks, fleet, journal, query=query, profile="site")
    dialog.show()
    assert "profile meter" in dialog.target_label.text() and "active" in dialog.target_label.text()
    _set_form(dialog, "targetTemperature", "19.5", ValueType.DOUBLE)
    dialog.start_preview()
    qloop.wait_until(lambda: dialog.plan is not None, what="preview of all matching devices")
    expected = {d.id for d in fleet.devices if d.profile == "meter" and d.active}
    assert {d.device_id for d in dialog.plan.devices} == expected and len(expected) > 50
    assert all(d.diffs[0].describe() == "targetTemperature: 21.5 → 19.5" for d in dialog.plan.devices)
    dialog.close()


def test_rename_and_delete_from_the_form(qloop, tasks, journal):
    fleet, devices = _fleet(3)  # d0 has no fw, d1 has 2.0, d2 has 1.0
    dialog = _dialog(tasks, fleet, journal, devices)
    dialog.scope_combo.setCurrentIndex(dialog.scope_combo.findData("SHARED_SCOPE"))
    dialog.op_combo.setCurrentIndex(dialog.op_combo.findData("rename"))
    assert dialog.new_key_edit.isVisible() and not dialog.value_edit.isVisible()
    dialog.key_edit.setText("fw")
    dialog.new_key_edit.setText("firmware")
    dialog.start_preview()
    qloop.wait_until(lambda: dialog.plan is not None)
    changes = [r[1] for r in _table(dialog)]
    assert "fw: missing (nothing to rename to firmware)" in changes
    assert "firmware: missing → 2.0 (renamed from fw)" in changes
    dialog.start_apply()
    qloop.wait_until(lambda: dialog.report is not None)
    assert fleet.data[("d1", "SHARED_SCOPE")] == {"firmware": "2.0"}

    dialog.op_combo.setCurrentIndex(dialog.op_combo.findData("delete"))
    dialog.key_edit.setText("firmware, other")
    dialog.start_preview()
    qloop.wait_until(lambda: dialog.plan is not None and dialog.report is None)
    assert dialog.plan.devices[0].summary() == "firmware: missing; other: missing"
    dialog.start_apply()
    qloop.wait_until(lambda: dialog.report is not None)
    assert all(fleet.data[(d.id, "SHARED_SCOPE")] == {} for d in devices)
    dialog.close()


def test_the_table_has_titled_columns_before_the_preview(qloop, tasks, journal):
    fleet, devices = _fleet(2)
    dialog = _dialog(tasks, fleet, journal, devices)
    titles = [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())]
    assert titles == ["Device", "Change", "Status"]  # Qt's default "1 2 3" said nothing
    dialog.close()
    dialog.deleteLater()
