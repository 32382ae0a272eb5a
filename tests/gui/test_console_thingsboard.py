"""Every screen of the console against the ThingsBoard emulator (`tb_server`, ~300 devices).

The fleet comes from `open_fleet(profile, secret)` as in the app; screenshots go under the test's folder and to
/work/screens/.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from console.fleet.open import open_fleet
from console.profiles import AuthKind, BackendKind, Profile, ProfileStore, SecretKind, SecretStore
from tests.gui.conftest import save_screenshot
from ui.connect_dialog import ConnectDialog

TENANT, PASSWORD = "tenant@thingsboard.org", "tenant"


def tb_profile(url: str, name: str = "Emulator") -> Profile:
    return Profile(name=name, kind=BackendKind.THINGSBOARD, url=url, user=TENANT, auth=AuthKind.PASSWORD)


@pytest.fixture
def tb_window(qloop, window_factory, tb_server):
    fleet = open_fleet(tb_profile(tb_server.url), PASSWORD)
    qloop.run(fleet.connect())
    window = window_factory()
    window.show()
    qloop.run(window.set_fleet(fleet, owned=True))
    qloop.wait_until(lambda: window.devices_page.model.rowCount() > 0, what="first device page")
    return window


def test_devices_screen(qloop, tb_window, tb_server, screenshot_dir):
    window = tb_window
    model = window.devices_page.model
    total = tb_server.call(lambda: len(tb_server.store.devices))
    assert model.total == total and model.rowCount() == min(total, model.page_size)
    qloop.wait_until(lambda: window.status.counts_label.text(), what="device counts")
    assert window.status.counts_label.text().startswith(f"Devices {total:,} · active ")
    assert "tenant@thingsboard.org" in window.status.connection_label.text()
    assert "Connected" in window.status.connection_label.text()
    # newest first, as the web UI
    created = [model.row_at(r).created_time for r in range(model.rowCount())]
    assert created == sorted(created, reverse=True)
    # scrolling to the end fetches the next page
    window.devices_page.view.scrollToBottom()
    qloop.wait_until(lambda: model.rowCount() == min(total, 2 * model.page_size), what="second page")
    first = model.row_at(0)
    window.devices_page.select_device(first.id)
    panel = window.device_panel
    qloop.wait_until(lambda: panel.details_view.table.rowCount() > 0, what="details")
    qloop.wait_until(lambda: panel.latest_view.table.rowCount() > 0, what="latest telemetry")
    assert panel.details_view.table.item(0, 1).text() == first.name
    save_screenshot(window, screenshot_dir, "tb_devices")
    panel.setCurrentWidget(panel.attributes_view)
    qloop.wait_until(lambda: panel.attributes_view.table.rowCount() > 0, what="attributes")
    scopes = {panel.attributes_view.table.item(r, 0).text() for r in range(panel.attributes_view.table.rowCount())}
    assert "Server" in scopes
    save_screenshot(window, screenshot_dir, "tb_device_attributes")
    panel.setCurrentWidget(panel.latest_view)
    save_screenshot(window, screenshot_dir, "tb_device_latest")


def test_server_side_sort_search_and_filters(qloop, tb_window, screenshot_dir):
    page = tb_window.devices_page
    model = page.model
    header = page.view.horizontalHeader()
    name_column = model.column_of_field("name")
    header.setSortIndicator(name_column, Qt.SortOrder.AscendingOrder)
    qloop.wait_until(lambda: model.query.sort == "name" and not model.loading and model.rowCount(), what="sorted")
    names = [model.row_at(r).name for r in range(model.rowCount())]
    assert names == sorted(names)
    QTest.keyClicks(page.search, "Thermostat")
    qloop.wait_until(lambda: model.query.text == "Thermostat" and not model.loading, what="search")
    assert model.rowCount() > 0
    assert all("thermostat" in model.row_at(r).name.lower() for r in range(model.rowCount()))
    page.state_filter.setCurrentIndex(page.state_filter.findData(False))
    qloop.wait_until(lambda: model.query.active is False and not model.loading, what="inactive filter")
    rows = [model.row_at(r) for r in range(model.rowCount())]
    assert rows and all(r.active is False for r in rows)
    assert all(model.data(model.index(r, model.column_of_field("active"))) == "Inactive" for r in range(len(rows)))
    qloop.wait_until(lambda: page.profile_filter.count() > 1, what="profiles")
    page.state_filter.setCurrentIndex(0)
    page.search.clear()
    model.set_search_text("")
    page.profile_filter.setCurrentIndex(page.profile_filter.findData("gateway"))
    qloop.wait_until(
        lambda: model.query.profile == "gateway" and not model.loading and model.rowCount(), what="profile"
    )
    assert {model.row_at(r).profile for r in range(model.rowCount())} == {"gateway"}
    save_screenshot(tb_window, screenshot_dir, "tb_devices_filtered")


def test_copy_id_token_and_export_all_devices(qloop, tb_window, tb_server, tmp_path: Path):
    page = tb_window.devices_page
    row = page.model.row_at(0)
    page.select_device(row.id)
    page.copy_device_id()
    assert QGuiApplication.clipboard().text() == row.id
    handle = page.copy_access_token()
    qloop.wait_until(lambda: not handle.running, what="token")
    expected = tb_server.call(lambda: tb_server.store.devices[row.id].credentials_id)
    assert QGuiApplication.clipboard().text() == expected
    out = tmp_path / "devices.csv"
    export = page.export_csv(out)
    qloop.wait_until(lambda: not export.running, timeout=60, what="export")
    assert export.state.value == "done", export.error
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len(rows) - 1 == page.model.total  # every device, not only the loaded page
    assert len({r[0] for r in rows[1:]}) == page.model.total


def test_dashboards_screen(qloop, tb_window, tmp_path: Path, opened_urls, screenshot_dir):
    window = tb_window
    window.show_page("Dashboards")
    page = window.dashboards_page
    qloop.wait_until(lambda: page.model.rowCount() > 0, what="dashboards")
    page.view.selectRow(0)
    row = page.selected()
    assert row is not None
    assert page.open_selected()
    assert opened_urls == [window.fleet.dashboard_url(row.id)]
    out = tmp_path / "dash.json"
    handle = page.export_json(row, out)
    qloop.wait_until(lambda: not handle.running, what="export json")
    assert json.loads(out.read_text("utf-8"))["title"] == row.title
    save_screenshot(window, screenshot_dir, "tb_dashboards")


def test_connect_dialog_saves_profile_tests_and_connects(qloop, tb_server, tmp_path, memory_keyring, screenshot_dir):
    from ui.tasks import TaskManager

    tasks = TaskManager()
    dialog = ConnectDialog(tasks, config_dir=tmp_path)
    dialog.show()
    dialog.name.setText("Emulator")
    dialog.url.setText(tb_server.url)
    dialog.user.setText(TENANT)
    dialog.secret.setText("wrong password")
    results: list[tuple[bool, str]] = []
    dialog.tested.connect(lambda ok, text: results.append((ok, text)))
    dialog.test_connection()
    qloop.wait_until(lambda: results, what="test result")
    assert results[-1][0] is False
    assert "Traceback" not in dialog.status.text() and dialog.status.text()
    save_screenshot(dialog, screenshot_dir, "tb_connect_dialog_error")
    dialog.secret.setText(PASSWORD)
    dialog.test_connection()
    qloop.wait_until(lambda: len(results) == 2, what="second test")
    assert results[-1][0] is True, results[-1][1]
    assert "devices" in dialog.status.text()
    dialog.verify_tls.setChecked(False)
    assert dialog.tls_warning.isVisible()
    save_screenshot(dialog, screenshot_dir, "tb_connect_dialog_tls_off")
    dialog.verify_tls.setChecked(True)
    connected: list[object] = []
    dialog.connected.connect(connected.append)
    dialog.connect_profile()
    qloop.wait_until(lambda: connected, what="connected")
    fleet = connected[0]
    store = ProfileStore(tmp_path)
    assert [p.name for p in store.list()] == ["Emulator"]
    assert store.last_used is not None and store.last_used.name == "Emulator"
    assert qloop.run(SecretStore().get(store.get("Emulator"))) == PASSWORD
    assert f'"{PASSWORD}"' not in (tmp_path / "profiles.json").read_text("utf-8")  # no value is the password
    assert not dialog.isVisible()
    qloop.run(fleet.close())
    qloop.run(tasks.wait_idle())
    dialog.deleteLater()


def test_connect_dialog_without_a_keyring_offers_a_clear_choice(qloop, tmp_path, no_keyring, screenshot_dir):
    from ui.tasks import TaskManager

    tasks = TaskManager()
    dialog = ConnectDialog(tasks, config_dir=tmp_path)
    dialog.show()
    qloop.wait_until(lambda: dialog.keyring_box.isVisible(), what="keyring choice")
    assert dialog.no_save.isChecked() and not dialog.insecure.isChecked()  # the insecure store needs an opt-in
    assert not dialog.remember.isVisible()
    save_screenshot(dialog, screenshot_dir, "connect_dialog_no_keyring")
    dialog.close()
    qloop.run(tasks.wait_idle())
    dialog.deleteLater()


def test_latest_telemetry_updates_live_and_the_feed_closes_with_the_selection(qloop, tb_window, tb_server):
    page, panel = tb_window.devices_page, tb_window.device_panel
    row = page.model.row_at(0)
    page.select_device(row.id)
    table = panel.latest_view.table
    qloop.wait_until(lambda: table.rowCount() > 0 and panel._live is not None, what="latest + live feed")
    key = table.item(0, 0).text()
    base = tb_server.call(lambda: tb_server.store.now_ms())
    posted = []

    def shown() -> bool:
        # the feed may still be settling on the server: post a fresh point until one arrives
        if table.item(0, 1).text() == "12345.5":
            return True
        if posted and time.monotonic() - posted[-1][1] < 0.3:
            return False
        ts = base + 1000 * (len(posted) + 1)
        posted.append((ts, time.monotonic()))
        tb_server.call(lambda: tb_server.store.save_telemetry(row.id, [(ts, {key: 12345.5})]))
        return False

    qloop.wait_until(shown, what="live value in place")
    assert table.item(0, 0).text() == key and table.rowCount() >= 1
    feed = panel._live
    page.select_device(page.model.row_at(1).id)
    # the old device's feed is being closed (a selection right after another one waits for the selection to settle)
    qloop.wait_until(lambda: panel._live is not feed, what="feed of the old device dropped")


def test_without_a_keyring_the_secret_is_saved_only_after_an_explicit_opt_in(qloop, tb_server, tmp_path, no_keyring):
    from console.profiles import InsecureFileSecrets
    from ui.tasks import TaskManager

    tasks = TaskManager()
    dialog = ConnectDialog(tasks, config_dir=tmp_path)
    dialog.show()
    qloop.wait_until(lambda: dialog.keyring_box.isVisible(), what="keyring choice")
    dialog.name.setText("Emulator")
    dialog.url.setText(tb_server.url)
    dialog.user.setText(TENANT)
    dialog.secret.setText(PASSWORD)
    connected: list[object] = []
    dialog.connected.connect(connected.append)
    dialog.connect_profile()  # default choice: don't save
    qloop.wait_until(lambda: connected, what="connected")
    assert not (tmp_path / "insecure-secrets.json").exists()
    qloop.run(connected[0].close())
    dialog.show()
    dialog.insecure.setChecked(True)
    dialog.connect_profile()
    qloop.wait_until(lambda: len(connected) == 2, what="connected again")
    profile = ProfileStore(tmp_path).get("Emulator")
    assert InsecureFileSecrets(tmp_path).get(SecretStore._account(profile, SecretKind.CREDENTIAL)) == PASSWORD
    qloop.run(connected[1].close())
    qloop.run(tasks.wait_idle())
    dialog.close()
    dialog.deleteLater()
