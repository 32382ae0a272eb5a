"""LiveChart behaviour a real server can't show on cue: a scripted fleet drives history, live points and the
connection state exactly, so joins, gaps, backfills and non-numeric values can be checked point by point.
(The screens against real backends are in test_charts.py.)"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF

from console.fleet import ConnectionState, NetworkError, Point
from console.fleet.series_plan import HOUR, MINUTE, PRESETS, TimeRange

pytestmark = pytest.mark.gui

NOW = 1_763_900_000_000  # a fixed clock: the scripted history is laid out around it


class ScriptedSubscription:
    def __init__(self, fleet: ScriptedFleet, devices: Sequence[str], keys: Sequence[str], callback: Any) -> None:
        self.fleet, self.devices, self.keys, self.callback = fleet, list(devices), list(keys), callback
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class ScriptedFleet:
    """The four Fleet methods a chart uses, backed by a dict of stored points per (device, key)."""

    kind = "thingsboard"
    title = "scripted"

    def __init__(self) -> None:
        self.store: dict[tuple[str, str], list[Point]] = {}
        self.subscriptions: list[ScriptedSubscription] = []
        self.history_calls: list[tuple[str, tuple[str, ...], int, int, str, int]] = []
        self.state_listeners: list[Callable[[ConnectionState, str], None]] = []
        self.fail_history: Exception | None = None

    def put(self, device_id: str, key: str, points: Sequence[tuple[int, Any]]) -> None:
        by_ts = {p.ts: p for p in self.store.get((device_id, key), [])}
        by_ts.update((ts, Point(ts=ts, value=v)) for ts, v in points)  # a later write at the same ts replaces
        self.store[(device_id, key)] = sorted(by_ts.values(), key=lambda p: p.ts)

    def push(self, device_id: str, key: str, points: Sequence[tuple[int, Any]], *, deliver: bool = True) -> None:
        """A device posts: stored, and delivered live to open subscriptions unless the socket is 'down'."""
        self.put(device_id, key, points)
        if deliver:
            for sub in self.subscriptions:
                if not sub.closed and device_id in sub.devices and key in sub.keys:
                    sub.callback(device_id, key, [Point(ts=ts, value=v) for ts, v in points])

    def set_state(self, state: ConnectionState, detail: str = "") -> None:
        for listener in list(self.state_listeners):
            listener(state, detail)

    async def telemetry_keys(self, device_id: str) -> list[str]:
        return sorted(k for d, k in self.store if d == device_id)

    async def telemetry_history(
        self,
        device_id: str,
        keys: Sequence[str],
        start_ms: int,
        end_ms: int,
        *,
        agg: str = "NONE",
        interval_ms: int = 0,
    ) -> dict[str, list[Point]]:
        self.history_calls.append((device_id, tuple(keys), start_ms, end_ms, agg, interval_ms))
        await asyncio.sleep(0)
        if self.fail_history is not None:
            raise self.fail_history
        out: dict[str, list[Point]] = {}
        for key in keys:
            points = [p for p in self.store.get((device_id, key), []) if start_ms <= p.ts < end_ms]
            if agg != "NONE" and interval_ms:
                buckets: dict[int, list[float]] = {}
                for p in points:
                    buckets.setdefault(start_ms + (p.ts - start_ms) // interval_ms * interval_ms, []).append(
                        float(p.value)
                    )
                points = [Point(ts=b + interval_ms // 2, value=sum(v) / len(v)) for b, v in sorted(buckets.items())]
            out[key] = points
        return out

    async def subscribe_telemetry(self, device_ids: Sequence[str], keys: Sequence[str], callback: Any) -> Any:
        await asyncio.sleep(0)
        sub = ScriptedSubscription(self, device_ids, keys, callback)
        self.subscriptions.append(sub)
        return sub

    def on_state(self, callback: Callable[[ConnectionState, str], None]) -> Callable[[], None]:
        self.state_listeners.append(callback)
        return lambda: self.state_listeners.remove(callback)


class Clock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def fleet() -> ScriptedFleet:
    return ScriptedFleet()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_chart(qloop: Any, qapp: Any, fleet: ScriptedFleet, clock: Clock) -> Iterator[Callable[..., Any]]:
    from ui.widgets.live_chart import LiveChart

    made: list[LiveChart] = []

    def make(**kwargs: Any) -> LiveChart:
        chart = LiveChart(fleet, clock=clock, **kwargs)  # type: ignore[arg-type]
        chart.resize(1000, 520)
        chart.show()
        made.append(chart)
        return chart

    yield make
    for chart in made:
        qloop.run(chart.aclose())
        chart.close()
        chart.deleteLater()


def loaded(qloop: Any, chart: Any, count: int = 1) -> None:
    """Wait until `count` history loads / backfills have completed in all."""
    qloop.wait_until(lambda: chart.loads_done >= count and chart.loads_in_flight == 0, what="history loaded")


def ts_of(chart: Any, device: str, key: str) -> list[int]:
    return chart.get_series(device, key).buffer.ts.tolist()


def test_pyqtgraph_is_not_imported_until_a_chart_opens() -> None:
    import subprocess

    code = (
        "import sys; import ui.app, ui.main_window, ui.widgets.chart_plugin, ui.widgets.chart_tab; "
        "print('pyqtgraph' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_history_joins_live_tail_without_gap_or_duplicate(qloop: Any, fleet: ScriptedFleet, make_chart: Any) -> None:
    fleet.put("d1", "temp", [(NOW - 60_000 + i * 1000, 20 + i % 5) for i in range(60)])
    chart = make_chart()
    chart.add_series("d1", "temp", "Boiler")
    qloop.wait_until(lambda: fleet.subscriptions, what="subscribed")
    # A point posted after subscribing but before history is read is both delivered live and in the history.
    fleet.push("d1", "temp", [(NOW, 99)])
    loaded(qloop, chart)
    fleet.push("d1", "temp", [(NOW, 99), (NOW + 1000, 30)])  # the socket repeats a point: still once
    got = ts_of(chart, "d1", "temp")
    assert got == sorted(set(got))
    assert got == [p.ts for p in fleet.store[("d1", "temp")]]
    # The subscription was opened before the history was read: that is what closes the gap.
    assert fleet.history_calls and fleet.history_calls[0][3] == NOW + 1


def test_non_numeric_values_are_skipped_with_a_note_and_booleans_are_markers(
    qloop: Any, fleet: ScriptedFleet, make_chart: Any
) -> None:
    import pyqtgraph as pg

    fleet.put("d1", "temp", [(NOW - 3000, "21.5"), (NOW - 2000, "ERR"), (NOW - 1000, 22)])
    fleet.put("d1", "door", [(NOW - 3000, True), (NOW - 1000, False)])
    fleet.put("d1", "status", [(NOW - 3000, "idle"), (NOW - 1000, "running")])
    chart = make_chart()
    chart.show_device("d1")
    loaded(qloop, chart)
    chart.redraw_now()
    assert chart.get_series("d1", "temp").buffer.values.tolist() == [21.5, 22.0]
    assert "temp: 1 non-numeric value not drawn (e.g. 'ERR')" in chart.notes.text()
    assert chart.notes.isVisible()
    assert isinstance(chart.curves.item_for(("d1", "door")), pg.ScatterPlotItem)
    assert isinstance(chart.curves.item_for(("d1", "temp")), pg.PlotCurveItem)
    # A key with no number at all is listed but hidden, with a note in the legend.
    assert not chart.legend.is_visible(("d1", "status"))
    assert "status — not numeric" in chart.legend.titles()


def test_offline_is_shown_and_backfill_fills_the_gap(
    qloop: Any, fleet: ScriptedFleet, make_chart: Any, clock: Clock
) -> None:
    fleet.put("d1", "temp", [(NOW - 10_000 + i * 1000, i) for i in range(10)])
    chart = make_chart()
    chart.add_series("d1", "temp")
    loaded(qloop, chart)
    fleet.set_state(ConnectionState.RECONNECTING, "connection reset")
    assert chart.offline and chart.banner.isVisible()
    assert "interrupted" in chart.banner_label.text() and "connection reset" in chart.banner_label.text()
    # While down, the device keeps posting; nothing reaches the chart.
    for i in range(5):
        clock.now += 1000
        fleet.push("d1", "temp", [(clock.now, 100 + i)], deliver=False)
    chart.redraw_now()
    assert chart.gap_band.isVisible()
    mask = chart._connect_mask(chart.get_series("d1", "temp").buffer.ts)
    assert not isinstance(mask, str)  # the line is broken at the gap rather than drawn straight across it
    clock.now += 1000
    fleet.set_state(ConnectionState.CONNECTED)
    fleet.push("d1", "temp", [(clock.now, 200)])  # live again, before the backfill lands
    loaded(qloop, chart, 2)
    assert ts_of(chart, "d1", "temp") == [p.ts for p in fleet.store[("d1", "temp")]]
    assert not chart.offline and not chart.banner.isVisible()
    chart.redraw_now()
    assert not chart.gap_band.isVisible()


def test_long_range_is_aggregated_and_says_so(qloop: Any, fleet: ScriptedFleet, make_chart: Any) -> None:
    fleet.put("d1", "temp", [(NOW - 7 * 24 * HOUR + i * MINUTE, i % 60) for i in range(7 * 24 * 60)])
    chart = make_chart(time_range=PRESETS[3])
    chart.add_series("d1", "temp")
    loaded(qloop, chart)
    assert fleet.history_calls[-1][4:] == ("AVG", 10 * MINUTE)
    assert "AVG per 10 min" in chart.plan_label.text()
    series = chart.get_series("d1", "temp")
    assert 900 <= len(series.buffer) <= 1100
    fleet.push("d1", "temp", [(NOW - 5, 1), (NOW + 5, 2)])  # inside the last bucket: dropped; after it: the tail
    assert series.buffer.ts.tolist()[-1] == NOW + 5
    assert NOW - 5 not in series.buffer.ts.tolist()


def test_range_change_reloads_and_drops_stale_results(qloop: Any, fleet: ScriptedFleet, make_chart: Any) -> None:
    fleet.put("d1", "temp", [(NOW - 2 * HOUR + i * MINUTE, i) for i in range(120)])
    chart = make_chart()
    chart.add_series("d1", "temp")
    loaded(qloop, chart)
    assert len(chart.get_series("d1", "temp").buffer) == 5
    chart.set_range(PRESETS[1])
    chart.set_range(PRESETS[0])  # quickly back: the 1 h answer must not land
    chart.set_range(PRESETS[1])
    loaded(qloop, chart, 2)
    assert len(chart.get_series("d1", "temp").buffer) == 60


def test_history_error_is_shown_with_retry(qloop: Any, fleet: ScriptedFleet, make_chart: Any) -> None:
    fleet.put("d1", "temp", [(NOW - 1000, 1)])
    fleet.fail_history = NetworkError("Could not connect to 127.0.0.1:9: the connection was refused.")
    chart = make_chart()
    chart.add_series("d1", "temp")
    qloop.wait_until(lambda: chart.banner.isVisible(), what="error banner")
    assert "connection was refused" in chart.banner_label.text()
    assert chart.retry_button.isVisible()
    fleet.fail_history = None
    chart.retry_button.click()
    loaded(qloop, chart)
    assert ts_of(chart, "d1", "temp") == [NOW - 1000]
    assert not chart.banner.isVisible()


def test_pause_zoom_crosshair_and_exports(
    qloop: Any, fleet: ScriptedFleet, make_chart: Any, clock: Clock, tmp_path: Path
) -> None:
    fleet.put("d1", "temp", [(NOW - 60_000 + i * 1000, i) for i in range(60)])
    fleet.put("d2", "temp", [(NOW - 60_000 + i * 1000, -i) for i in range(0, 60, 2)])
    chart = make_chart()
    chart.add_many([("d1", "temp", "Boiler"), ("d2", "temp", "Chiller")])
    loaded(qloop, chart)
    assert len(fleet.subscriptions) == 1 and fleet.subscriptions[0].devices == ["d1", "d2"]
    chart.redraw_now()
    chart.set_paused(True)
    frozen = chart.repaints
    fleet.push("d1", "temp", [(NOW + 500, 1000)])
    chart.redraw_now()
    assert chart.repaints == frozen  # paused: the line does not move
    chart.plot.vb.setXRange((NOW - 30_000) / 1000, (NOW - 10_000) / 1000, padding=0)
    text = chart.readout_at(NOW - 20_000)
    assert "Boiler · temp: 40" in text and "Chiller · temp: -40" in text
    rows = chart.export_csv(tmp_path / "visible.csv")
    with (tmp_path / "visible.csv").open() as handle:
        data = list(csv.DictReader(handle))
    assert rows == len(data) == 21 + 11  # 1 s and 2 s steps over a 20 s window, both ends included
    assert {r["device"] for r in data} == {"Boiler", "Chiller"}
    assert data[0]["ts_ms"] == str(NOW - 30_000)
    # The crosshair follows the mouse: the read-out names both series with their values at that time.
    chart.redraw_now()
    scene_pos = chart.plot.vb.mapViewToScene(QPointF((NOW - 20_000) / 1000, 0))
    chart._on_mouse_moved(scene_pos)
    chart.redraw_now()
    assert chart.crosshair.isVisible()
    assert "Boiler · temp: 40" in chart.readout.text() and "Chiller · temp: -40" in chart.readout.text()
    chart.set_series_visible(("d2", "temp"), False)
    assert "Chiller" not in chart.readout_at(NOW - 20_000)
    assert chart.export_csv(tmp_path / "one.csv") == 21
    assert chart.export_png(tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 5000
    chart.set_paused(False)
    chart.redraw_now()
    x0, x1 = chart.visible_x_range_ms()
    assert abs(x1 - clock.now) < 1 and abs(x1 - x0 - PRESETS[0].span_ms) < 1


def test_custom_range_is_fixed(qloop: Any, fleet: ScriptedFleet, make_chart: Any) -> None:
    fleet.put("d1", "temp", [(NOW - 3 * HOUR + i * MINUTE, i) for i in range(180)])
    chart = make_chart(time_range=TimeRange.custom(NOW - 3 * HOUR, NOW - 2 * HOUR))
    chart.add_series("d1", "temp")
    loaded(qloop, chart)
    assert ts_of(chart, "d1", "temp") == [NOW - 3 * HOUR + i * MINUTE for i in range(60)]
    x0, x1 = chart.visible_x_range_ms()
    assert (round(x0), round(x1)) == (NOW - 3 * HOUR, NOW - 2 * HOUR)


def test_zooming_with_the_wheel_pauses_and_resume_follows_again(
    qloop: Any, fleet: ScriptedFleet, make_chart: Any, clock: Clock
) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    fleet.put("d1", "temp", [(NOW - 60_000 + i * 1000, i) for i in range(60)])
    chart = make_chart()
    chart.add_series("d1", "temp")
    loaded(qloop, chart)
    chart.redraw_now()
    viewport = chart.plot_widget.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    wheel = QWheelEvent(
        centre,
        viewport.mapToGlobal(centre),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    qloop.settle(0.05)
    x0, x1 = chart.visible_x_range_ms()
    assert chart.paused and chart.pause_button.text() == "Resume live"
    assert x1 - x0 < PRESETS[0].span_ms  # zoomed in
    clock.now += 5000
    chart.redraw_now()
    assert chart.visible_x_range_ms() == (x0, x1)  # paused: the view stays where the user put it
    chart.pause_button.click()
    chart.redraw_now()
    x0, x1 = chart.visible_x_range_ms()
    assert not chart.paused and abs(x1 - clock.now) < 1 and abs(x1 - x0 - PRESETS[0].span_ms) < 1


def _axis_labels(chart: Any) -> list[str]:
    """The y-axis titles a user sees (left axis, then the visible right-hand ones)."""
    labels = [chart.plot.getAxis("left").labelText]
    labels += [axis.labelText for _vb, axis in chart.axes._extras if axis.isVisible()]
    return [label for label in labels if label]


def test_switching_device_leaves_no_axis_of_the_previous_device(
    qloop: Any, fleet: ScriptedFleet, make_chart: Any
) -> None:
    fleet.put("d1", "co2", [(NOW - 30_000, 700)])
    fleet.put("d1", "pm25", [(NOW - 30_000, 12)])
    fleet.put("d2", "compressor_load", [(NOW - 30_000, 80)])
    chart = make_chart()
    chart.show_device("d1")
    qloop.wait_until(lambda: len(chart.series()) == 2 and chart.loads_in_flight == 0, what="d1 loaded")
    chart.redraw_now()
    assert _axis_labels(chart) == ["co2", "pm25"]
    chart.show_device("d2")
    qloop.wait_until(lambda: len(chart.series()) == 1 and chart.loads_in_flight == 0, what="d2 loaded")
    chart.redraw_now()
    assert _axis_labels(chart) == ["compressor_load"]  # was co2, pm25, compressor_load: wrong scales named
    chart.remove_series(("d2", "compressor_load"))
    chart.redraw_now()
    assert _axis_labels(chart) == []


def test_the_time_axis_labels_a_5_minute_window_in_a_narrow_panel(
    qloop: Any, fleet: ScriptedFleet, make_chart: Any
) -> None:
    fleet.put("d1", "temp", [(NOW - 60_000, 1)])
    chart = make_chart()
    chart.add_series("d1", "temp")
    loaded(qloop, chart)
    chart.redraw_now()
    axis = chart.plot.getAxis("bottom")
    x0, x1 = (v / 1000 for v in chart.visible_x_range_ms())
    assert round(x1 - x0) == 300
    for width in (210, 260, 600):  # the plot in the device panel's Chart tab is 210-260 px wide
        labelled = [t for _spacing, ticks in axis.tickValues(x0, x1, width) for t in ticks]
        assert len(labelled) >= 2, width  # pyqtgraph's own steps gave one label (every 5 minutes) or none
