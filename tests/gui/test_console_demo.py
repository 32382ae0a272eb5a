"""The console against a real PocketBase: the embedded demo (DemoFleetRunner on a private data folder).

Also the command line: `--self-test` and `--demo --screenshot` in a subprocess, and `--profile` in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.demo import DemoFleetRunner
from tests.conftest import REPO
from tests.gui.conftest import SCREENS, save_screenshot


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo database for the session: seeded by the first test, reused (as a restart) by the others."""
    return tmp_path_factory.mktemp("demo")


@pytest.fixture
def demo_window(qloop, window_factory, demo_dir):
    runner = DemoFleetRunner(demo_dir)
    fleet = qloop.run(runner.start(), timeout=120)
    window = window_factory()
    window.show()
    qloop.run(window.set_fleet(fleet, owned=True, closer=runner.stop))
    qloop.wait_until(lambda: window.devices_page.model.rowCount() > 0, what="first device page")
    yield window
    qloop.run(window.aclose())
    assert not runner.running  # the window's close stopped the local server


def test_demo_devices_screen(qloop, demo_window, screenshot_dir):
    window = demo_window
    model = window.devices_page.model
    assert model.total >= 100  # a few hundred devices
    qloop.wait_until(lambda: window.status.counts_label.text(), what="counts")
    assert window.status.counts_label.text().startswith(f"Devices {model.total:,} · active ")
    assert "Demo fleet" in window.status.connection_label.text()
    assert [window.navigation.item(i).text() for i in range(window.navigation.count())] == [
        "Devices",
        "Dashboards",
        "Collections",
    ]
    row = model.row_at(0)
    window.devices_page.select_device(row.id)
    panel = window.device_panel
    qloop.wait_until(lambda: panel.details_view.table.rowCount() > 0, what="details")
    qloop.wait_until(lambda: panel.latest_view.table.rowCount() > 0, what="latest telemetry")
    qloop.wait_until(lambda: panel.attributes_view.table.rowCount() > 0, what="attributes")
    assert panel.details_view.table.item(0, 1).text() == row.name
    save_screenshot(window, screenshot_dir, "demo_devices")
    panel.setCurrentWidget(panel.latest_view)
    save_screenshot(window, screenshot_dir, "demo_device_latest")


def test_demo_collections_screen(qloop, demo_window, screenshot_dir):
    window = demo_window
    window.show_page("Collections")
    page = window.collections_page
    qloop.wait_until(lambda: page.table.rowCount() > 0, what="collections")
    names = {page.table.item(r, 0).text(): r for r in range(page.table.rowCount())}
    assert "devices" in names
    devices_row = names["devices"]
    assert page.table.item(devices_row, 2).text() == f"{window.devices_page.model.total:,}"
    assert "name" in page.table.item(devices_row, 3).text()
    save_screenshot(window, screenshot_dir, "demo_collections")


def test_demo_search_and_state_filter(qloop, demo_window):
    page = demo_window.devices_page
    model = page.model
    name = model.row_at(0).name
    page.search.setText(name)
    model.set_search_text(name)
    qloop.wait_until(lambda: model.query.text == name and not model.loading, what="search")
    assert [model.row_at(r).name for r in range(model.rowCount())] == [name]
    page.search.clear()
    model.set_search_text("")
    page.state_filter.setCurrentIndex(page.state_filter.findData(False))
    qloop.wait_until(lambda: model.query.active is False and model.query.text == "" and not model.loading, what="f")
    assert model.rowCount() > 0 and all(model.row_at(r).active is False for r in range(model.rowCount()))


def test_demo_dashboards_screen(qloop, demo_window, opened_urls, tmp_path, screenshot_dir):
    window = demo_window
    window.show_page("Dashboards")
    page = window.dashboards_page
    qloop.wait_until(lambda: page.model.rowCount() > 0, what="dashboards")
    page.view.selectRow(0)
    row = page.selected()
    assert page.open_selected()
    assert opened_urls == [window.fleet.dashboard_url(row.id)]
    out = tmp_path / "dash.json"
    handle = page.export_json(row, out)
    qloop.wait_until(lambda: not handle.running, what="export")
    assert out.stat().st_size > 0
    save_screenshot(window, screenshot_dir, "demo_dashboards")


def _run_app(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run(
        [sys.executable, "-m", "ui.app", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
def test_self_test_and_screenshot_from_the_command_line(tmp_path, screenshot_dir):
    demo = tmp_path / "demo"
    result = _run_app("--self-test", "--demo-dir", str(demo))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
    shot = screenshot_dir / "cli_demo.png"
    result = _run_app("--demo", "--demo-dir", str(demo), "--screenshot", str(shot))
    assert result.returncode == 0, result.stdout + result.stderr
    assert shot.stat().st_size > 10_000
    if SCREENS.is_dir():
        (SCREENS / shot.name).write_bytes(shot.read_bytes())


def test_profile_option_connects_with_the_saved_secret(qloop, tb_server, tmp_path, memory_keyring):
    from console.profiles import AuthKind, BackendKind, Profile, ProfileStore, SecretStore
    from ui.app import Console, build_parser

    profile = Profile(
        name="Lab",
        kind=BackendKind.THINGSBOARD,
        url=tb_server.url,
        user="tenant@thingsboard.org",
        auth=AuthKind.PASSWORD,
    )
    ProfileStore(tmp_path).save(profile)
    qloop.run(SecretStore().set(profile, "tenant"))
    console = Console(build_parser().parse_args(["--profile", "Lab", "--config-dir", str(tmp_path)]))
    try:
        qloop.run(console.connect_saved())
        assert console.window.fleet is not None and console.window.fleet.kind == "thingsboard"
        qloop.wait_until(lambda: console.window.devices_page.model.rowCount() > 0, what="rows")
    finally:
        qloop.run(console.aclose())
        console.window.close()
        console.window.deleteLater()


def test_profile_without_a_saved_secret_opens_the_connect_dialog(qloop, tmp_path, memory_keyring):
    from console.profiles import BackendKind, Profile, ProfileStore
    from ui.app import Console, build_parser

    ProfileStore(tmp_path).save(Profile(name="Gone", kind=BackendKind.POCKETBASE, url="http://127.0.0.1:9", user="x@y"))
    console = Console(build_parser().parse_args(["--profile", "Gone", "--config-dir", str(tmp_path)]))
    try:
        qloop.run(console.connect_saved())
        dialog = console._dialog
        assert dialog is not None and dialog.isVisible()  # no secret saved: the dialog asks
        assert dialog.name.text() == "Gone"
        dialog.reject()
    finally:
        qloop.run(console.aclose())
        console.window.close()
        console.window.deleteLater()


def test_first_start_opens_the_connect_dialog_and_connecting_fills_the_window(
    qloop, tb_server, tmp_path, memory_keyring, screenshot_dir
):
    from console.profiles import ProfileStore
    from ui.app import Console, build_parser

    console = Console(build_parser().parse_args(["--config-dir", str(tmp_path)]))
    try:
        console.window.show()
        qloop.run(console.connect_saved())  # no saved profile: the dialog asks
        dialog = console._dialog
        assert dialog is not None and dialog.isVisible()
        dialog.name.setText("Emulator")
        dialog.url.setText(tb_server.url)
        dialog.user.setText("tenant@thingsboard.org")
        dialog.secret.setText("tenant")
        save_screenshot(dialog, screenshot_dir, "connect_dialog_first_start")
        dialog.connect_button.click()
        qloop.wait_until(lambda: console.window.fleet is not None, what="connected")
        qloop.wait_until(lambda: console.window.devices_page.model.rowCount() > 0, what="rows")
        assert console._dialog is None  # closed (and deleted) after connecting
        assert ProfileStore(tmp_path).last_used.name == "Emulator"  # reconnects on the next start
        # File > Connect… opens it again, with the saved profile selected
        console.window.connect_action.trigger()
        qloop.wait_until(lambda: console._dialog is not None and console._dialog.isVisible(), what="dialog again")
        assert console._dialog.name.text() == "Emulator"
        console._dialog.reject()
    finally:
        qloop.run(console.aclose())
        console.window.close()
        console.window.deleteLater()


def test_closing_while_the_demo_starts_stops_its_server(qloop, tmp_path):
    import asyncio

    from ui.app import Console, build_parser

    console = Console(build_parser().parse_args(["--demo", "--demo-dir", str(tmp_path / "demo")]))
    run = asyncio.ensure_future(console.run())
    qloop.wait_until(lambda: console.runner is not None and console.window.status.tasks.isVisible(), what="starting")
    console.window.close()
    assert qloop.run(run, timeout=60) == 0
    qloop.run(console.aclose())
    assert not console.runner.running
    console.window.deleteLater()


def test_demo_run_exits_cleanly_and_stops_the_server_on_close(qloop, demo_dir):
    import asyncio

    from ui.app import Console, build_parser

    console = Console(build_parser().parse_args(["--demo", "--demo-dir", str(demo_dir)]))
    run = asyncio.ensure_future(console.run())
    qloop.wait_until(lambda: console.window.devices_page.model.rowCount() > 0, timeout=120, what="rows")
    runner = console.runner
    assert runner.running
    console.window.close()
    assert qloop.run(run, timeout=60) == 0
    assert not runner.running  # awaited the runner's stop on close
    qloop.run(console.aclose())
    console.window.deleteLater()


def test_demo_already_running_elsewhere_says_so_and_keeps_the_window(qloop, tmp_path, capsys):
    import asyncio
    import fcntl

    from ui.app import Console, build_parser

    folder = tmp_path / "demo"
    folder.mkdir()
    with open(folder / "demo.lock", "a+b") as other:  # another Thingscope holds this demo folder
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        console = Console(build_parser().parse_args(["--demo", "--demo-dir", str(folder)]))
        run = asyncio.ensure_future(console.run())
        qloop.wait_until(lambda: console.window.banner.isVisible(), timeout=60, what="the error")
        qloop.settle(0.1)
        assert "already running in another Thingscope window" in console.window.banner.message
        assert console.window.isVisible() and not run.done()  # not gone before the user could read why
        assert "already running in another Thingscope window" in capsys.readouterr().err  # was "RuntimeError"
        console.window.close()
        assert qloop.run(run, timeout=60) == 1
        qloop.run(console.aclose())
        console.window.deleteLater()


@pytest.mark.parametrize(("level", "expected"), [("INFO", "False True"), ("DEBUG", "True True")])
def test_thingscope_log_info_is_not_flooded_by_http_requests(level, expected):
    code = (
        f"import logging; from ui.app import configure_logging; configure_logging({level!r}); "
        "print(*(logging.getLogger(n).isEnabledFor(logging.INFO) for n in ('httpx', 'ui.tasks')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.split() == expected.split()  # the demo logged one "HTTP Request: POST …" line a second at INFO
