"""GUI test fixtures: a qasync loop as the asyncio loop, windows that close properly, and leak checks.

Write GUI tests as plain (sync) test functions: pytest-asyncio (auto mode) leaves them alone, and `qloop.run(coro)`
drives coroutines on the Qt event loop. `leak_check` (autouse) fails a test that leaves asyncio tasks running,
active QTimers in its widgets, or visible top-level windows behind (napari's "dangling" fixtures, for asyncio).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication, QWidget

T = TypeVar("T")

SCREENS = Path("/work/screens")

pytestmark = pytest.mark.gui


class QLoop:
    """The qasync loop of one test, with helpers that never wait forever."""

    def __init__(self, loop: qasync.QEventLoop) -> None:
        self.loop = loop

    def run(self, awaitable: Awaitable[T], timeout: float = 30.0) -> T:
        """Run the Qt event loop until `awaitable` is done (TimeoutError after `timeout` seconds).

        Not qasync's run_until_complete: that processes Qt events once more after the loop stopped, with no running
        asyncio loop, so a task stepped there (a view's fetchMore) fails inside httpx/anyio. Between runs the loop
        stays registered as the running loop for the same reason: tests that process Qt events themselves.
        """
        future = asyncio.ensure_future(asyncio.wait_for(_wrap(awaitable), timeout), loop=self.loop)
        future.add_done_callback(lambda _f: self.loop.stop())
        try:
            self.loop.run_forever()
        finally:
            asyncio.events._set_running_loop(self.loop)
        if not future.done():
            raise RuntimeError("the event loop stopped before the awaitable finished")
        return future.result()

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> None:
        """Run the loop until `predicate()` is true (checked every 10 ms)."""

        async def poll() -> None:
            while not predicate():  # noqa: ASYNC110 - polling Qt state, nothing to await on
                await asyncio.sleep(0.01)

        try:
            self.run(poll(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what or predicate}") from None

    def settle(self, seconds: float = 0.05) -> None:
        """Let queued Qt events and callbacks run (layout, paint)."""
        self.run(asyncio.sleep(seconds))


async def _wrap(awaitable: Awaitable[T]) -> T:
    return await awaitable


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[QLoop]:
    from ui.gc_guard import MainThreadGC

    qapp.setQuitOnLastWindowClosed(False)  # closing a test window must not stop the loop
    collector = MainThreadGC()  # Qt wrappers must not be freed by a GC run in the emulator's thread
    collector.start()
    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    qloop = QLoop(loop)
    try:
        yield qloop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            qloop.run(asyncio.gather(*pending, return_exceptions=True))
        qloop.run(loop.shutdown_asyncgens())
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        loop.close()
        _flush_deletes()
        collector.stop()  # a full collection here, in the GUI thread
        collector.deleteLater()


def _flush_deletes() -> None:
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()


def find_leaks(qapp: QApplication, loop: asyncio.AbstractEventLoop, before: set[int]) -> list[str]:
    """What a test left behind: running tasks, visible new top-level windows, active timers in new widgets."""
    problems = []
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    if tasks:
        problems.append(f"{len(tasks)} asyncio task(s) still running: {[t.get_coro() for t in tasks]}")
    windows = [w for w in qapp.topLevelWidgets() if w.isVisible() and id(w) not in before]
    if windows:
        problems.append(f"top-level window(s) left open: {[type(w).__name__ for w in windows]}")
    timers = [
        f"{type(t.parent()).__name__}.{t.objectName() or 'QTimer'}"
        for w in qapp.topLevelWidgets()
        if id(w) not in before
        for t in w.findChildren(QTimer)
        if t.isActive()
    ]
    if timers:
        problems.append(f"active timer(s) left behind: {timers}")
    return problems


@pytest.fixture(autouse=True)
def leak_check(request: pytest.FixtureRequest, qloop: QLoop, qapp: QApplication) -> Iterator[None]:
    before = {id(w) for w in qapp.topLevelWidgets()}
    yield
    _flush_deletes()
    problems = find_leaks(qapp, qloop.loop, before)
    for w in qapp.topLevelWidgets():  # clean up so one leak doesn't fail every later test
        if id(w) not in before:
            w.close()
            w.deleteLater()
    _flush_deletes()
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture
def window_factory(qloop: QLoop) -> Iterator[Callable[..., Any]]:
    """Make MainWindows that are closed (tasks awaited, fleet released) and deleted at the end of the test."""
    from ui.main_window import MainWindow

    made: list[MainWindow] = []

    def make(**kwargs: Any) -> MainWindow:
        window = MainWindow(**kwargs)
        made.append(window)
        return window

    yield make
    for window in made:
        qloop.run(window.aclose())
        window.close()
        window.deleteLater()
    _flush_deletes()


def save_screenshot(widget: QWidget, folder: Path, name: str) -> Path:
    """Save `widget` as PNG under the test's folder and copy it to /work/screens/ for a human look."""
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    if SCREENS.is_dir():
        shutil.copy(path, SCREENS / path.name)
    return path


@pytest.fixture(scope="session", autouse=True)
def _collect_qt_garbage(qapp: QApplication) -> Iterator[None]:
    """Collect Python wrappers of Qt objects while the QApplication still exists, not during interpreter exit."""
    yield
    import gc

    _flush_deletes()
    gc.collect()


def _memory_keyring_class() -> type:
    from keyring.backend import KeyringBackend

    class _MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.secrets: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.secrets.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.secrets[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.secrets.pop((service, username), None)

    return _MemoryKeyring


@pytest.fixture
def memory_keyring() -> Iterator[Any]:
    """The OS keyring replaced by a dict for the test (secrets never reach the real one)."""
    import keyring

    previous = keyring.get_keyring()
    backend = _memory_keyring_class()()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """No usable keyring backend, as on a bare Linux box."""
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def opened_urls() -> Iterator[list[str]]:
    """URLs QDesktopServices.openUrl would hand to the browser (captured instead)."""
    from PySide6.QtCore import QObject, QUrl, Slot
    from PySide6.QtGui import QDesktopServices

    class Catcher(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.urls: list[str] = []

        @Slot(QUrl)
        def open(self, url: QUrl) -> None:
            self.urls.append(url.toString())

    catcher = Catcher()
    for scheme in ("http", "https"):
        QDesktopServices.setUrlHandler(scheme, catcher, "open")
    yield catcher.urls
    for scheme in ("http", "https"):
        QDesktopServices.unsetUrlHandler(scheme)
