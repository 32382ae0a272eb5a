"""Charts inside the console window, against the demo: the device panel's Chart tab and "Add to chart"."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel

from console.demo import DemoFleetRunner, data
from console.demo.seeding import device_id
from tests.gui.test_charts import DEMO, SCREENS

pytestmark = pytest.mark.gui


def test_chart_tab_and_add_to_chart_in_the_window(
    qloop: Any, window_factory: Any, tmp_path: Path, screenshot_dir: Path
) -> None:
    runner = DemoFleetRunner(tmp_path / "demo", config=DEMO)
    fleet = qloop.run(runner.start(), timeout=120)
    window = window_factory()
    try:
        window.resize(1500, 820)
        window.show()
        qloop.run(window.set_fleet(fleet))
        first, second = data.make_devices(DEMO, 0)[:2]
        qloop.wait_until(lambda: window.devices_page.model.rowCount() >= DEMO.devices, what="device rows")
        assert window.devices_page.select_device(device_id(first.name))
        panel = window.device_panel
        assert window.charts.tab.chart is None  # nothing charted (and no pyqtgraph) until the tab is opened
        panel.setCurrentWidget(window.charts.tab)
        qloop.wait_until(lambda: window.charts.tab.chart is not None and window.charts.tab.chart.loads_done >= 1)
        chart = window.charts.tab.chart
        keys = sorted(spec.key for spec in data.profile_spec(first.profile).keys)
        assert sorted(s.key for s in chart.series()) == keys
        qloop.wait_until(lambda: all(len(s.buffer) >= 6 for s in chart.series()), what="history and live points")

        # Another device: the tab follows the selection.
        assert window.devices_page.select_device(device_id(second.name))
        qloop.wait_until(lambda: chart.series() and chart.series()[0].device_id == device_id(second.name))
        qloop.wait_until(lambda: chart.loads_done >= 2 and all(len(s.buffer) for s in chart.series()))
        chart.redraw_now()
        qloop.settle(0.2)
        path = screenshot_dir / "chart_in_window.png"
        assert window.grab().save(str(path))
        if SCREENS.is_dir():
            shutil.copy(path, SCREENS / path.name)

        # "Add to chart" on the selected device: the workspace overlays all its keys.
        assert window.charts.add_devices_action in window.device_actions.actions()
        window.charts.add_devices_action.trigger()
        workspace = window.charts.workspace
        second_keys = len(data.profile_spec(second.profile).keys)
        qloop.wait_until(
            lambda: workspace.chart is not None and len(workspace.chart.series()) == second_keys, what="workspace"
        )
        assert workspace.isVisible()
        # "Add to chart" on a key of the latest-telemetry table of the first device.
        assert window.devices_page.select_device(device_id(first.name))
        table = panel.latest_view.table
        qloop.wait_until(lambda: table.rowCount() == len(keys), what="latest telemetry")
        table.selectionModel().select(
            table.model().index(0, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        )
        assert window.charts.add_selected_keys() == 1
        assert workspace.chart is not None
        titles = workspace.chart.legend.titles()
        assert len(titles) == second_keys + 1 and f"{first.name} · {table.item(0, 0).text()}" in titles
    finally:
        qloop.run(window.aclose())
        qloop.run(runner.stop(), timeout=60)
