"""Bulk edit (and revert) dialog: describe the change, preview it per device, confirm, apply, read the report.

Non-modal (`open()`, never `exec()`: no nested loop inside qasync). Preview and apply run as visible tasks, so the
status bar shows progress and Cancel; a cancelled or partly failed run shows exactly which devices were written,
and "Retry failed" sends the failed devices again. A revert uses the same preview / apply / report with fixed jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.fleet import DeviceQuery, DeviceRow, Fleet
from console.fleet.bulk import (
    BulkOp,
    BulkPlan,
    BulkReport,
    BulkRunner,
    DeviceOutcome,
    DiffStatus,
    preview,
    revert_jobs,
    same_ops,
)
from console.fleet.values import ValueType, ValueValidationError, parse_value
from console.journal import BatchKind, Journal
from ui.tasks import BackgroundTask, TaskManager

__all__ = ["BulkEditDialog"]

_OUTCOME_COLOURS = {
    DeviceOutcome.WRITTEN: "#1b7f3b",
    DeviceOutcome.UNCHANGED: "#6b6b6b",
    DeviceOutcome.FAILED: "#b3261e",
    DeviceOutcome.UNKNOWN: "#b58900",
    DeviceOutcome.NOT_SENT: "#b58900",
}

_PREVIEW_STATUS = {DiffStatus.UNCHANGED: "unchanged", DiffStatus.MISSING: "missing"}


class BulkEditDialog(QDialog):
    """Set, rename or delete keys in one scope on many devices (or revert a journal batch)."""

    report_ready = Signal(object)  # BulkReport, after every apply (also cancelled ones)
    plan_ready = Signal(object)  # BulkPlan

    def __init__(
        self,
        tasks: TaskManager,
        fleet: Fleet,
        journal: Journal | None,
        *,
        devices: Sequence[DeviceRow] = (),
        query: DeviceQuery | None = None,
        revert_batch: int | None = None,
        profile: str = "",
        concurrency: int = 16,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks, self.fleet, self.journal, self.profile = tasks, fleet, journal, profile
        self.devices = list(devices)
        self.query = query
        self.revert_batch = revert_batch
        self.concurrency = concurrency
        self.plan: BulkPlan | None = None
        self.report: BulkReport | None = None
        self.running: BackgroundTask | None = None
        self.setWindowTitle("Revert changes" if revert_batch is not None else "Bulk edit attributes")
        self.resize(860, 600)

        self.target_label = QLabel(self)
        self.scope_combo = QComboBox(self)
        for scope in fleet.attribute_scopes():
            if scope.writable:
                self.scope_combo.addItem(scope.title, scope.name)
        self.op_combo = QComboBox(self)
        for title, kind in (("Set value", "set"), ("Rename key", "rename"), ("Delete keys", "delete")):
            self.op_combo.addItem(title, kind)
        self.key_edit = QLineEdit(self)
        self.key_edit.setPlaceholderText("key (delete: several, separated by commas)")
        self.new_key_edit = QLineEdit(self)
        self.new_key_edit.setPlaceholderText("new key")
        self.type_combo = QComboBox(self)
        for value_type in ValueType:
            self.type_combo.addItem(value_type.title, value_type)
        self.value_edit = QPlainTextEdit(self)
        self.value_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.value_edit.setMaximumHeight(70)
        self.form = QWidget(self)
        form = QFormLayout(self.form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Scope", self.scope_combo)
        form.addRow("Change", self.op_combo)
        form.addRow("Key", self.key_edit)
        form.addRow("New key", self.new_key_edit)
        form.addRow("Type", self.type_combo)
        form.addRow("Value", self.value_edit)
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.setWordWrap(True)

        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Device", "Change", "Status"])  # not "1 2 3" before the preview
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.summary_label = QLabel(self)
        self.summary_label.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)

        self.preview_button = QPushButton("Preview", self)
        self.apply_button = QPushButton("Apply", self)
        self.retry_button = QPushButton("Retry failed", self)
        self.cancel_button = QPushButton("Cancel run", self)
        self.close_button = QPushButton("Close", self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (
            self.preview_button,
            self.apply_button,
            self.retry_button,
            self.cancel_button,
            self.close_button,
        ):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.target_label)
        layout.addWidget(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)

        self.op_combo.currentIndexChanged.connect(self._on_op_changed)
        self.preview_button.clicked.connect(self.start_preview)
        self.apply_button.clicked.connect(self.start_apply)
        self.retry_button.clicked.connect(self.retry_failed)
        self.cancel_button.clicked.connect(self.cancel_run)
        self.close_button.clicked.connect(self.close)
        if revert_batch is not None:
            self.form.setVisible(False)
            self.target_label.setText(f"Revert batch {revert_batch}: the old values are written back.")
        elif query is not None:
            self.target_label.setText(f"All devices matching the current filter{_describe(query)}.")
        else:
            self.target_label.setText(
                f"{len(self.devices)} selected device(s): "
                + ", ".join(d.name for d in self.devices[:8])
                + ("…" if len(self.devices) > 8 else "")
            )
        self._on_op_changed()
        self._update_buttons()

    # --- the change described by the form ---------------------------------------------------------------

    @property
    def scope(self) -> str:
        return str(self.scope_combo.currentData() or "")

    def ops(self) -> list[BulkOp]:
        """The operations the form describes; raises ValueValidationError before anything is fetched or sent."""
        kind = self.op_combo.currentData()
        if kind == "set":
            value = parse_value(self.value_edit.toPlainText(), self.type_combo.currentData())
            return [BulkOp.set(self.key_edit.text(), value)]
        if kind == "rename":
            return [BulkOp.rename(self.key_edit.text(), self.new_key_edit.text())]
        keys = [k.strip() for k in self.key_edit.text().split(",") if k.strip()]
        if not keys:
            raise ValueValidationError("Name at least one key to delete.")
        return [BulkOp.delete(k) for k in keys]

    def _on_op_changed(self, *_: Any) -> None:
        kind = self.op_combo.currentData()
        form: QFormLayout = self.form.layout()  # type: ignore[assignment]
        form.setRowVisible(self.new_key_edit, kind == "rename")
        form.setRowVisible(self.type_combo, kind == "set")
        form.setRowVisible(self.value_edit, kind == "set")

    # --- preview ------------------------------------------------------------------------------------------

    def start_preview(self) -> BackgroundTask | None:
        self.error_label.clear()
        if self.revert_batch is None:
            try:
                ops = self.ops()
            except ValueValidationError as exc:
                self.error_label.setText(exc.message)
                return None
        else:
            ops = []
        self.plan = None
        self.report = None
        self._update_buttons()

        async def run(handle: BackgroundTask) -> BulkPlan:
            scope, kind, title, reverts = self.scope, BatchKind.BULK, "", None
            if self.revert_batch is not None:
                assert self.journal is not None
                per_scope = revert_jobs(await self.journal.entries(self.revert_batch))
                scope, jobs = next(iter(per_scope.items())) if per_scope else (self.scope, [])
                batch = await self.journal.batch(self.revert_batch)
                kind, reverts = BatchKind.REVERT, self.revert_batch
                title = f"Revert: {batch.title if batch else self.revert_batch}"
            else:
                jobs = same_ops([(d.id, d.name) for d in await self._targets(handle)], ops)
                title = f"{self.op_combo.currentText()} {self.key_edit.text()} on {len(jobs)} devices"
            handle.set_title(f"Preview: {title}")
            return await preview(
                self.fleet,
                scope,
                jobs,
                title=title,
                kind=kind,
                reverts=reverts,
                concurrency=self.concurrency,
                on_progress=lambda done, total: self._progress(handle, done, total),
            )

        self.running = self.tasks.start(
            run, "Bulk edit preview", visible=True, on_error=self._on_error, on_result=self._show_plan
        )
        self._update_buttons()
        return self.running

    async def _targets(self, handle: BackgroundTask) -> list[DeviceRow]:
        if self.query is None:
            return self.devices
        found: list[DeviceRow] = []
        async for page in self.fleet.iter_device_pages(self.query):
            found.extend(page)
            handle.set_title(f"Finding devices: {len(found)}")
        self.devices = found
        return found

    def _show_plan(self, plan: BulkPlan) -> None:
        self.plan, self.running = plan, None
        self.table.clear()
        self.table.setColumnCount(3)
        self.table.setHorizontalHeaderLabels(["Device", "Change", "Status"])
        rows = [(d, k) for d in plan.devices for k in (d.diffs or (None,))]
        self.table.setRowCount(len(rows))
        for r, (device, diff) in enumerate(rows):
            if device.error:
                change, status, colour = device.summary(), "not readable", "#b3261e"
            elif diff is None:
                change, status, colour = "nothing to do", "unchanged", "#6b6b6b"
            else:
                change = diff.describe()
                status = _PREVIEW_STATUS.get(diff.status, "will write")
                colour = "#6b6b6b" if not diff.is_write else ("#b58900" if diff.note.startswith("changed") else "")
            self._set_row(r, [device.name or device.device_id, change, status], colour)
        writes = len(plan.to_write)
        self.summary_label.setText(
            f"Preview: {writes} of {len(plan.devices)} devices will be written; "
            f"{len(plan.devices) - writes - len(plan.unreadable)} unchanged"
            + (f"; {len(plan.unreadable)} could not be read" if plan.unreadable else "")
            + ". Nothing has been written yet."
        )
        self.progress.setVisible(False)
        self._update_buttons()
        self.plan_ready.emit(plan)

    # --- apply --------------------------------------------------------------------------------------------

    def start_apply(self) -> BackgroundTask | None:
        if self.plan is None or not self.plan.to_write:
            return None
        return self._run_plan(self.plan)

    def retry_failed(self) -> BackgroundTask | None:
        if self.report is None or not self.report.failed_plan().devices:
            return None
        return self._run_plan(self.report.failed_plan())

    def _run_plan(self, plan: BulkPlan) -> BackgroundTask:
        runner = BulkRunner(
            self.fleet, self.journal, profile=self.profile, server=self.fleet.title, concurrency=self.concurrency
        )

        def progress(handle: BackgroundTask, done: int, total: int) -> None:
            self._progress(handle, done, total)
            self.summary_label.setText(f"Writing: {done:,} of {total:,} devices done…")  # not the preview's text

        async def run(handle: BackgroundTask) -> BulkReport:
            runner.on_progress = lambda done, total: progress(handle, done, total)
            self.summary_label.setText(f"Writing {len(plan.to_write):,} devices…")
            try:
                return await runner.apply(plan)
            finally:
                if runner.report is not None:  # also after a cancel: say exactly what was written
                    self._show_report(runner.report)
                    retried = runner.requests - _first_tries(plan, runner.report)
                    if retried > 0:  # a 429 or a 5xx costs time the user should be able to explain
                        self.summary_label.setText(
                            f"{self.summary_label.text()} {retried:,} requests were retried "
                            "(the server was busy or asked us to slow down)."
                        )

        self.running = self.tasks.start(run, f"Applying: {plan.title}", visible=True, on_error=self._on_error)
        self._update_buttons()
        return self.running

    def cancel_run(self) -> None:
        if self.running is not None:
            self.running.cancel()

    def _show_report(self, report: BulkReport) -> None:
        self.report, self.running = report, None
        self.table.clear()
        self.table.setColumnCount(3)
        self.table.setHorizontalHeaderLabels(["Device", "Result", "Server's message"])
        results = sorted(report.results.values(), key=lambda r: (r.outcome is not DeviceOutcome.FAILED, r.name))
        self.table.setRowCount(len(results))
        for r, result in enumerate(results):
            self._set_row(
                r,
                [result.name or result.device_id, str(result.outcome), result.message],
                _OUTCOME_COLOURS[result.outcome],
            )
        self.summary_label.setText(report.summary())
        self.progress.setVisible(False)
        self._update_buttons()
        self.report_ready.emit(report)

    # --- helpers ------------------------------------------------------------------------------------------

    def _progress(self, handle: BackgroundTask, done: int, total: int) -> None:
        handle.set_progress(done, total)
        self.progress.setVisible(True)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _on_error(self, message: str) -> None:
        self.running = None
        self.error_label.setText(message)
        self.progress.setVisible(False)
        self._update_buttons()

    def _set_row(self, row: int, texts: list[str], colour: str) -> None:
        for column, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            if colour and column > 0:
                item.setForeground(QColor(colour))
            self.table.setItem(row, column, item)

    def _update_buttons(self) -> None:
        busy = self.running is not None and self.running.running
        self.preview_button.setEnabled(not busy)
        self.apply_button.setEnabled(
            not busy and self.plan is not None and bool(self.plan.to_write) and self.report is None
        )
        self.retry_button.setEnabled(not busy and self.report is not None and bool(self.report.failed_plan().devices))
        self.cancel_button.setEnabled(busy)
        self.form.setEnabled(not busy)


def _first_tries(plan: BulkPlan, report: BulkReport) -> int:
    """Requests a run needs with no retry: one save and/or one delete per written device, one for a failed one."""
    count = 0
    for device in plan.to_write:
        result = report.results.get(device.device_id)
        if result is None:
            continue
        if result.outcome is DeviceOutcome.WRITTEN:
            count += bool(device.saves) + bool(device.deletes)
        elif result.outcome is DeviceOutcome.FAILED:
            count += 1
    return count


def _describe(query: DeviceQuery) -> str:
    parts = []
    if query.text:
        parts.append(f"name contains “{query.text}”")
    if query.profile:
        parts.append(f"profile {query.profile}")
    if query.active is not None:
        parts.append("active" if query.active else "inactive")
    return f" ({', '.join(parts)})" if parts else " (no filter: every device)"
