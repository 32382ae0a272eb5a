"""Regressions found by driving the real window against the ThingsBoard emulator as a field engineer would."""

from __future__ import annotations

from pathlib import Path

from tests.gui.fakes import FakeFleet


def test_cancelled_csv_export_says_so_and_leaves_no_file(qloop, window_factory, tmp_path: Path):
    fleet = FakeFleet(3000)
    window = window_factory()
    qloop.run(window.set_fleet(fleet))
    page = window.devices_page
    qloop.wait_until(lambda: page.model.rowCount() == 200)
    fleet.delay = lambda query, number: 0.0 if number == 0 else 30.0  # the second export page never comes
    messages: list[str] = []
    page.message.connect(messages.append)
    out = tmp_path / "devices.csv"
    handle = page.export_csv(out)
    assert handle is not None
    qloop.wait_until(lambda: handle.done_count > 0)
    handle.cancel()
    qloop.wait_until(lambda: messages)
    assert messages == ["Export cancelled: devices.csv was not written."]
    assert not out.exists()
    assert not out.with_name("devices.csv.part").exists()


def test_a_key_added_to_an_empty_scope_is_not_clipped(qloop, tmp_path: Path):
    from PySide6.QtGui import QFontMetrics

    from console.journal import Journal
    from tests.unit.test_bulk import FakeFleet as AttributeFleet
    from ui.models.attributes import KEY
    from ui.tasks import TaskManager
    from ui.widgets.attribute_editor import AttributeEditor

    journal = Journal(tmp_path / "journal.sqlite3")
    fleet = AttributeFleet({"pump-1": {}})
    tasks = TaskManager()
    widget = AttributeEditor(tasks, journal, profile="qa")
    widget.resize(420, 500)
    widget.show()
    try:
        widget.set_device(fleet, "pump-1")
        qloop.wait_until(lambda: widget._subscription is not None, what="loaded and subscribed")
        assert widget.model is not None and widget.model.rowCount() == 0  # the Key column is sized to its header
        key = "setpoint_temperature"
        widget.panel.start_new(set())
        widget.panel.key_edit.setText(key)
        widget.panel.value_edit.setPlainText("21")
        widget.panel.save_button.click()
        qloop.wait_until(lambda: fleet.data[("pump-1", "SHARED_SCOPE")].get(key) == "21", what="written")
        qloop.wait_until(lambda: widget.proxy.rowCount() == 1)
        text_width = QFontMetrics(widget.table.font()).horizontalAdvance(key)
        assert widget.table.columnWidth(KEY) >= text_width
    finally:
        qloop.run(widget.aclose())
        qloop.run(tasks.shutdown())
        widget.close()
        widget.deleteLater()
        journal.close()


def test_a_long_connection_error_does_not_widen_the_window(qloop, window_factory):
    from console.fleet import ConnectionState

    fleet = FakeFleet(5)
    window = window_factory()
    window.show()
    qloop.run(window.set_fleet(fleet))
    before = window.minimumSizeHint().width()
    detail = (
        "Live data lost; reconnecting (attempt 3) in 8 s: Network error talking to 127.0.0.1:18080: "
        "[Errno 111] Connect call failed ('127.0.0.1', 18080)."
    )
    fleet.emit_state(ConnectionState.RECONNECTING, detail)
    qloop.wait_until(lambda: "Reconnecting" in window.status.connection_label.text())
    label = window.status.connection_label
    assert "Live data lost; reconnecting" in label.text()
    assert label.toolTip() == detail  # the whole reason is one hover away
    assert window.minimumSizeHint().width() <= before + 200  # the whole reason would add ~550 px


def test_bulk_apply_says_it_is_writing_and_how_many_requests_were_retried(qloop, tmp_path: Path):
    import asyncio

    from console.errors import RateLimitedError
    from console.fleet import DeviceRow
    from console.fleet.values import ValueType
    from console.journal import Journal
    from tests.unit.test_bulk import FakeFleet as AttributeFleet
    from ui.tasks import TaskManager
    from ui.widgets.bulk_dialog import BulkEditDialog

    journal = Journal(tmp_path / "journal.sqlite3")
    tasks = TaskManager()
    fleet = AttributeFleet({f"d{i}": {} for i in range(6)})
    devices = [DeviceRow(id=f"d{i}", name=f"Meter {i}") for i in range(6)]
    dialog = BulkEditDialog(tasks, fleet, journal, devices=devices, profile="qa")
    dialog.show()
    try:
        dialog.scope_combo.setCurrentIndex(dialog.scope_combo.findData("SHARED_SCOPE"))
        dialog.op_combo.setCurrentIndex(dialog.op_combo.findData("set"))
        dialog.key_edit.setText("channel")
        dialog.type_combo.setCurrentIndex(dialog.type_combo.findData(ValueType.STRING))
        dialog.value_edit.setPlainText("beta")
        assert dialog.start_preview() is not None
        qloop.wait_until(lambda: dialog.plan is not None, what="preview")
        assert "Nothing has been written yet" in dialog.summary_label.text()
        fleet.faults["d2"] = [RateLimitedError("Too many requests", status=429, retry_after=0.01)] * 2
        fleet.faults["d4"] = [RateLimitedError("Too many requests", status=429, retry_after=0.01)]
        fleet.gate = asyncio.Event()
        dialog.start_apply()
        qloop.wait_until(lambda: fleet.in_flight > 0, what="writes in flight")
        assert "Nothing has been written yet" not in dialog.summary_label.text()
        assert dialog.summary_label.text().startswith("Writing")
        fleet.gate.set()
        qloop.wait_until(lambda: dialog.report is not None, what="report")
        text = dialog.summary_label.text()
        assert text.startswith("6 written")
        assert "3 requests were retried (the server was busy or asked us to slow down)." in text
    finally:
        qloop.run(tasks.shutdown())
        dialog.close()
        dialog.deleteLater()
        journal.close()


def test_arrowing_through_devices_loads_the_first_and_the_last_not_every_one(qloop, window_factory):
    fleet = FakeFleet(50)
    asked: list[str] = []
    original = fleet.get_device

    async def counting_get_device(device_id: str):  # type: ignore[no-untyped-def]
        asked.append(device_id)
        return await original(device_id)

    fleet.get_device = counting_get_device  # type: ignore[method-assign]
    window = window_factory()
    qloop.run(window.set_fleet(fleet))
    page, panel = window.devices_page, window.device_panel
    qloop.wait_until(lambda: page.model.rowCount() == 50)
    ids = [page.model.row_at(i).id for i in range(12)]
    for device_id in ids:  # as fast as a held-down arrow key
        assert page.select_device(device_id)
    qloop.wait_until(lambda: panel.device_id == ids[-1], what="the last selection shown")
    qloop.wait_until(lambda: panel.details_view.table.rowCount() > 0, what="its details")
    assert panel.details_view.table.item(0, 1).text() == page.model.row_at(11).name
    assert asked == [ids[0], ids[-1]]  # not one request set per device passed over


def test_connecting_again_to_the_same_server_shows_the_still_selected_device(qloop, window_factory):
    first = FakeFleet(30)
    window = window_factory()
    qloop.run(window.set_fleet(first))
    page, panel = window.devices_page, window.device_panel
    qloop.wait_until(lambda: page.model.rowCount() == 30)
    assert page.select_device("dev-00005")
    qloop.wait_until(lambda: panel.device_id == "dev-00005")
    second = FakeFleet(30, title="tenant@fake (API key) @ 127.0.0.1")  # the same devices through another profile
    qloop.run(window.set_fleet(second))
    qloop.wait_until(lambda: page.model.rowCount() == 30 and page.selected_device_ids() == ["dev-00005"])
    # the row is highlighted, so the panel must show it (it said "Select a device." under a selected row)
    qloop.wait_until(lambda: panel.device_id == "dev-00005" and panel.fleet is second, what="panel follows")
    qloop.wait_until(lambda: panel.details_view.table.rowCount() > 0, what="its details")


def test_a_url_with_a_wrong_path_says_to_check_the_url(qloop, tb_server, tmp_path: Path, no_keyring):
    from ui.connect_dialog import ConnectDialog
    from ui.tasks import TaskManager

    tasks = TaskManager()
    dialog = ConnectDialog(tasks, config_dir=tmp_path)
    dialog.show()
    try:
        dialog.name.setText("Emulator")
        dialog.url.setText(tb_server.url + "/thingsboard")  # e.g. pasted from a browser's address bar
        dialog.user.setText("tenant@thingsboard.org")
        dialog.secret.setText("tenant")
        results: list[tuple[bool, str]] = []
        dialog.tested.connect(lambda ok, text: results.append((ok, text)))
        dialog.test_connection()
        qloop.wait_until(lambda: results, what="test result")
        ok, text = results[-1]
        assert ok is False
        # it said only "Requested item wasn't found!"
        assert "Check the URL" in text and "Check the URL" in dialog.status.text()
    finally:
        qloop.run(tasks.wait_idle())
        dialog.close()
        dialog.deleteLater()


def test_a_new_telemetry_key_appears_in_latest_telemetry(qloop, window_factory):
    from console.fleet import LatestValue

    fleet = FakeFleet(5)
    window = window_factory()
    qloop.run(window.set_fleet(fleet))
    page, panel = window.devices_page, window.device_panel
    qloop.wait_until(lambda: page.model.rowCount() == 5)
    panel.setCurrentWidget(panel.latest_view)
    panel._keys_timer.setInterval(50)
    page.select_device("dev-00001")
    qloop.wait_until(lambda: panel.latest_view.table.rowCount() == 2, what="the two known keys")
    original = fleet.latest_telemetry

    async def with_a_new_key(device_id: str) -> list[LatestValue]:
        return [*await original(device_id), LatestValue(key="battery", ts=1_760_000_060_000, value=97)]

    async def keys(device_id: str) -> list[str]:
        return ["battery", "humidity", "temperature"]

    fleet.latest_telemetry = with_a_new_key  # type: ignore[method-assign]
    fleet.telemetry_keys = keys  # type: ignore[method-assign]
    # the device sends a key it never sent before: the live feed (subscribed to the known keys) can't carry it
    qloop.wait_until(lambda: panel.latest_view.table.rowCount() == 3, what="the new key shown")
    assert panel.latest_view.keys() == {"battery", "humidity", "temperature"}
    assert panel._live is not None  # subscribed again, now with the new key


def test_a_secret_saved_in_the_plain_text_file_is_used_on_the_next_start(qloop, tmp_path: Path, no_keyring):
    from console.profiles import (
        AuthKind,
        BackendKind,
        InsecureFileSecrets,
        Profile,
        ProfileStore,
        SecretStore,
        read_saved_secret,
    )
    from ui.connect_dialog import ConnectDialog
    from ui.tasks import TaskManager

    profile = Profile(name="Site", kind=BackendKind.THINGSBOARD, url="http://127.0.0.1:9", auth=AuthKind.API_KEY)
    ProfileStore(tmp_path).save(profile)
    # what an earlier run wrote when the user opted in to the plain-text file (no keyring on this machine)
    qloop.run(SecretStore(insecure_file=InsecureFileSecrets(tmp_path)).set(profile, "tb_key_123"))
    assert qloop.run(read_saved_secret(profile, tmp_path)) == ("tb_key_123", True)  # what the start-up reconnect reads
    tasks = TaskManager()
    dialog = ConnectDialog(tasks, config_dir=tmp_path)
    dialog.show()
    try:
        assert dialog.select_profile("Site")
        qloop.wait_until(lambda: dialog.secret.text() == "tb_key_123", what="the saved key filled in")
        qloop.wait_until(lambda: dialog.insecure.isChecked(), what="the earlier choice shown")
    finally:
        qloop.run(tasks.wait_idle())
        dialog.close()
        dialog.deleteLater()


def test_start_up_reconnects_with_an_api_key_kept_in_the_plain_text_file(qloop, tb_server, tmp_path: Path, no_keyring):
    from console.profiles import AuthKind, BackendKind, InsecureFileSecrets, Profile, ProfileStore, SecretStore
    from tests.tbserver.seed import TENANT_API_KEY
    from ui.app import Console, build_parser

    profile = Profile(name="Key", kind=BackendKind.THINGSBOARD, url=tb_server.url, auth=AuthKind.API_KEY)
    store = ProfileStore(tmp_path)
    store.save(profile)
    store.set_last_used("Key")
    qloop.run(SecretStore(insecure_file=InsecureFileSecrets(tmp_path)).set(profile, TENANT_API_KEY))
    console = Console(build_parser().parse_args(["--config-dir", str(tmp_path)]))
    try:
        qloop.run(console.connect_saved())
        assert console._dialog is None  # it did not ask for the key again
        assert console.window.fleet is not None
        assert console.window.status.currentMessage() == ""  # not a stale "Connecting to Key…"
        qloop.wait_until(lambda: console.window.devices_page.model.rowCount() > 0, what="rows")
    finally:
        qloop.run(console.aclose())
        console.window.close()
        console.window.deleteLater()


def test_panel_errors_from_a_server_outage_clear_when_the_connection_is_back(qloop, window_factory):
    from console.fleet import ConnectionState, NetworkError

    fleet = FakeFleet(5)
    window = window_factory()
    qloop.run(window.set_fleet(fleet))
    page, panel = window.devices_page, window.device_panel
    qloop.wait_until(lambda: page.model.rowCount() == 5)
    original = fleet.get_device
    down = [True]

    async def get_device(device_id: str):  # type: ignore[no-untyped-def]
        if down[0]:
            raise NetworkError("Could not connect to 127.0.0.1: the connection was refused (is the server running?).")
        return await original(device_id)

    fleet.get_device = get_device  # type: ignore[method-assign]
    fleet.emit_state(ConnectionState.RECONNECTING, "server down")
    page.select_device("dev-00002")
    qloop.wait_until(lambda: panel.details_view.failed, what="the outage shown")
    assert "connection was refused" in panel.details_view.note.text()
    down[0] = False
    fleet.emit_state(ConnectionState.CONNECTED)
    qloop.wait_until(lambda: panel.details_view.table.rowCount() > 0, what="details reloaded")
    assert not panel.details_view.failed and not panel.details_view.note.isVisible()


def test_a_task_with_a_long_title_does_not_widen_the_window(qloop, window_factory):
    import asyncio

    window = window_factory()
    window.show()
    qloop.run(window.set_fleet(FakeFleet(5)))
    before = window.minimumSizeHint().width()
    title = "Exporting devices to " + "site-survey-north-building-third-floor-" * 4 + ".csv"
    handle = window.tasks.start(asyncio.sleep(30), title, visible=True)
    try:
        qloop.wait_until(lambda: window.status.tasks.isVisible(), what="the task shown")
        assert window.status.tasks.label.toolTip() == title
        assert window.minimumSizeHint().width() <= before + 500  # the whole title would add ~1,000 px
    finally:
        handle.cancel()
        qloop.run(window.tasks.wait_idle())
