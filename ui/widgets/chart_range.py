"""Time range picker: preset buttons (5 min, 1 h, 24 h, 7 days) and a custom from/to range."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, QTimeZone, Signal
from PySide6.QtWidgets import QButtonGroup, QDateTimeEdit, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from console.fleet.series_plan import PRESETS, TimeRange

__all__ = ["RangePicker"]


class RangePicker(QWidget):
    """Emits `range_changed(TimeRange)` when the user picks a preset or applies a custom range."""

    range_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, initial: TimeRange = PRESETS[0]) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._buttons: dict[str, QToolButton] = {}
        for preset in PRESETS:
            button = QToolButton(self)
            button.setText(preset.label)
            button.setCheckable(True)
            button.setToolTip(f"The last {preset.label}, following live data")
            button.clicked.connect(lambda _=False, p=preset: self._pick(p))
            self._group.addButton(button)
            self._buttons[preset.label] = button
            layout.addWidget(button)
        self._custom_button = QToolButton(self)
        self._custom_button.setText("Custom…")
        self._custom_button.setCheckable(True)
        self._group.addButton(self._custom_button)
        self._custom_button.clicked.connect(self._on_custom_clicked)
        layout.addWidget(self._custom_button)

        self._custom = QWidget(self)
        custom_layout = QHBoxLayout(self._custom)
        custom_layout.setContentsMargins(6, 0, 0, 0)
        now = QDateTime.currentDateTime()
        self.start_edit = QDateTimeEdit(now.addSecs(-3600), self._custom)
        self.end_edit = QDateTimeEdit(now, self._custom)
        for edit in (self.start_edit, self.end_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        apply = QPushButton("Apply", self._custom)
        apply.clicked.connect(self._on_apply_custom)
        self._custom_error = QLabel(self._custom)
        self._custom_error.setStyleSheet("color: #c0392b;")
        custom_layout.addWidget(QLabel("From", self._custom))
        custom_layout.addWidget(self.start_edit)
        custom_layout.addWidget(QLabel("to", self._custom))
        custom_layout.addWidget(self.end_edit)
        custom_layout.addWidget(apply)
        custom_layout.addWidget(self._custom_error)
        self._custom.setVisible(False)
        layout.addWidget(self._custom)
        self._current = initial
        self._check(initial)

    @property
    def current(self) -> TimeRange:
        return self._current

    def set_range(self, time_range: TimeRange) -> None:
        """Select a range without emitting (the chart calls this when it is told the range directly)."""
        self._current = time_range
        self._check(time_range)

    def _check(self, time_range: TimeRange) -> None:
        button = self._buttons.get(time_range.label) if time_range.live else self._custom_button
        if button is not None:
            button.setChecked(True)
        self._custom.setVisible(not time_range.live)

    def _pick(self, time_range: TimeRange) -> None:
        self._custom.setVisible(False)
        self._current = time_range
        self.range_changed.emit(time_range)

    def _on_custom_clicked(self) -> None:
        self._custom.setVisible(True)

    def _on_apply_custom(self) -> None:
        start = self.start_edit.dateTime().toMSecsSinceEpoch()
        end = self.end_edit.dateTime().toMSecsSinceEpoch()
        try:
            time_range = TimeRange.custom(start, end)
        except ValueError as exc:
            self._custom_error.setText(str(exc).capitalize() + ".")
            return
        self._custom_error.clear()
        self._current = time_range
        self.range_changed.emit(time_range)

    def set_custom_bounds(self, start_ms: int, end_ms: int) -> None:
        """Fill the custom editors (used after a zoom, and by tests)."""
        utc = QTimeZone.utc()
        self.start_edit.setDateTime(QDateTime.fromMSecsSinceEpoch(start_ms, utc).toLocalTime())
        self.end_edit.setDateTime(QDateTime.fromMSecsSinceEpoch(end_ms, utc).toLocalTime())
