"""The leak check itself: it must notice each kind of leftover, or the GUI suite's promise means nothing."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from tests.gui.conftest import find_leaks


def test_leak_check_finds_tasks_windows_and_timers(qloop, qapp):
    before = {id(w) for w in qapp.topLevelWidgets()}
    assert find_leaks(qapp, qloop.loop, before) == []
    window = QWidget()
    window.show()
    timer = QTimer(window)
    timer.start(10_000)
    task = asyncio.ensure_future(asyncio.sleep(60))
    problems = " ".join(find_leaks(qapp, qloop.loop, before))
    assert "task" in problems and "window" in problems and "timer" in problems
    task.cancel()
    qloop.run(asyncio.gather(task, return_exceptions=True))
    timer.stop()
    window.close()
    window.deleteLater()
    assert find_leaks(qapp, qloop.loop, before) == []
