"""The pieces the attribute editor is built from: the cell delegate and the add / edit panel with live validation."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from console.fleet.values import (
    ValueType,
    ValueValidationError,
    format_value,
    looks_numeric,
    parse_value,
    validate_key,
)
from ui.models.attributes import TYPE, VALUE, AttributeRow, AttributeTableModel, RowRole

__all__ = ["AttributeDelegate", "ValueEditPanel"]


class AttributeDelegate(QStyledItemDelegate):
    """Type column: a combo of the five types. Value column: a line edit. Tells the model which cell is open."""

    def __init__(self, model_of: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model_of = model_of  # () -> the current AttributeTableModel (the view shows it through a proxy)

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QWidget:
        row: AttributeRow = index.data(RowRole)
        model: AttributeTableModel = self._model_of()
        model.begin_edit(row.key)
        if index.column() == TYPE:
            combo = QComboBox(parent)
            for value_type in ValueType:
                combo.addItem(value_type.title, value_type.value)
            return combo
        editor = QLineEdit(parent)
        editor.setObjectName(f"cell-editor-{row.key}")
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(index.data(Qt.ItemDataRole.EditRole))))
        elif isinstance(editor, QLineEdit):
            editor.setText(str(index.data(Qt.ItemDataRole.EditRole) or ""))

    def setModelData(
        self, editor: QWidget, model: QAbstractItemModel, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)
        elif isinstance(editor, QLineEdit) and index.column() == VALUE:
            if editor.isModified() or editor.text() != str(index.data(Qt.ItemDataRole.EditRole) or ""):
                model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)

    def destroyEditor(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        row = index.data(RowRole)
        super().destroyEditor(editor, index)
        if row is not None:
            self._model_of().end_edit(row.key)


class ValueEditPanel(QWidget):
    """Key, type and a multi-line value with validation as you type: invalid JSON shows its line and column."""

    submitted = Signal(str, object, str, bool)  # key, ValueType, text, is_new

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key_edit = QLineEdit(self)
        self.key_edit.setPlaceholderText("key")
        self.type_combo = QComboBox(self)
        for value_type in ValueType:
            self.type_combo.addItem(value_type.title, value_type)
        self.value_edit = QPlainTextEdit(self)
        self.value_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.value_edit.setPlaceholderText("value")
        self.value_edit.setMaximumHeight(110)
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.setWordWrap(True)
        self.save_button = QPushButton("Add", self)
        self.cancel_button = QPushButton("New key", self)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(QLabel("Key", self), 0, 0)
        layout.addWidget(self.key_edit, 0, 1)
        layout.addWidget(self.type_combo, 0, 2)
        layout.addWidget(self.save_button, 0, 3)
        layout.addWidget(self.cancel_button, 0, 4)
        layout.addWidget(self.value_edit, 1, 0, 1, 5)
        layout.addWidget(self.error_label, 2, 0, 1, 5)
        self._taken: set[str] = set()
        self._is_new = True
        self._loaded: tuple[str, str] = ("", "")  # (key, text) as last loaded from a row
        self.numeric_text_note = False  # the editor sets it for ThingsBoard
        self.key_edit.textChanged.connect(self._validate)
        self.value_edit.textChanged.connect(self._validate)
        self.type_combo.currentIndexChanged.connect(self._validate)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.cancel_button.clicked.connect(lambda: self.start_new(self._taken))
        self.start_new(set())

    @property
    def value_type(self) -> ValueType:
        return self.type_combo.currentData()

    def start_new(self, taken: set[str]) -> None:
        """Empty the panel for a new key; `taken` are the keys of the scope."""
        self._taken, self._is_new = set(taken), True
        self.key_edit.setReadOnly(False)
        self.type_combo.setCurrentIndex(self.type_combo.findData(ValueType.STRING))
        self.key_edit.clear()
        self.value_edit.clear()
        self.save_button.setText("Add")
        self.error_label.clear()

    def edit_row(self, row: AttributeRow) -> None:
        """Load an existing key (its draft when the last attempt did not validate, so nothing typed is lost)."""
        self._is_new = False
        self.key_edit.setText(row.key)
        self.key_edit.setReadOnly(True)
        self.type_combo.setCurrentIndex(self.type_combo.findData(row.value_type))
        if row.draft is not None:
            text = row.draft
        else:
            text = format_value(row.value, row.value_type) if row.value is not None else ""
        self.value_edit.setPlainText(text)
        self._loaded = (row.key, text)
        self.save_button.setText("Save")
        self._validate()

    def refresh_row(self, row: AttributeRow) -> None:
        """Show the row's current value unless the user has typed something for it (nothing typed is lost)."""
        if self._is_new or self.key_edit.text() != row.key:
            return
        if (row.key, self.value_edit.toPlainText()) == self._loaded:
            self.edit_row(row)

    def validation_error(self) -> str:
        try:
            if self._is_new:
                validate_key(self.key_edit.text(), self._taken)
            parse_value(self.value_edit.toPlainText(), self.value_type)
        except ValueValidationError as exc:
            return exc.message
        return ""

    def _validate(self) -> None:
        message = self.validation_error() if (self.key_edit.text() or self.value_edit.toPlainText()) else ""
        self.error_label.setText(message)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.save_button.setEnabled(not message and bool(self.key_edit.text()))
        if not message and self.numeric_text_note and self.value_type is ValueType.STRING:
            text = self.value_edit.toPlainText()
            if text.strip() and looks_numeric(text):  # reference §5.4: numeric text is stored as LONG/DOUBLE
                self.error_label.setStyleSheet("color: #8a6d00;")
                self.error_label.setText("Note: ThingsBoard stores text that reads as a number as a number.")

    def _on_save_clicked(self) -> None:
        if self.validation_error():
            self._validate()
            return
        self.submitted.emit(self.key_edit.text(), self.value_type, self.value_edit.toPlainText(), self._is_new)
