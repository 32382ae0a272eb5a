"""Python's cyclic garbage collection, moved to the GUI thread.

The collector runs in whichever thread happens to allocate when a threshold is crossed: a worker of
`asyncio.to_thread` (keyring, file writes) or, in tests, the emulator's thread. If a Qt wrapper in a reference cycle
is freed there, its QObject is destroyed in the wrong thread; its timers stay registered with the GUI thread's
dispatcher and the next timer event crashes Qt (seen as a SIGSEGV in QTimerInfoList::activateTimers). pyqtgraph's
`GarbageCollector` uses the same remedy: automatic collection off, generations collected from a GUI-thread timer.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

__all__ = ["MainThreadGC"]


class MainThreadGC(QObject):
    """While started, cyclic GC runs only here, on a timer, generation by generation as the thresholds ask."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self, *, collect: bool = True) -> None:
        self._timer.stop()
        if collect:
            gc.collect()
        if self._was_enabled:
            gc.enable()

    @staticmethod
    def freeze() -> None:
        """Collect once, then exclude every surviving object from later collections (start-up objects: modules,
        classes, widgets that live as long as the app). Full collections then scan only what came after, which
        keeps them short; frozen objects are still freed by reference counting."""
        gc.collect()
        gc.freeze()

    def check(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):  # the oldest due generation includes the younger ones
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
