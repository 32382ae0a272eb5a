"""Export what the chart shows: the visible data as CSV, the chart as PNG.

CSV is in long form (one row per point: time, device, key, value) because overlaid series rarely share timestamps.
File dialogs are opened with `open()` (never `exec()`: a nested loop breaks qasync, see STYLE.md).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from console.fleet.series import Series

__all__ = ["CSV_HEADER", "ask_save_path", "csv_rows", "write_csv"]

CSV_HEADER = ("time_utc", "ts_ms", "device_id", "device", "key", "value")


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def csv_rows(series: Iterable[Series], start_ms: float, end_ms: float) -> list[tuple[str, int, str, str, str, float]]:
    """The points of `series` inside [start_ms, end_ms], ordered by time then series."""
    rows: list[tuple[str, int, str, str, str, float]] = []
    for s in series:
        ts, values = s.buffer.window(start_ms, end_ms)
        name = s.device_name or s.device_id
        rows.extend((_iso(int(t)), int(t), s.device_id, name, s.key, float(v)) for t, v in zip(ts, values, strict=True))
    rows.sort(key=lambda r: (r[1], r[3], r[4]))
    return rows


def write_csv(path: Path, rows: Iterable[tuple[object, ...]]) -> int:
    """Write the header and rows; returns the number of data rows."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def ask_save_path(parent: QWidget, title: str, name_filter: str, suggested: str, done: Callable[[Path], None]) -> None:
    """A non-blocking Save dialog; `done(path)` runs if the user picks a file."""
    dialog = QFileDialog(parent, title, suggested, name_filter)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.fileSelected.connect(lambda name: done(Path(name)) if name else None)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
