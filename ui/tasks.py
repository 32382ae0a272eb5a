"""The one way to start UI work: a task registry the status bar draws, with progress, cancel and readable errors.

Like napari's TaskStatusManager, but for asyncio tasks on the qasync loop: asyncio holds tasks weakly, so the
manager keeps the strong reference; an `ApiError` becomes its `.message` on `error_raised`; `shutdown()` cancels
and awaits everything when the window closes.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Signal

from console.fleet import AbortedError, ApiError

__all__ = ["BackgroundTask", "TaskManager", "TaskState", "error_message"]

log = logging.getLogger(__name__)

Work = Coroutine[Any, Any, Any] | Callable[["BackgroundTask"], Awaitable[Any]]


class TaskState(enum.Enum):
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


def error_message(exc: BaseException) -> str:
    """What the window shows for a failure: the server's sentence, never a traceback."""
    if isinstance(exc, ApiError):
        return exc.message
    return f"Unexpected error ({type(exc).__name__}). Details are in the log."


class BackgroundTask:
    """A handle on one piece of UI work; the coroutine may report progress through it."""

    def __init__(self, manager: TaskManager, title: str, visible: bool) -> None:
        self._manager = manager
        self.title = title
        self.visible = visible
        self.state = TaskState.RUNNING
        self.done_count = 0
        self.total: int | None = None  # None: progress unknown (busy indicator)
        self.error: str = ""
        self.task: asyncio.Task[Any] | None = None

    def set_progress(self, done: int, total: int | None = None) -> None:
        self.done_count = done
        if total is not None:
            self.total = total
        self._manager.task_changed.emit(self)

    def set_title(self, title: str) -> None:
        self.title = title
        self._manager.task_changed.emit(self)

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    @property
    def running(self) -> bool:
        return self.state is TaskState.RUNNING

    def __repr__(self) -> str:
        return f"BackgroundTask({self.title!r}, {self.state.value})"


class TaskManager(QObject):
    """Starts, tracks and cancels UI coroutines. Signals carry the `BackgroundTask`."""

    task_added = Signal(object)
    task_changed = Signal(object)
    task_finished = Signal(object)
    error_raised = Signal(str)  # a readable message for the banner / status bar

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[asyncio.Task[Any], BackgroundTask] = {}
        self._closed = False

    def start(
        self,
        work: Work,
        title: str,
        *,
        visible: bool = False,
        on_error: Callable[[str], None] | None = None,
        on_result: Callable[[Any], None] | None = None,
    ) -> BackgroundTask:
        """Run `work` (a coroutine, or a function taking the handle and returning one) as a tracked task.

        Failures go to `on_error` when given, else to `error_raised`; cancellation and aborted requests are silent.
        `visible` tasks appear in the status bar with progress and Cancel.
        """
        handle = BackgroundTask(self, title, visible)
        if self._closed:
            if inspect.iscoroutine(work):
                work.close()
            handle.state = TaskState.CANCELLED
            return handle
        coro = work(handle) if callable(work) and not inspect.iscoroutine(work) else work
        task = asyncio.ensure_future(self._run(handle, coro, on_error, on_result))  # type: ignore[arg-type]
        handle.task = task
        self._tasks[task] = handle
        task.add_done_callback(lambda t, c=coro: self._on_done(t, c))
        self.task_added.emit(handle)
        return handle

    def _on_done(self, task: asyncio.Task[Any], coro: Awaitable[Any]) -> None:
        handle = self._tasks.pop(task, None)
        if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == inspect.CORO_CREATED:
            coro.close()  # cancelled before it started: no "never awaited" warning
            if handle is not None and handle.state is TaskState.RUNNING:
                handle.state = TaskState.CANCELLED
                self.task_finished.emit(handle)

    async def _run(
        self,
        handle: BackgroundTask,
        coro: Awaitable[Any],
        on_error: Callable[[str], None] | None,
        on_result: Callable[[Any], None] | None,
    ) -> Any:
        result: Any = None
        try:
            result = await coro
        except asyncio.CancelledError:
            handle.state = TaskState.CANCELLED
            self.task_finished.emit(handle)
            raise
        except AbortedError:
            handle.state = TaskState.CANCELLED
        except Exception as exc:
            if not isinstance(exc, ApiError):
                log.exception("%s failed", handle.title)
            else:
                log.info("%s failed: %s", handle.title, exc.message)
            handle.state = TaskState.FAILED
            handle.error = error_message(exc)
            if on_error is not None:
                on_error(handle.error)
            else:
                self.error_raised.emit(f"{handle.title}: {handle.error}")
        else:
            handle.state = TaskState.DONE
            if on_result is not None:
                try:
                    on_result(result)
                except Exception as exc:  # a bug in a UI callback must not vanish
                    log.exception("result handler of %s failed", handle.title)
                    handle.state = TaskState.FAILED
                    handle.error = error_message(exc)
                    self.error_raised.emit(f"{handle.title}: {handle.error}")
        self.task_finished.emit(handle)
        return result

    def tasks(self, *, visible_only: bool = False) -> list[BackgroundTask]:
        return [t for t in self._tasks.values() if t.visible or not visible_only]

    def cancel_all(self) -> None:
        for handle in list(self._tasks.values()):
            handle.cancel()

    async def shutdown(self) -> None:
        """Cancel every task and wait until each has finished; later `start` calls do nothing."""
        self._closed = True
        while self._tasks:
            pending = list(self._tasks)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait until no task is running (tests and --screenshot use it)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
