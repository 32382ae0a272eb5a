"""Entry point: parses the command line, builds the QApplication and runs the console on a qasync loop.

thingscope                      the last profile reconnects (or the connect dialog opens)
thingscope --profile NAME       connect with a saved profile
thingscope --demo               start the private demo fleet and connect to it; it stops on exit
thingscope --screenshot PATH    save the window once the first rows are painted, then exit
thingscope --self-test          offscreen against the demo: wait for rows, exit 0, or print what failed and exit 1
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["Console", "build_parser", "main"]

log = logging.getLogger(__name__)

FIRST_ROWS_TIMEOUT = 120.0  # seconds; the demo's first start seeds its database


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thingscope", description="A desktop console for IoT fleets.")
    parser.add_argument("--demo", action="store_true", help="start a private local demo fleet and connect to it")
    parser.add_argument("--profile", metavar="NAME", help="connect with this saved profile")
    parser.add_argument("--screenshot", metavar="PATH", help="save the main window once rows are painted, then exit")
    parser.add_argument("--self-test", action="store_true", help="open offscreen against the demo and check it works")
    parser.add_argument("--demo-dir", metavar="DIR", help=argparse.SUPPRESS)  # tests: a private demo data folder
    parser.add_argument("--config-dir", metavar="DIR", help=argparse.SUPPRESS)  # tests: a private profiles folder
    return parser


async def _outcome(handle: Any) -> Any:
    """The task's result, or None when it failed or was cancelled (its state says which); never raises."""
    if handle.task is None:
        return None
    await asyncio.wait({handle.task})
    if handle.task.cancelled() or handle.task.exception() is not None:
        return None
    return handle.task.result()


class StartupError(Exception):
    """Start-up failed for a reason already worded for the user (e.g. the demo runs in another window)."""


class Console:
    """One run of the application: the window, the connection it holds, and what the options ask for."""

    def __init__(self, args: argparse.Namespace) -> None:
        from ui.main_window import MainWindow

        self.args = args
        self.window = MainWindow()
        from ui.widgets.bulk_actions import install_attribute_editing  # editor tab, Bulk edit, Undo, History

        self.editing = install_attribute_editing(self.window)
        self.runner: Any = None  # DemoFleetRunner when --demo / --self-test
        self.exit_code = 0
        self._done = asyncio.Event()
        self._dialog: Any = None
        self.window.closed.connect(self._done.set)
        self.window.connect_requested.connect(self.open_connect_dialog)

    async def run(self) -> int:
        self.window.show()
        try:
            if self.args.demo or self.args.self_test:
                await self.start_demo()
            else:
                await self.connect_saved()
            from ui.gc_guard import MainThreadGC

            MainThreadGC.freeze()  # start-up objects leave the collector's work: full collections stay short
            if self.args.self_test:
                self.exit_code = await self.self_test()
                self.window.close()
            elif self.args.screenshot:
                self.exit_code = await self.take_screenshot(Path(self.args.screenshot))
                self.window.close()
        except Exception as exc:  # startup failed: say why in one line
            from ui.tasks import error_message

            message = str(exc) if isinstance(exc, StartupError) else error_message(exc)
            print(f"thingscope: {message}", file=sys.stderr)
            log.debug("startup failed", exc_info=True)
            self.exit_code = 1
            if self.args.self_test or self.args.screenshot:
                self.window.close()
            else:  # launched from a menu there is no terminal: the window stays, with the reason, until closed
                self.window.show_error(message)
        await self._done.wait()
        return self.exit_code

    # --- connecting ------------------------------------------------------------------------------------------

    async def start_demo(self) -> None:
        from console.demo import DemoFleetRunner
        from ui.tasks import TaskState

        self.runner = DemoFleetRunner(self.args.demo_dir)
        self.window.status.showMessage("Starting the demo fleet (a private local PocketBase)…")
        handle = self.window.tasks.start(self.runner.start(), "Starting the demo fleet", visible=True)
        fleet = await _outcome(handle)
        if handle.state is TaskState.CANCELLED:  # the window was closed while the server started
            return
        if fleet is None:  # failed: the task manager already showed the message
            raise StartupError(handle.error or "The demo fleet did not start.")
        self.editing.profile = "Demo fleet"
        await self.window.set_fleet(fleet, owned=True, closer=self.runner.stop)
        self.window.status.showMessage("Demo fleet running: simulated devices post telemetry.", 10000)

    async def connect_saved(self) -> None:
        """`--profile NAME`, else the last profile used; without a stored secret the connect dialog asks."""
        from console.profiles import ProfileError, ProfileStore, read_saved_secret

        store = ProfileStore(self.args.config_dir)
        try:
            profile = store.get(self.args.profile) if self.args.profile else store.last_used
        except ProfileError as exc:
            self.window.show_error(str(exc))
            profile = None
        if profile is None:
            self.open_connect_dialog()
            return
        secret, _in_file = await read_saved_secret(profile, self.args.config_dir)
        if not secret:
            self.open_connect_dialog(profile.name)
            return
        from console.fleet.open import open_fleet
        from ui.tasks import TaskState

        self.window.status.showMessage(f"Connecting to {profile.name}…")
        try:
            fleet = open_fleet(profile, secret)
        except (ProfileError, ValueError) as exc:  # an unusable saved profile: let the user fix it
            self.open_connect_dialog(profile.name, str(exc))
            return
        handle = self.window.tasks.start(fleet.connect(), f"Connecting to {profile.name}", visible=True)
        await _outcome(handle)
        self.window.status.clearMessage()  # "Connecting to …" must not stay after the outcome
        if handle.state is TaskState.CANCELLED:
            await fleet.close()
            return
        if handle.error:
            await fleet.close()
            self.open_connect_dialog(profile.name, handle.error)
            return
        self.editing.profile = profile.name  # the journal records which profile made each change
        await self.window.set_fleet(fleet, owned=True)

    def open_connect_dialog(self, name: str | None = None, error: str = "") -> None:
        from ui.connect_dialog import ConnectDialog

        if self._dialog is not None:
            self._dialog.raise_()
            return
        dialog = ConnectDialog(self.window.tasks, config_dir=self.args.config_dir, parent=self.window)
        dialog.connected.connect(self._on_dialog_connected)
        dialog.finished.connect(self._on_dialog_finished)
        self._dialog = dialog
        if name:
            dialog.select_profile(name)
        if error:
            dialog.show_error(error)
        dialog.open()  # never exec(): qasync can't nest loops

    def _on_dialog_connected(self, fleet: Any) -> None:
        self.editing.profile = getattr(self._dialog, "connected_profile", "")  # the journal records it
        self.window.tasks.start(self.window.set_fleet(fleet, owned=True), "Connecting")

    def _on_dialog_finished(self, _result: int) -> None:
        if self._dialog is not None:
            self._dialog.deleteLater()
        self._dialog = None

    # --- --screenshot and --self-test --------------------------------------------------------------------------

    async def wait_first_rows(self) -> None:
        painted = asyncio.Event()
        self.window.first_rows_painted.connect(painted.set)
        if self.window.devices_page.model.rowCount():
            painted.set()
        await asyncio.wait_for(painted.wait(), FIRST_ROWS_TIMEOUT)

    async def take_screenshot(self, path: Path) -> int:
        await self.wait_first_rows()
        page = self.window.devices_page
        if page.model.rowCount():
            page.select_device(page.model.row_at(0).id)
            panel = self.window.device_panel
            for _ in range(200):  # let the panel's loads land (bounded)
                if panel.details_view.table.rowCount() and panel.latest_view.note.text() != "Loading…":
                    break
                await asyncio.sleep(0.05)
        for _ in range(100):
            if self.window.status.counts_label.text():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.window.grab().save(str(path)):
            print(f"thingscope: could not write the screenshot to {path}", file=sys.stderr)
            return 1
        print(f"thingscope: screenshot saved to {path}")
        return 0

    async def self_test(self) -> int:
        """Every check prints one line; any failure makes the exit code 1."""
        failures: list[str] = []
        try:
            await self.wait_first_rows()
        except TimeoutError:
            failures.append(f"no device rows within {FIRST_ROWS_TIMEOUT:.0f} s")
        model = self.window.devices_page.model
        checks = {
            "device rows painted": model.rowCount() > 0,
            "device total known": model.total >= model.rowCount() > 0,
            "no error shown": not self.window.banner.isVisible() and not self.window.devices_page.banner.isVisible(),
        }
        for _ in range(200):
            if self.window.status.counts_label.text():
                break
            await asyncio.sleep(0.05)
        checks["device counts in the status bar"] = bool(self.window.status.counts_label.text())
        failures += [name for name, ok in checks.items() if not ok]
        if self.window.banner.isVisible():
            failures.append(f"error: {self.window.banner.message}")
        for name, ok in checks.items():
            print(f"self-test: {'ok  ' if ok else 'FAIL'} {name}")
        if failures:
            print("self-test failed: " + "; ".join(failures), file=sys.stderr)
            return 1
        print(f"self-test passed: {model.rowCount()} of {model.total} devices shown")
        return 0

    async def aclose(self) -> None:
        await self.window.aclose()
        if self.runner is not None and self.runner.running:
            await self.runner.stop()  # the window normally did it (owned fleet's closer); make sure


def configure_logging(level: str) -> None:
    """THINGSCOPE_LOG=INFO shows the app's own story; every HTTP request (the demo posts telemetry each second)
    only at DEBUG."""
    logging.basicConfig(level=level)
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("httpx").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    configure_logging(os.environ.get("THINGSCOPE_LOG", "WARNING"))

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Thingscope")
    app.setOrganizationName("Thingscope")
    app.setQuitOnLastWindowClosed(False)  # we stop the loop ourselves, after the tasks have finished
    icon = Path(__file__).resolve().parent.parent / "resources" / "thingscope.svg"
    if icon.exists():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from ui.gc_guard import MainThreadGC

    collector = MainThreadGC(parent=app)  # worker threads (to_thread) must never free Qt objects
    collector.start()

    async def run() -> int:
        console = Console(args)
        collector.freeze()  # start-up objects leave the collector's scans: shorter full collections later
        try:
            return await console.run()
        finally:
            await console.aclose()

    try:
        with loop:
            return loop.run_until_complete(run())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
