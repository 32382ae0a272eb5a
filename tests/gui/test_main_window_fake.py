"""Main window behaviour that needs a server misbehaving on cue (fake fleet): errors, selection, state, plug-ins."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from console.fleet import CollectionRow, ConnectionState, DeviceQuery, PermissionDeniedError
from tests.gui.conftest import save_screenshot
from tests.gui.fakes import FakeFleet


def test_window_shows_devices_counts_and_the_device_panel(qloop, window_factory, screenshot_dir):
    fleet = FakeFleet(250)
    window = window_factory()
    window.show()
    qloop.run(window.set_fleet(fleet))
    qloop.wait_until(lambda: window.devices_page.model.rowCount() == 200)
    qloop.wait_until(lambda: window.status.counts_label.text() != "")
    assert window.status.counts_label.text() == "Devices 250 · active 187 · inactive 63"
    assert "tenant@fake" in window.status.connection_label.text()
    assert window.devices_page.select_device("dev-00100")
    qloop.wait_until(lambda: window.device_panel.details_view.table.rowCount() > 0)
    qloop.wait_until(lambda: window.device_panel.latest_view.table.rowCount() == 2)
    view = window.device_panel.attributes_view
    qloop.wait_until(lambda: view.table.rowCount() == 4)
    assert view.table.item(0, 0).text() == "Client"
    assert window.device_panel.details_view.table.item(0, 1).text() == "Device 00100"
    save_screenshot(window, screenshot_dir, "fake_main_window")


def test_selection_survives_a_new_query(qloop, window_factory):
    fleet = FakeFleet(50)
    window = window_factory()
    qloop.run(window.set_fleet(fleet))
    page = window.devices_page
    qloop.wait_until(lambda: page.model.rowCount() == 50)
    page.select_device("dev-00007")
    page.model.set_query(DeviceQuery(text="0000"))  # Device 00000..00009: still contains the selection
    qloop.wait_until(lambda: not page.model.loading and page.model.rowCount() == 10)
    qloop.wait_until(lambda: page.selected_device_ids() == ["dev-00007"])
    assert window.device_panel.device_id == "dev-00007"


def test_errors_show_the_servers_message_inline_never_a_traceback(qloop, window_factory):
    fleet = FakeFleet(20)
    fleet.fail_list = PermissionDeniedError("You don't have permission to read devices.", status=403)
    window = window_factory()
    window.show()
    qloop.run(window.set_fleet(fleet))
    page = window.devices_page
    qloop.wait_until(lambda: page.banner.isVisible())
    assert page.banner.message == "You don't have permission to read devices."
    page.banner.retry_button.click()
    qloop.wait_until(lambda: page.model.rowCount() == 20)
    assert not page.banner.isVisible()


def test_connection_state_reaches_the_status_bar(qloop, window_factory):
    fleet = FakeFleet(5)
    window = window_factory()
    qloop.run(window.set_fleet(fleet))
    fleet.emit_state(ConnectionState.RECONNECTING, "socket closed, retrying in 2 s")
    assert "Reconnecting: socket closed, retrying in 2 s" in window.status.connection_label.text()
    qloop.run(window.set_fleet(None))
    fleet.emit_state(ConnectionState.FAILED, "gone")  # unsubscribed: no effect
    assert window.status.connection_label.text().endswith("</span> Not connected")  # not "… — Disconnected" too


def test_plugins_get_tabs_actions_and_the_selected_devices(qloop, window_factory):
    fleet = FakeFleet(30)
    window = window_factory()
    seen: list[tuple[object, object]] = []

    class Chart(QLabel):
        def set_device(self, fleet, device_id):
            seen.append((fleet, device_id))

    index = window.device_panel.add_tab(Chart("plugged"), "Plugged")
    editor = window.device_panel.set_attributes_widget(lambda panel: Chart("editor", panel))
    titles = [window.device_panel.tabText(i) for i in range(window.device_panel.count())]
    assert titles[:3] == ["Details", "Attributes", "Latest telemetry"]  # the editor took the Attributes place
    assert titles[index] == "Plugged" and index == len(titles) - 1
    assert window.device_panel.attributes_view is editor
    action = window.device_actions.addAction("Bulk edit…")
    assert action in window.device_actions.actions()
    qloop.run(window.set_fleet(fleet))
    qloop.wait_until(lambda: window.devices_page.model.rowCount() == 30)
    window.devices_page.select_device("dev-00003")
    assert seen[-1] == (fleet, "dev-00003")
    assert window.selected_device_ids() == ["dev-00003"]


def test_background_work_shows_progress_and_can_be_cancelled(qloop, window_factory):
    import asyncio

    window = window_factory()
    window.show()
    started = asyncio.Event()

    async def long_job(handle):
        handle.set_progress(3, 10)
        started.set()
        await asyncio.sleep(60)

    handle = window.tasks.start(long_job, "Exporting", visible=True)
    qloop.run(started.wait())
    indicator = window.status.tasks
    assert indicator.isVisible()
    assert indicator.label.text() == "Exporting"
    qloop.wait_until(lambda: indicator.progress.format() == "3 / 10", what="progress (repaint is throttled)")
    indicator.cancel_button.click()
    qloop.wait_until(lambda: not handle.running)
    assert handle.state.value == "cancelled"
    assert not indicator.isVisible()


def test_closing_cancels_and_awaits_every_task(qloop, window_factory):
    import asyncio

    fleet = FakeFleet(5)
    window = window_factory()
    window.show()
    qloop.run(window.set_fleet(fleet, owned=True))
    cancelled = []

    async def forever():
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    window.tasks.start(forever(), "Listening")
    window.close()  # schedules the shutdown; the window stays until tasks are done
    qloop.wait_until(lambda: not window.isVisible())
    assert cancelled == [True]
    assert fleet.closed


def test_collections_page_only_on_pocketbase(qloop, window_factory):
    class PocketFleet(FakeFleet):
        kind = "pocketbase"

        async def collections(self):
            return [
                CollectionRow(id="c1", name="devices", type="base", records=320, fields=("name", "label")),
                CollectionRow(id="c2", name="users", type="auth", records=2),
            ]

    window = window_factory()
    qloop.run(window.set_fleet(FakeFleet(3)))
    assert window.navigation.count() == 2
    qloop.run(window.set_fleet(PocketFleet(3)))
    assert window.navigation.item(2).text() == "Collections"
    window.show_page("Collections")
    page = window.collections_page
    qloop.wait_until(lambda: page.table.rowCount() == 2, what="collections")
    assert page.table.item(0, 2).text() == "320"
    assert not window.device_panel.isVisible()


def test_plugged_tabs_are_closed_before_the_tasks_are_cancelled(qloop, window_factory):
    import asyncio

    window = window_factory()
    events: list[str] = []

    class LiveTab(QLabel):
        def set_device(self, fleet, device_id):
            pass

        async def aclose(self):
            await asyncio.sleep(0)
            events.append("tab closed")

    window.device_panel.add_tab(LiveTab("live"), "Live")
    window.tasks.task_finished.connect(lambda h: events.append(f"task {h.state.value}"))
    window.tasks.start(asyncio.sleep(60), "Listening")
    qloop.run(window.aclose())
    assert events[0] == "tab closed" and "task cancelled" in events


def test_ctrl_f_goes_to_the_device_search_box(qloop, window_factory):
    from PySide6.QtGui import QKeySequence

    window = window_factory()
    window.show()
    qloop.run(window.set_fleet(FakeFleet(5)))
    window.navigation.setCurrentRow(1)  # on the Dashboards page
    window.devices_page.search.setText("old search")
    menus = [m.menu() for m in window.menuBar().actions() if m.menu() is not None]
    find = [a for m in menus for a in m.actions() if a.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)]
    assert len(find) == 1
    find[0].trigger()
    assert window.pages.currentWidget() is window.devices_page
    assert window.focusWidget() is window.devices_page.search
    assert window.devices_page.search.selectedText() == "old search"  # typing replaces it


def test_ctrl_q_in_another_window_of_the_app_closes_the_main_window(qloop, window_factory):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    window = window_factory()
    window.show()
    menus = [m.menu() for m in window.menuBar().actions() if m.menu() is not None]
    quit_action = next(a for m in menus for a in m.actions() if a.text() == "&Quit")
    quit_action.setShortcut("Ctrl+Q")  # the desktop's Quit key (the offscreen platform binds none)
    other = QWidget(window, Qt.WindowType.Window)  # like the History view or the chart workspace
    other.show()
    other.activateWindow()
    qloop.wait_until(lambda: QApplication.activeWindow() is other, what="the other window active")
    QTest.keyClick(other, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qloop.wait_until(lambda: not window.isVisible(), what="the main window closed")  # needed its focus before
