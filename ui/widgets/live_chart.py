"""LiveChart: telemetry history joined to the live tail, for any number of (device, key) series.

This module imports pyqtgraph and numpy (~0.5 s, ~70 MB), so nothing imports it at start-up: `chart_tab` and
`chart_workspace` import it when the first chart opens.

How data flows (see console/fleet/series.py for the bookkeeping):
- the live subscription is opened *before* history is fetched, so no point falls between them; overlap collapses
  by timestamp in each `Series`;
- socket callbacks only append to the series' numpy buffers; a ≤30 Hz QTimer redraws the series whose buffer
  version moved (or all of them when the view moved), clipped to the view and peak-downsampled, with
  `PlotCurveItem.setData(..., skipFiniteCheck=True)` because values are cleaned before they reach a buffer;
- when the fleet reports the socket down, the chart shows it (banner and shaded band, line broken there); when it
  comes back, each series is backfilled by REST from its last point.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.fleet import ApiError, ConnectionState, Fleet, Point, Subscription
from console.fleet.series import DEFAULT_CAPACITY, Series, clip_to_range, peak_downsample
from console.fleet.series_plan import PRESETS, GapTracker, HistoryPlan, TimeRange, backfill_window, plan_history
from ui.widgets.chart_axes import AxisManager, time_axis
from ui.widgets.chart_curves import CurveGroups, SeriesArrays
from ui.widgets.chart_export import ask_save_path, csv_rows, write_csv
from ui.widgets.chart_legend import ChartLegend, colour_for
from ui.widgets.chart_range import RangePicker

__all__ = ["LiveChart"]

log = logging.getLogger(__name__)

Ident = tuple[str, str]
_OFFLINE = frozenset({ConnectionState.DISCONNECTED, ConnectionState.RECONNECTING, ConnectionState.FAILED})
_FETCH_CONCURRENCY = 4
NARROW_WIDTH = 760  # below this the legend sits under the plot
FRAME_POINTS = 12_000  # points drawn per frame across all visible series (peak-downsampled beyond it)
_READOUT_HINT = '<span style="color:#888">Point at the chart to read time and values.</span>'

pg.setConfigOptions(background="w", foreground="#333", antialias=False)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _format_time(ts_ms: float) -> str:
    seconds = ts_ms / 1000
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) + f".{int(ts_ms % 1000):03d}"


class LiveChart(QWidget):
    """A chart of numeric telemetry series with range presets, pause, crosshair, legend and export."""

    history_loaded = Signal()  # a history or backfill load finished (tests and the status bar wait on it)
    mode_changed = Signal(str)  # "live", "paused", "offline", "history"
    error_raised = Signal(str)

    def __init__(
        self,
        fleet: Fleet,
        parent: QWidget | None = None,
        *,
        time_range: TimeRange = PRESETS[0],
        repaint_hz: float = 30.0,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], int] = _now_ms,
    ) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self._clock = clock
        self._capacity = capacity
        self._range = time_range
        self._plan: HistoryPlan = plan_history(time_range.span_ms)
        self._series: dict[Ident, Series] = {}
        self.curves = CurveGroups()
        self._colours: dict[Ident, str] = {}
        self._drawn: dict[Ident, int] = {}  # buffer version last drawn
        self._hidden: set[Ident] = set()
        self._colour_index = 0
        self._generation = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sub: Subscription | None = None
        self._sub_for: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        self._sub_lock = asyncio.Lock()
        self._gaps = GapTracker()
        self._paused = False
        self._following = time_range.live
        self._clip: tuple[float, float] | None = None  # the x window (s) the curves were last clipped to
        self._mouse: QPointF | None = None
        self._notes_dirty = False
        self._closed = False
        self._max_points = 4000
        self._px_per_ms = 1.0
        self._series_budget = FRAME_POINTS
        self._last_trim = 0
        self._retry: Callable[[], None] | None = None
        self.loads_in_flight = 0
        self.loads_done = 0  # history loads and backfills completed (tests wait on it)
        self.repaints = 0  # ticks that handed new data to at least one curve (the benchmark reads it)
        self.follow_min_px = 1.0  # scroll the live window once it is this many pixels behind the clock
        self._build_ui()
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, int(1000 / repaint_hz)))
        self._timer.timeout.connect(self._on_tick)
        self._remove_state_listener: Callable[[], None] | None = fleet.on_state(self._on_fleet_state)
        self._set_x_range()

    # --- layout ------------------------------------------------------------------------------------------

    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        self.range_picker = RangePicker(self, initial=self._range)
        self.range_picker.range_changed.connect(self.set_range)
        self.plan_label = QLabel(self)
        self.plan_label.setStyleSheet("color: #555;")
        self.axes_combo = QComboBox(self)
        self.axes_combo.addItems(["One y-axis", "Axis per key"])
        self.axes_combo.setCurrentIndex(1)  # keys rarely share a unit; one device's keys would flatten each other
        self.axes_combo.currentIndexChanged.connect(lambda i: self.set_axis_per_key(i == 1))
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self.set_paused)
        self.export_button = QToolButton(self)
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        export_menu.addAction("Visible data as CSV…", self._on_export_csv_clicked)
        export_menu.addAction("Chart as PNG…", self._on_export_png_clicked)
        self.export_button.setMenu(export_menu)
        # Two rows, so the chart also fits the narrow device panel: ranges, then what is shown and what to do.
        bar.addWidget(self.range_picker)
        bar.addStretch(1)
        layout.addLayout(bar)
        controls = QHBoxLayout()
        controls.addWidget(self.plan_label)
        controls.addStretch(1)
        for widget in (self.axes_combo, self.pause_button, self.export_button):
            controls.addWidget(widget)
        layout.addLayout(controls)

        self.banner = QWidget(self)
        self.banner.setStyleSheet("background: #fdecea; color: #8a1c12; border-radius: 3px;")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(6, 3, 6, 3)
        self.banner_label = QLabel(self.banner)
        self.banner_label.setWordWrap(True)
        self.retry_button = QPushButton("Retry", self.banner)
        self.retry_button.clicked.connect(self._on_retry_clicked)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.retry_button)
        self.banner.setVisible(False)
        layout.addWidget(self.banner)

        self.readout = QLabel(_READOUT_HINT, self)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.readout)

        self.chart_area = QSplitter(Qt.Orientation.Horizontal, self)
        self.plot_widget = pg.PlotWidget(self.chart_area, axisItems={"bottom": time_axis()})
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=False, y=False)
        self.plot.hideButtons()
        self.plot.vb.disableAutoRange(axis=pg.ViewBox.XAxis)
        self.plot.vb.sigRangeChangedManually.connect(self._on_view_changed_manually)
        self.axes = AxisManager(self.plot)
        self.axes.per_key = True
        self.crosshair = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#999", style=Qt.PenStyle.DashLine))
        self.crosshair.setVisible(False)
        self.plot.vb.addItem(self.crosshair, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.gap_band = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(214, 39, 40, 40), pen=pg.mkPen(None))
        self.gap_band.setVisible(False)
        self.plot.vb.addItem(self.gap_band, ignoreBounds=True)
        self.legend = ChartLegend(self.chart_area)
        self.legend.visibility_changed.connect(self._on_legend_visibility_changed)
        self.legend.remove_requested.connect(self.remove_series)
        self.chart_area.addWidget(self.plot_widget)
        self.chart_area.addWidget(self.legend)
        self.chart_area.setStretchFactor(0, 1)
        self.chart_area.setChildrenCollapsible(False)
        self.chart_area.setSizes([700, 220])
        layout.addWidget(self.chart_area, 1)

        self.notes = QLabel(self)
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #8a5a00;")
        self.notes.setVisible(False)
        layout.addWidget(self.notes)
        self._update_plan_label()

    # --- public API ------------------------------------------------------------------------------------

    @property
    def time_range(self) -> TimeRange:
        return self._range

    @property
    def plan(self) -> HistoryPlan:
        return self._plan

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def offline(self) -> bool:
        return self._gaps.offline

    def series(self) -> list[Series]:
        return list(self._series.values())

    def get_series(self, device_id: str, key: str) -> Series | None:
        return self._series.get((device_id, key))

    def add_series(self, device_id: str, key: str, device_name: str = "") -> Series:
        """Add a line (no-op if present) and load its history; several calls in a row share one subscription."""
        return self.add_many([(device_id, key, device_name)])[0]

    def add_many(self, specs: Sequence[tuple[str, str, str]]) -> list[Series]:
        added: list[Series] = []
        result: list[Series] = []
        for device_id, key, device_name in specs:
            ident = (device_id, key)
            series = self._series.get(ident)
            if series is None:
                series = Series(device_id, key, device_name=device_name, capacity=self._capacity)
                self._series[ident] = series
                colour = colour_for(self._colour_index)
                self._colour_index += 1
                self._colours[ident] = colour
                self.legend.add_series(ident, series.title, colour)
                added.append(series)
            result.append(series)
        if added:
            self._spawn(self._load(added, self._generation), "Loading chart history")
        return result

    def remove_series(self, ident: Ident) -> None:
        ident = tuple(ident)  # type: ignore[assignment]
        series = self._series.pop(ident, None)
        if series is None:
            return
        self.curves.remove(ident)
        self._drawn.pop(ident, None)
        self._hidden.discard(ident)
        self.legend.remove_series(ident)
        self._notes_dirty = True
        if all(other.key != series.key for other in self._series.values()):
            self._reset_axes()  # no line of that key left: its axis and label go too
        self._spawn(self._ensure_subscribed(), "Updating live subscription")

    def _reset_axes(self) -> None:
        """Rebuild axes from the series left (the next tick reassigns them), so no axis names a key not drawn."""
        self.axes.set_per_key(self.axes.per_key)
        self.curves.clear()
        self._drawn.clear()
        self._clip = None
        self.axes.enable_y_autorange()

    def clear_series(self) -> None:
        for ident in list(self._series):
            self.remove_series(ident)
        self._colour_index = 0

    def show_device(self, device_id: str) -> None:
        """Chart every numeric telemetry key of one device (the device panel's Chart tab)."""
        self._generation += 1
        self.clear_series()
        self._spawn(self._load_device(device_id, self._generation), "Loading telemetry keys")

    def add_device_keys(self, device_id: str, device_name: str = "") -> None:
        """Add every telemetry key of a device (the workspace's "Add to chart" on a device row)."""
        self._spawn(self._load_device(device_id, self._generation, device_name), "Loading telemetry keys")

    def set_range(self, time_range: TimeRange) -> None:
        """Reload every series for a new range; results of the previous range are dropped."""
        self._range = time_range
        self._plan = plan_history(time_range.span_ms)
        self.range_picker.set_range(time_range)
        self._generation += 1
        self._gaps.reset()
        for series in self._series.values():
            series.reset()
        self._following = time_range.live and not self._paused
        self._clip = None
        self.axes.enable_y_autorange()
        self._set_x_range()
        self._update_plan_label()
        self._update_banner()
        if self._series:
            self._spawn(self._load(list(self._series.values()), self._generation), "Loading chart history")

    def set_paused(self, paused: bool) -> None:
        """Pause: stop following the clock and freeze the lines (data keeps arriving underneath)."""
        self._paused = paused
        if self.pause_button.isChecked() != paused:
            self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume live" if paused else "Pause")
        self._following = self._range.live and not paused
        if not paused:
            self.axes.enable_y_autorange()
            self._set_x_range()
            self._clip = None
        self.mode_changed.emit(self._mode())

    def set_axis_per_key(self, per_key: bool) -> None:
        if self.axes.per_key == per_key:
            return
        if self.axes_combo.currentIndex() != int(per_key):
            self.axes_combo.setCurrentIndex(int(per_key))
        self.axes.set_per_key(per_key)
        self.curves.clear()  # the next tick puts every series in the group of its new axis
        self._drawn.clear()
        self._clip = None
        self.axes.enable_y_autorange()

    def set_series_visible(self, ident: Ident, visible: bool) -> None:
        self.legend.set_visible(ident, visible)  # emits visibility_changed → _on_legend_visibility_changed

    def visible_x_range_ms(self) -> tuple[float, float]:
        x0, x1 = self.plot.vb.viewRange()[0]
        return x0 * 1000, x1 * 1000

    def readout_at(self, ts_ms: float) -> str:
        """The crosshair text for a time: the time, then each visible series' nearest value (plain text)."""
        x0, x1 = self.visible_x_range_ms()
        tolerance = max((x1 - x0) * 0.02, 1.0)
        parts = [_format_time(ts_ms)]
        for ident, series in self._series.items():
            if ident in self._hidden:
                continue
            found = series.buffer.nearest(ts_ms)
            if found is not None and abs(found[0] - ts_ms) <= tolerance:
                parts.append(f"{series.title}: {found[1]:.6g}")
        return "  |  ".join(parts)

    def export_csv(self, path: Path) -> int:
        """Write the visible series' points inside the visible time range; returns the number of rows."""
        start, end = self.visible_x_range_ms()
        visible = [s for ident, s in self._series.items() if ident not in self._hidden]
        return write_csv(path, csv_rows(visible, start, end))

    def export_png(self, path: Path) -> bool:
        """Save the plot and its legend as they are on screen."""
        self._on_tick()
        return self.chart_area.grab().save(str(path), "PNG")

    def redraw_now(self) -> None:
        """Run one repaint tick at once (tests, export)."""
        self._on_tick()

    async def aclose(self) -> None:
        """Stop the timer, the tasks and the live subscription; the chart is inert afterwards."""
        self._closed = True
        self._timer.stop()
        self.axes.dispose()
        if self._remove_state_listener is not None:
            self._remove_state_listener()
            self._remove_state_listener = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        sub, self._sub = self._sub, None
        if sub is not None:
            try:
                await sub.close()
            except ApiError as exc:
                log.info("closing the chart subscription failed: %s", exc.message)

    # --- loading ----------------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._on_task_done(t, what))

    def _on_task_done(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if task.cancelled() or self._closed:
            return
        exc = task.exception()
        if exc is None:
            return
        if isinstance(exc, ApiError):
            message = f"{what} failed: {exc.message}"
        else:
            log.error("%s failed", what, exc_info=exc)
            message = f"{what} failed (unexpected {type(exc).__name__}; details are in the log)."
        self._show_error(message, retry=self.reload)

    def reload(self) -> None:
        self.set_range(self._range)

    async def _load_device(self, device_id: str, generation: int, device_name: str = "") -> None:
        keys = await self.fleet.telemetry_keys(device_id)
        if generation != self._generation:
            return
        if not keys and not self._series:
            self._show_note_text("This device has sent no telemetry yet.")
            return
        self.add_many([(device_id, key, device_name) for key in sorted(keys)])

    async def _ensure_subscribed(self) -> None:
        """Subscribe to exactly the devices and keys charted now (new subscription first, then the old one closes)."""
        async with self._sub_lock:
            devices = tuple(sorted({s.device_id for s in self._series.values()}))
            keys = tuple(sorted({s.key for s in self._series.values()}))
            if (devices, keys) == self._sub_for or self._closed:
                return
            new = await self.fleet.subscribe_telemetry(devices, keys, self._on_live) if devices else None
            old, self._sub, self._sub_for = self._sub, new, (devices, keys)
            if old is not None:
                await old.close()

    async def _load(self, batch: list[Series], generation: int) -> None:
        self.loads_in_flight += 1
        try:
            try:
                await self._ensure_subscribed()  # live first: nothing falls between history and the tail
            except ApiError as exc:
                self._show_error(f"Live updates are unavailable: {exc.message}", retry=self.reload)
            if generation != self._generation:
                return
            start, end = self._range.bounds(self._clock())
            plan = self._plan
            # A live range includes "now"; a fixed one is [start, end).
            fetch_end = end + 1 if self._range.live else end
            by_device: dict[str, list[Series]] = {}
            for series in batch:
                by_device.setdefault(series.device_id, []).append(series)
            limiter = asyncio.Semaphore(_FETCH_CONCURRENCY)

            async def fetch(device_id: str, items: list[Series]) -> None:
                async with limiter:
                    history = await self.fleet.telemetry_history(
                        device_id, [s.key for s in items], start, fetch_end, agg=plan.agg, interval_ms=plan.interval_ms
                    )
                if generation != self._generation:
                    return
                for series in items:
                    if self._series.get(series.ident) is series:
                        series.load_history(history.get(series.key, []), end_ms=end, aggregated=plan.aggregated)
                        self._after_history(series)

            await asyncio.gather(*(fetch(d, items) for d, items in by_device.items()))
        finally:
            self.loads_in_flight -= 1
        if generation == self._generation:
            self._notes_dirty = True
            if self._retry == self.reload:
                self._retry = None  # a reload worked: the old error goes
            self._update_banner()
            self.loads_done += 1
            self.history_loaded.emit()

    def _after_history(self, series: Series) -> None:
        if series.skipped and not series.numbers and not series.booleans:
            self.legend.set_note(series.ident, "not numeric")
            self.set_series_visible(series.ident, False)

    async def _backfill(self, generation: int) -> None:
        """After a reconnect: refetch each series from its last point up to now, raw; overlap collapses."""
        pending = list(self._gaps.pending)
        if not pending:
            return
        now = self._clock()
        range_start, _ = self._range.bounds(now)
        by_device: dict[str, list[Series]] = {}
        for series in self._series.values():
            by_device.setdefault(series.device_id, []).append(series)
        for device_id, items in by_device.items():
            windows = [backfill_window(self._gaps.resume_mark(s.ident), range_start, now, s.raw_from) for s in items]
            start = min(w[0] for w in windows)
            end = max(w[1] for w in windows)
            history = await self.fleet.telemetry_history(device_id, [s.key for s in items], start, end)
            if generation != self._generation:
                return
            for series in items:
                if self._series.get(series.ident) is series:
                    series.add_points(history.get(series.key, []))
        for gap in pending:
            self._gaps.filled(gap)
        self._clip = None  # redraw: the broken line joins up again
        self._notes_dirty = True
        self._update_banner()
        self.loads_done += 1
        self.history_loaded.emit()

    # --- live events ----------------------------------------------------------------------------------

    def _on_live(self, device_id: str, key: str, points: Sequence[Point]) -> None:
        series = self._series.get((device_id, key))
        if series is None:
            return
        skipped = series.skipped
        series.add_points(points)
        if series.skipped != skipped:
            self._notes_dirty = True

    def _on_fleet_state(self, state: ConnectionState, detail: str) -> None:
        if self._closed:
            return
        if state in _OFFLINE and self._sub is not None:
            self._gaps.went_offline(self._clock(), {ident: s.last_ts for ident, s in self._series.items()})
            self._offline_detail = detail
            self._update_banner()
            self.mode_changed.emit("offline")
        elif state is ConnectionState.CONNECTED and self._gaps.offline:
            self._gaps.came_online(self._clock())
            self._update_banner()
            self._spawn(self._backfill(self._generation), "Backfilling the chart")
            self.mode_changed.emit(self._mode())

    # --- repaint -------------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # Narrow (the device panel): the legend goes under the plot instead of taking half its width.
        narrow = event.size().width() < NARROW_WIDTH
        wanted = Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal
        if self.chart_area.orientation() != wanted:
            self.chart_area.setOrientation(wanted)
            self.legend.setMaximumHeight(110 if narrow else 16_777_215)
            total = self.chart_area.height() if narrow else self.chart_area.width()
            side = 110 if narrow else 220
            self.chart_area.setSizes([max(total - side, 100), side])

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._closed:
            self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def _set_x_range(self) -> None:
        start, end = self._range.bounds(self._clock())
        self.plot.vb.setXRange(start / 1000, end / 1000, padding=0)

    def _on_tick(self) -> None:
        if self._following:
            x0, x1 = self.plot.vb.viewRange()[0]
            # Scroll only by whole pixels: a sub-pixel shift repaints everything and changes nothing visible.
            if (self._clock() / 1000 - x1) * self.plot.vb.width() / max(x1 - x0, 1e-3) >= self.follow_min_px:
                self._set_x_range()
        x0, x1 = self.plot.vb.viewRange()[0]
        span = max(x1 - x0, 1e-3)
        clip = self._clip
        reclip = clip is None or x0 < clip[0] or x1 > clip[1] or (clip[1] - clip[0]) > 3 * span
        if reclip:
            clip = (x0 - span / 2, x1 + span / 2)
            self._clip = clip
        assert clip is not None
        self._max_points = max(int(self.plot.vb.width()), 200)
        self._px_per_ms = max(self.plot.vb.width(), 200) / (span * 1000)
        # Rasterising is the cost of a frame (~1 µs a segment): share a budget between the visible series, so a
        # 100-series overlay stays ~10 ms a frame; a few series still get one point per pixel.
        visible = max(len(self._series) - len(self._hidden), 1)
        budget = max(48, FRAME_POINTS // visible)
        if budget != self._series_budget:
            self._series_budget = budget
            reclip = True
        for ident, series in self._series.items():
            version = series.buffer.version
            if not reclip and (self._paused or self._drawn.get(ident) == version):
                continue
            if ident in self._hidden:
                continue
            if not len(series.buffer) and not self.curves.has(ident):
                continue  # nothing to draw yet: no item, and no axis for it
            colour = self._colours[ident]
            self.curves.assign(ident, self.axes.view_for(series.key, colour), colour, series.is_boolean)
            self.curves.mark_dirty(ident)
            self._drawn[ident] = version
        if self.curves.flush(self._arrays_for):
            self.repaints += 1
        self._update_gap_band()
        if self._mouse is not None:
            self._update_readout(self._mouse)
            self._mouse = None
        if self._notes_dirty:
            self._notes_dirty = False
            self._update_notes()
        self._trim_old_points()

    def _trim_old_points(self) -> None:
        """A live window moves on: every ~10 s forget what is more than a span behind its start (memory stays flat)."""
        now = self._clock()
        if not self._range.live or now - self._last_trim < 10_000:
            return
        self._last_trim = now
        keep_from = now - 2 * self._range.span_ms
        for series in self._series.values():
            if series.raw_from is None or series.raw_from < keep_from:
                series.buffer.drop_before(keep_from)

    def _arrays_for(self, ident: Ident) -> SeriesArrays | None:
        """One series' drawable arrays: clipped to the view, peak-downsampled, x in seconds, gaps broken."""
        series = self._series.get(ident)
        if series is None or ident in self._hidden or self._clip is None:
            return None
        clip = self._clip
        ts, values = clip_to_range(series.buffer.ts, series.buffer.values, clip[0] * 1000, clip[1] * 1000)
        if not series.is_boolean and len(ts) > 2:
            # About one point per pixel the series spans on screen (peak pairs keep its spikes).
            extent_px = (float(ts[-1]) - float(ts[0])) * self._px_per_ms
            budget = min(self._max_points, int(extent_px) + 2, self._series_budget)
            ts, values = peak_downsample(ts, values, max(16, budget))
        x = ts / 1000.0  # new arrays: the buffer may compact under a view
        y = np.array(values, dtype=np.float64)
        mask = self._connect_mask(ts)
        return x, y, None if isinstance(mask, str) else mask

    def _connect_mask(self, ts: np.ndarray) -> str | np.ndarray:
        """Break the line across connection gaps not yet backfilled: no straight line through missing data."""
        gaps = [*self._gaps.pending, *([self._gaps.current] if self._gaps.current else [])]
        if not gaps or len(ts) < 2:
            return "all"
        mask = np.ones(len(ts), dtype=bool)
        for gap in gaps:
            i = int(np.searchsorted(ts, gap.start_ms))
            if 0 < i < len(ts):
                mask[i - 1] = False  # the segment from the last point before the gap to the first after it
        return mask

    def _update_gap_band(self) -> None:
        gaps = [*self._gaps.pending, *([self._gaps.current] if self._gaps.current else [])]
        if not gaps:
            if self.gap_band.isVisible():
                self.gap_band.setVisible(False)
            return
        start = min(g.start_ms for g in gaps)
        end = max(g.end_ms if g.end_ms is not None else self._clock() for g in gaps)
        self.gap_band.setRegion((start / 1000, end / 1000))
        self.gap_band.setVisible(True)

    # --- user events -----------------------------------------------------------------------------------

    def _on_view_changed_manually(self, *_args: Any) -> None:
        if self._range.live and not self._paused:
            self.set_paused(True)  # a zoom or pan stops following; "Resume live" brings it back
        self._clip = None

    def _on_mouse_moved(self, pos: QPointF) -> None:
        self._mouse = pos  # handled on the next tick: at most one read-out per frame

    def _update_readout(self, pos: QPointF) -> None:
        if not self.plot.vb.sceneBoundingRect().contains(pos):
            self.crosshair.setVisible(False)
            self.readout.setText(_READOUT_HINT)
            return
        x = self.plot.vb.mapSceneToView(pos).x()
        self.crosshair.setPos(x)
        self.crosshair.setVisible(True)
        self.readout.setText(self._readout_html(x * 1000))

    def _readout_html(self, ts_ms: float) -> str:
        parts = self.readout_at(ts_ms).split("  |  ")
        html = [f"<b>{parts[0]}</b>"]
        titles = {s.title: ident for ident, s in self._series.items()}
        for part in parts[1:]:
            title = part.rsplit(": ", 1)[0]
            colour = self._colours.get(titles.get(title, ("", "")), "#333")
            html.append(f'<span style="color:{colour}">{part}</span>')
        return " &nbsp; ".join(html)

    def _on_legend_visibility_changed(self, ident: Ident, visible: bool) -> None:
        if visible:
            self._hidden.discard(ident)
            self._drawn.pop(ident, None)
        else:
            self._hidden.add(ident)
        self.curves.mark_dirty(ident)

    def _on_export_csv_clicked(self) -> None:
        ask_save_path(self, "Export visible data", "CSV files (*.csv)", "telemetry.csv", self.export_csv)

    def _on_export_png_clicked(self) -> None:
        ask_save_path(self, "Export chart image", "PNG images (*.png)", "chart.png", self.export_png)

    def _on_retry_clicked(self) -> None:
        retry, self._retry = self._retry, None
        self.banner.setVisible(False)
        if retry is not None:
            retry()

    # --- text around the plot ------------------------------------------------------------------------

    def _mode(self) -> str:
        if self._gaps.offline:
            return "offline"
        if not self._range.live:
            return "history"
        return "paused" if self._paused else "live"

    def _update_plan_label(self) -> None:
        text = f"History: {self._plan.label}"
        if self._plan.aggregated:
            text += " · live tail raw"
        self.plan_label.setText(text)

    def _show_error(self, message: str, retry: Callable[[], None] | None = None) -> None:
        self._retry = retry
        self.banner_label.setText(message)
        self.retry_button.setVisible(retry is not None)
        self.banner.setVisible(True)
        self.error_raised.emit(message)

    def _update_banner(self) -> None:
        if self._gaps.offline:
            detail = getattr(self, "_offline_detail", "")
            since = time.strftime("%H:%M:%S", time.localtime(self._gaps.current.start_ms / 1000))  # type: ignore[union-attr]
            text = f"Live updates interrupted since {since}" + (f" — {detail.rstrip('.')}" if detail else "")
            self._retry = None
            self.banner_label.setText(text + ". The gap is filled in when the connection returns.")
            self.retry_button.setVisible(False)
            self.banner.setVisible(True)
        elif self._retry is None:
            self.banner.setVisible(False)

    def _show_note_text(self, text: str) -> None:
        self.notes.setText(text)
        self.notes.setVisible(bool(text))

    def _update_notes(self) -> None:
        lines = [note for s in self._series.values() if (note := s.skipped_note())]
        if len(lines) > 4:
            lines = [*lines[:4], f"… and {len(lines) - 4} more series with values that are not numbers"]
        self._show_note_text("\n".join(lines))
