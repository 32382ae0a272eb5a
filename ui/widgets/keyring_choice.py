"""The choice offered when no OS keyring exists: don't save the secret (default), or an explicit insecure file."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QGroupBox, QLabel, QRadioButton, QVBoxLayout, QWidget

__all__ = ["KeyringChoice"]


class KeyringChoice(QGroupBox):
    """Hidden until `show_reason`; `insecure.isChecked()` is the user's explicit opt-in to a plain-text file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("No OS keyring is available", parent)
        self.reason = QLabel(self)
        self.reason.setWordWrap(True)
        self.no_save = QRadioButton("Don't save the secret: ask for it each time", self)
        self.insecure = QRadioButton("Save it in a plain-text file readable by my user account (insecure)", self)
        self.no_save.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.no_save)
        group.addButton(self.insecure)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason)
        layout.addWidget(self.no_save)
        layout.addWidget(self.insecure)
        self.setVisible(False)

    def show_reason(self, reason: str) -> None:
        self.reason.setText(reason)
        self.setVisible(True)
