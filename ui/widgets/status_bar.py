"""The status bar: connection and its state, device counts, and background work with progress and Cancel."""

from __future__ import annotations

import html

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from console.fleet import ConnectionState, DeviceCounts
from ui.tasks import BackgroundTask, TaskManager

__all__ = ["StatusBar", "TaskIndicator"]

_DETAIL_CHARS = 70  # of a connection state's reason shown in the bar
_TITLE_CHARS = 50  # of a background task's title shown in the bar

_STATE_COLOURS = {
    ConnectionState.CONNECTED: "#1b7f3b",
    ConnectionState.CONNECTING: "#b58900",
    ConnectionState.RECONNECTING: "#b58900",
    ConnectionState.FAILED: "#c0392b",
    ConnectionState.DISCONNECTED: "#8a8a8a",
}


class TaskIndicator(QWidget):
    """Shows the newest visible task: its title, a progress bar (busy when the total is unknown) and Cancel."""

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._shown: list[BackgroundTask] = []
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setFixedWidth(160)
        self.progress.setTextVisible(True)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel this background task")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        layout.addWidget(self.label)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(100)
        self._throttle.timeout.connect(self._refresh)
        tasks.task_added.connect(self._on_task_added)
        tasks.task_changed.connect(self._on_task_changed)
        tasks.task_finished.connect(self._on_task_finished)
        self.setVisible(False)

    @property
    def current(self) -> BackgroundTask | None:
        return self._shown[-1] if self._shown else None

    def _on_task_added(self, handle: BackgroundTask) -> None:
        if handle.visible:
            self._shown.append(handle)
            self._refresh()

    def _on_task_changed(self, handle: BackgroundTask) -> None:
        # progress can change per page; QProgressBar repaints synchronously, so redraw at most ~10 times a second
        if handle is self.current and not self._throttle.isActive():
            self._throttle.start()

    def _on_task_finished(self, handle: BackgroundTask) -> None:
        if handle in self._shown:
            self._shown.remove(handle)
            self._refresh()

    def _on_cancel_clicked(self) -> None:
        if self.current is not None:
            self.current.cancel()

    def _refresh(self) -> None:
        handle = self.current
        self.setVisible(handle is not None)
        if handle is None:
            self._throttle.stop()
            return
        more = f" (+{len(self._shown) - 1} more)" if len(self._shown) > 1 else ""
        title = handle.title  # e.g. a long export file name: shortened so the window doesn't widen, whole on hover
        short = title if len(title) <= _TITLE_CHARS else title[: _TITLE_CHARS - 1].rstrip() + "…"
        self.label.setText(f"{short}{more}")
        self.label.setToolTip(title)
        if handle.total:
            self.progress.setRange(0, handle.total)
            self.progress.setValue(min(handle.done_count, handle.total))
            self.progress.setFormat(f"{handle.done_count:,} / {handle.total:,}")
        else:
            self.progress.setRange(0, 0)  # busy indicator
            self.progress.setFormat(f"{handle.done_count:,}" if handle.done_count else "")


class StatusBar(QStatusBar):
    """Permanent widgets on the right: tasks, device counts, connection. Messages appear on the left."""

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = TaskIndicator(tasks, self)
        self.counts_label = QLabel(self)
        self.counts_label.setToolTip("Devices on the server: total / active / inactive")
        self.connection_label = QLabel(self)
        self.addPermanentWidget(self.tasks)
        self.addPermanentWidget(self.counts_label)
        self.addPermanentWidget(self.connection_label)
        self.set_connection("", ConnectionState.DISCONNECTED, "")
        self.set_counts(None)

    def set_connection(self, title: str, state: ConnectionState, detail: str = "") -> None:
        colour = _STATE_COLOURS.get(state, "#8a8a8a")
        name = title or "Not connected"
        text = state.value.capitalize()
        if detail and state is not ConnectionState.CONNECTED:
            # a long reason (socket errors run to 150+ characters) must not widen the window: shortened here,
            # whole in the tooltip
            short = detail if len(detail) <= _DETAIL_CHARS else detail[: _DETAIL_CHARS - 1].rstrip() + "…"
            text = f"{text}: {html.escape(short)}"
        if not title and state is ConnectionState.DISCONNECTED:
            text = ""  # "Not connected — Disconnected" said it twice
        shown = f"{html.escape(name)} — {text}" if text else html.escape(name)
        self.connection_label.setText(f'<span style="color:{colour}">●</span> {shown}')
        self.connection_label.setToolTip(detail or text)

    def set_counts(self, counts: DeviceCounts | None) -> None:
        if counts is None:
            self.counts_label.setText("")
            self.counts_label.setVisible(False)
            return
        self.counts_label.setVisible(True)
        self.counts_label.setText(f"Devices {counts.total:,} · active {counts.active:,} · inactive {counts.inactive:,}")

    def show_error(self, message: str) -> None:
        self.showMessage(message, 15000)
