"""Chart screens against real backends: the demo (a real local PocketBase with simulated devices) and the
ThingsBoard emulator behind a TCP proxy that can cut the live socket. Each test saves a screenshot (the test's
folder and /work/screens/) — look at them: an empty chart or a clipped legend is a bug no assertion catches."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from console.demo import DemoFleetRunner, data
from console.demo.seeding import device_id
from console.fleet import ConnectionState
from console.fleet.series_plan import PRESETS

pytestmark = pytest.mark.gui

SCREENS = Path("/work/screens")
DEMO = data.DemoConfig(
    devices=24,
    fast_devices=4,
    history_minutes=15,
    long_history_devices=1,
    long_history_days=3,
    long_history_step_s=900,
)


def screenshot(widget: QWidget, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    if SCREENS.is_dir():
        shutil.copy(path, SCREENS / path.name)
    return path


def settle_chart(qloop: Any, chart: Any) -> None:
    chart.redraw_now()
    qloop.settle(0.1)


@pytest.fixture
def demo(qloop: Any, tmp_path: Path) -> Iterator[DemoFleetRunner]:
    runner = DemoFleetRunner(tmp_path / "demo", config=DEMO)
    qloop.run(runner.start(), timeout=120)
    try:
        yield runner
    finally:
        qloop.run(runner.stop(), timeout=60)


def demo_devices() -> list[data.DemoDevice]:
    return data.make_devices(DEMO, 0)


def total_points(chart: Any) -> int:
    return sum(len(s.buffer) for s in chart.series())


def assert_matches_server(qloop: Any, fleet: Any, series: Any, start_ms: int) -> None:
    """Everything the chart holds up to its last point is exactly the server's history: no gap, no duplicate."""
    ts = series.buffer.ts.tolist()
    assert ts == sorted(set(ts))
    cut = ts[-1]
    stored = qloop.run(fleet.telemetry_history(series.device_id, [series.key], start_ms, cut + 1))
    expected = [p.ts for p in stored.get(series.key, [])]
    got = [t for t in ts if t >= start_ms]
    assert got == expected


def test_device_chart_tab_on_the_demo(qloop: Any, demo: DemoFleetRunner, screenshot_dir: Path) -> None:
    from ui.widgets.chart_tab import DeviceChartTab

    fleet = demo.fleet
    device = demo_devices()[0]
    tab = DeviceChartTab()
    tab.resize(1000, 560)
    tab.show()
    try:
        tab.set_device(fleet, device_id(device.name))
        qloop.wait_until(lambda: tab.chart is not None and tab.chart.loads_done >= 1, what="history")
        chart = tab.chart
        assert chart is not None
        keys = [spec.key for spec in data.profile_spec(device.profile).keys]
        assert sorted(s.key for s in chart.series()) == sorted(keys)
        loaded = total_points(chart)
        assert loaded >= 4 * len(keys)  # the last 5 of the seeded minutes, one point a minute
        qloop.wait_until(lambda: total_points(chart) >= loaded + 3 * len(keys), what="live points")
        start_ms = int(time.time() * 1000) - PRESETS[0].span_ms + 30_000
        for series in chart.series():
            assert_matches_server(qloop, fleet, series, start_ms)
        settle_chart(qloop, chart)
        assert "raw points" in chart.plan_label.text()
        screenshot(tab, screenshot_dir, "chart_single_device")
    finally:
        qloop.run(tab.aclose())
        tab.close()
        tab.deleteLater()


def test_workspace_overlays_several_devices(qloop: Any, demo: DemoFleetRunner, screenshot_dir: Path) -> None:
    from ui.widgets.chart_workspace import ChartWorkspace

    fleet = demo.fleet
    devices = demo_devices()[:4]
    workspace = ChartWorkspace()
    try:
        items = []
        for device in devices:
            first_key = data.profile_spec(device.profile).keys[0].key
            items.append((device_id(device.name), first_key, device.name))
        workspace.add_keys(fleet, items)
        workspace.add_series(fleet, *items[0])  # already there: no second line
        chart = workspace.chart
        assert chart is not None and workspace.isVisible()
        chart.set_axis_per_key(True)
        qloop.wait_until(lambda: chart.loads_done >= 1, what="history")
        assert len(chart.series()) == len(devices)
        assert len(chart.legend.titles()) == len(devices)
        before = {s.ident: len(s.buffer) for s in chart.series()}
        qloop.wait_until(
            lambda: all(len(s.buffer) > before[s.ident] + 1 for s in chart.series()), what="live on every device"
        )
        start_ms = int(time.time() * 1000) - PRESETS[0].span_ms + 30_000
        for series in chart.series():
            assert_matches_server(qloop, fleet, series, start_ms)
        settle_chart(qloop, chart)
        screenshot(workspace, screenshot_dir, "chart_multi_device")
    finally:
        qloop.run(workspace.aclose())
        workspace.close()
        workspace.deleteLater()


def test_long_range_is_aggregated_on_the_demo(qloop: Any, demo: DemoFleetRunner, screenshot_dir: Path) -> None:
    from ui.widgets.live_chart import LiveChart

    fleet = demo.fleet
    device = demo_devices()[DEMO.fast_devices]  # the one with three days of history
    chart = LiveChart(fleet, time_range=PRESETS[3])
    chart.resize(1000, 560)
    chart.show()
    try:
        chart.add_device_keys(device_id(device.name), device.name)
        qloop.wait_until(lambda: chart.loads_done >= 1 and chart.series(), what="history")
        assert chart.plan.aggregated and chart.plan.label == "AVG per 10 min"
        assert "AVG per 10 min" in chart.plan_label.text()
        for series in chart.series():
            # three days at 15-minute steps, averaged into 10-minute buckets: one point per filled bucket
            assert 250 <= len(series.buffer) <= 300
            ts = series.buffer.ts
            assert (ts[1:] > ts[:-1]).all()
        settle_chart(qloop, chart)
        screenshot(chart, screenshot_dir, "chart_long_range_aggregated")
    finally:
        qloop.run(chart.aclose())
        chart.close()
        chart.deleteLater()


@pytest.mark.slow
def test_offline_state_and_backfill_on_thingsboard(qloop: Any, tb_server: Any, screenshot_dir: Path) -> None:
    """The live socket is cut and refused: the chart says so and breaks the line; when it returns, the gap fills."""
    from console.fleet.thingsboard import ThingsboardFleet
    from console.thingsboard import EntityId
    from tests.tbserver.ws_proxy import CuttingProxy
    from ui.widgets.live_chart import LiveChart

    port = int(tb_server.url.rsplit(":", 1)[1].split("/")[0])
    proxy = CuttingProxy(port)
    url = qloop.run(proxy.start())
    fleet = ThingsboardFleet(url, username="tenant@thingsboard.org", password="tenant")
    device_side = ThingsboardFleet(tb_server.url, username="tenant@thingsboard.org", password="tenant")
    qloop.run(fleet.connect())
    qloop.run(device_side.connect())
    rows = qloop.run(anext(aiter(fleet.iter_device_pages(_query(), 10))))
    device = rows[0].id
    key = f"chart_probe_{int(time.time() * 1000) % 100_000}"

    async def post(ts: int, value: float) -> None:
        await device_side.tb.attributes.save_entity_telemetry(
            EntityId("DEVICE", device), "ANY", {"ts": ts, "values": {key: value}}
        )

    now = int(time.time() * 1000)
    for i in range(30):
        qloop.run(post(now - 30_000 + i * 1000, 20 + (i % 7)))
    chart = LiveChart(fleet)
    chart.resize(1000, 560)
    chart.show()
    states: list[ConnectionState] = []
    remove = fleet.on_state(lambda state, _detail: states.append(state))  # kept for the failure message
    try:
        chart.add_series(device, key, rows[0].name)
        qloop.wait_until(lambda: chart.loads_done >= 1, what="history")
        series = chart.get_series(device, key)
        assert len(series.buffer) == 30
        assert _live_point_arrives(qloop, post, series), "no live point reached the chart"

        proxy.refusing = True
        proxy.cut()
        qloop.wait_until(lambda: chart.offline, timeout=60, what="the chart noticing the drop")
        base = int(time.time() * 1000)
        for i in range(8):
            qloop.run(post(base + i * 250, 24 + i % 3))  # posted while the chart cannot hear
            qloop.settle(0.25)
        settle_chart(qloop, chart)
        assert chart.banner.isVisible() and "interrupted" in chart.banner_label.text()
        assert chart.gap_band.isVisible()
        screenshot(chart, screenshot_dir, "chart_offline")

        done = chart.loads_done
        proxy.refusing = False
        qloop.wait_until(lambda: not chart.offline and chart.loads_done > done, timeout=90, what="backfill")
        assert base + 7 * 250 in series.buffer.ts.tolist()  # the last point posted during the outage
        assert_matches_server(qloop, device_side, series, now - 30_000)
        settle_chart(qloop, chart)
        assert not chart.banner.isVisible() and not chart.gap_band.isVisible()
        screenshot(chart, screenshot_dir, "chart_back_online")
    finally:
        remove()
        qloop.run(chart.aclose())
        chart.close()
        chart.deleteLater()
        qloop.run(fleet.close())
        qloop.run(device_side.close())
        qloop.run(proxy.close())


def _query() -> Any:
    from console.fleet import DeviceQuery

    return DeviceQuery(sort="name", descending=False)


def _live_point_arrives(qloop: Any, post: Any, series: Any) -> bool:
    """Post until one point comes back through the socket (the subscription goes live in the background)."""
    for _ in range(60):
        ts = int(time.time() * 1000)
        qloop.run(post(ts, 22.5))
        qloop.settle(0.5)
        if ts in series.buffer.ts.tolist():
            return True
    return False
