"""The attribute editor, bulk dialog and history against real servers: the ThingsBoard emulator and a real
PocketBase with the demo schema. Saves a screenshot of each state (editing, validation error, conflict, bulk preview,
bulk report, history) per backend under the test's folder and in /work/screens/."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLineEdit

from console.fleet import DeviceQuery, DeviceRow
from console.fleet.pocketbase import PocketBaseFleet
from console.fleet.thingsboard import ThingsboardFleet
from console.fleet.values import ValueType
from console.journal import Journal, Outcome
from tests.fleet.conftest import pb_demo_server  # noqa: F401  (session fixture: a real PocketBase with the demo)
from tests.gui.conftest import save_screenshot
from ui.models.attributes import RowState
from ui.tasks import TaskManager
from ui.widgets.attribute_editor import AttributeEditor
from ui.widgets.bulk_dialog import BulkEditDialog
from ui.widgets.history_view import HistoryView

SCOPE = "SHARED_SCOPE"


@pytest.fixture(params=["thingsboard", "pocketbase"])
def server(request: pytest.FixtureRequest, qloop: Any) -> tuple[str, Any]:
    if request.param == "thingsboard":
        return "thingsboard", request.getfixturevalue("tb_server")
    # the session fixture seeds with asyncio.run(): it needs no running loop, and it clears the current one
    asyncio.events._set_running_loop(None)
    try:
        target = request.getfixturevalue("pb_demo_server")
    finally:
        asyncio.set_event_loop(qloop.loop)
        asyncio.events._set_running_loop(qloop.loop)
    return "pocketbase", target


@pytest.fixture
def loop(qloop: Any) -> Any:
    return qloop


@pytest.fixture
def fleet(server, loop):
    kind, target = server
    if kind == "thingsboard":
        made: Any = ThingsboardFleet(target.url, username="tenant@thingsboard.org", password="tenant")
    else:
        made = PocketBaseFleet(target.url, identity=target.superuser_email, password=target.superuser_password)
    loop.run(made.connect())
    yield made
    loop.run(made.close())


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal(tmp_path / "journal.sqlite3")
    yield j
    j.close()


@pytest.fixture
def tasks(loop):
    manager = TaskManager()
    yield manager
    loop.run(manager.shutdown())


def _devices(qloop: Any, fleet: Any, n: int) -> list[DeviceRow]:
    async def load() -> list[DeviceRow]:
        found: list[DeviceRow] = []
        async for page in fleet.iter_device_pages(DeviceQuery(sort="name", descending=False), 100):
            found.extend(page)
            if len(found) >= n:
                break
        return found[:n]

    return qloop.run(load())


def _server_value(qloop, fleet: Any, device_id: str, key: str) -> Any:
    return next((a.value for a in qloop.run(fleet.attributes(device_id, SCOPE)) if a.key == key), None)


def _open_cell(qloop, editor: AttributeEditor, key: str) -> QLineEdit:
    index = editor.value_index(key)
    editor.table.setCurrentIndex(index)
    editor.table.edit(index)
    qloop.settle(0.02)
    cell = editor.table.findChild(QLineEdit, f"cell-editor-{key}")
    assert cell is not None
    return cell


def _commit(qloop, editor: AttributeEditor, cell: QLineEdit) -> None:
    editor.table.commitData(cell)
    editor.table.closeEditor(cell, editor.table.itemDelegate().EndEditHint.NoHint)
    qloop.settle(0.02)


def test_editor_on_a_real_server(server, fleet, loop, tasks, journal, screenshot_dir):
    kind = server[0]
    device = _devices(loop, fleet, 1)[0]
    key = f"setpoint_{uuid.uuid4().hex[:6]}"
    loop.run(fleet.save_attributes(device.id, SCOPE, {key: 21.5, f"{key}_cfg": {"lo": 1, "hi": 9}}))
    editor = AttributeEditor(tasks, journal, profile="site")
    editor.resize(980, 560)
    editor.show()
    try:
        editor.set_device(fleet, device.id)
        loop.wait_until(lambda: editor.row_for(key) is not None, what="attributes loaded")
        loop.wait_until(lambda: editor._subscription is not None, what="live subscription")

        # editing in place
        cell = _open_cell(loop, editor, key)
        cell.setText("22.75")
        save_screenshot(editor, screenshot_dir, f"{kind}_attributes_editing")
        _commit(loop, editor, cell)
        loop.wait_until(lambda: editor.row_for(key).state is RowState.SYNCED, what="write done")
        assert _server_value(loop, fleet, device.id, key) == 22.75

        # validation error: nothing is sent
        editor.select_key(f"{key}_cfg")
        editor.panel.value_edit.setPlainText('{\n  "lo": 1\n  "hi": 9\n}')
        loop.settle(0.02)
        assert "line 3, column 3" in editor.panel.error_label.text()
        save_screenshot(editor, screenshot_dir, f"{kind}_attributes_validation_error")
        assert _server_value(loop, fleet, device.id, f"{key}_cfg") == {"lo": 1, "hi": 9}

        # live: someone else changes the value while the cell is open → conflict, then keep mine
        cell = _open_cell(loop, editor, key)
        cell.setText("24")
        loop.run(fleet.save_attributes(device.id, SCOPE, {key: 19.5}))
        loop.wait_until(lambda: editor.row_for(key).incoming is not None, what="live update")
        assert cell.text() == "24"
        _commit(loop, editor, cell)
        row = editor.row_for(key)
        assert row.state is RowState.CONFLICT and row.incoming.value == 19.5
        editor.select_key(key)
        save_screenshot(editor, screenshot_dir, f"{kind}_attributes_conflict")
        editor.keep_mine()
        loop.wait_until(lambda: editor.row_for(key).state is RowState.SYNCED, what="keep mine")
        assert _server_value(loop, fleet, device.id, key) == 24.0

        # a change on the server while nobody edits: in place
        loop.run(fleet.save_attributes(device.id, SCOPE, {key: 25.0}))
        loop.wait_until(lambda: editor.row_for(key).value == 25.0, what="live value in place")
        outcomes = [(e.key, e.outcome) for e in loop.run(journal.history(entity_id=device.id))]
        assert outcomes == [(key, Outcome.WRITTEN), (key, Outcome.WRITTEN)]
    finally:
        loop.run(editor.aclose())
        editor.close()
        loop.run(fleet.delete_attributes(device.id, SCOPE, [key, f"{key}_cfg"]))


def test_bulk_preview_report_and_history_on_a_real_server(server, fleet, loop, tasks, journal, screenshot_dir):
    kind, target = server
    devices = _devices(loop, fleet, 8)
    key = f"fw_{uuid.uuid4().hex[:6]}"
    loop.run(fleet.save_attributes(devices[1].id, SCOPE, {key: "1.0"}))
    loop.run(fleet.save_attributes(devices[2].id, SCOPE, {key: "2.0.1"}))
    rejected: set[str] = set()
    if kind == "thingsboard":  # the emulator can refuse writes on cue; PocketBase has no fault injection
        rejected = {devices[5].id}
        target.faults.add("POST", f"/api/plugins/telemetry/DEVICE/{devices[5].id}/attributes/{SCOPE}$", 403,
                          times=10)
    dialog = BulkEditDialog(tasks, fleet, journal, devices=devices, profile="site")
    dialog.show()
    try:
        dialog.scope_combo.setCurrentIndex(dialog.scope_combo.findData(SCOPE))
        dialog.key_edit.setText(key)
        dialog.type_combo.setCurrentIndex(dialog.type_combo.findData(ValueType.STRING))
        dialog.value_edit.setPlainText("2.0.1")
        dialog.start_preview()
        loop.wait_until(lambda: dialog.plan is not None, what="preview")
        assert len(dialog.plan.to_write) == 7
        save_screenshot(dialog, screenshot_dir, f"{kind}_bulk_preview")
        dialog.start_apply()
        loop.wait_until(lambda: dialog.report is not None, what="report")
        assert {r.device_id for r in dialog.report.failed} == rejected
        save_screenshot(dialog, screenshot_dir, f"{kind}_bulk_report")
        if kind == "thingsboard":
            target.faults.clear()
            dialog.retry_failed()
            loop.wait_until(lambda: dialog.running is None and not dialog.report.failed, what="retry failed")
        assert [_server_value(loop, fleet, d.id, key) for d in devices] == ["2.0.1"] * 8
    finally:
        dialog.close()

    history = HistoryView(tasks, journal, profile="site", server=fleet.title)
    history.resize(1000, 380)
    history.show()
    try:
        history.refresh()
        loop.wait_until(lambda: len(history.entries) >= 7, what="history")
        save_screenshot(history, screenshot_dir, f"{kind}_history")
    finally:
        history.close()
        loop.run(_delete_everywhere(fleet, devices, key))


async def _delete_everywhere(fleet: Any, devices: list[DeviceRow], key: str) -> None:
    for device in devices:
        await fleet.delete_attributes(device.id, SCOPE, [key])
