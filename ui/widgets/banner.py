"""An inline banner above the table: the server's message, an optional Retry, and a close button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

__all__ = ["Banner"]

_STYLE = (
    "QFrame#banner {{ background: {bg}; border: 1px solid {border}; border-radius: 4px; }} QLabel {{ color: {fg}; }}"
)
_STYLES = {
    "error": _STYLE.format(bg="#fdecea", border="#f5c2c0", fg="#7a1c16"),
    "warning": _STYLE.format(bg="#fff8e1", border="#f0d98c", fg="#6b5200"),
    "info": _STYLE.format(bg="#e8f1fb", border="#b9d3f0", fg="#1c3d63"),
}


class Banner(QFrame):
    """Hidden until `show_message`; one message at a time, the newest wins."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry", self)
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.dismiss)
        self.retry_button.clicked.connect(self._on_retry_clicked)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.close_button)
        self._retry: Callable[[], None] | None = None
        self.kind = ""
        self.setVisible(False)

    @property
    def message(self) -> str:
        return self.label.text()

    def show_message(self, message: str, kind: str = "error", retry: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self.setStyleSheet(_STYLES.get(kind, _STYLES["error"]))
        self.label.setText(message)
        self._retry = retry
        self.retry_button.setVisible(retry is not None)
        self.setVisible(True)

    def dismiss(self) -> None:
        self._retry = None
        self.label.setText("")
        self.setVisible(False)

    def _on_retry_clicked(self) -> None:
        retry = self._retry
        self.dismiss()
        if retry is not None:
            retry()
