"""The device table model: incremental fetch, generations, server-side sort/search/filter, live updates, export."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt

from console.fleet import DeviceQuery, ServerError
from tests.gui.fakes import FakeFleet
from ui.models.devices import DeviceTableModel, RowRole
from ui.tasks import TaskManager


def make_model(fleet: FakeFleet) -> tuple[DeviceTableModel, TaskManager]:
    tasks = TaskManager()
    model = DeviceTableModel(tasks)
    model.set_fleet(fleet)
    return model, tasks


def test_pages_arrive_in_batches_and_fetch_more_returns_at_once(qloop):
    fleet = FakeFleet(450)
    model, tasks = make_model(fleet)
    inserts: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserts.append((first, last)))
    assert model.rowCount() == 0  # set_fleet scheduled the first page; nothing is awaited inline
    qloop.wait_until(lambda: model.rowCount() == 200)
    assert inserts == [(0, 199)]
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 200 and model.loading
    qloop.wait_until(lambda: not model.loading)
    model.fetchMore(QModelIndex())
    qloop.wait_until(lambda: not model.loading)
    assert inserts == [(0, 199), (200, 399), (400, 449)]
    assert not model.canFetchMore(QModelIndex())
    assert model.total == 450
    # newest first by default, as the web UI
    assert model.data(model.index(0, 1)) == "Device 00449"
    qloop.run(tasks.shutdown())


def test_a_stale_page_never_lands_after_a_newer_query(qloop):
    fleet = FakeFleet(300)
    fleet.delay = lambda query, page: 0.3 if query.text == "" else 0.0
    model, tasks = make_model(fleet)
    model.set_query(DeviceQuery(text="00042"))  # overtakes the slow first page
    qloop.wait_until(lambda: model.rowCount() == 1)
    qloop.settle(0.4)
    assert [model.data(model.index(r, 1)) for r in range(model.rowCount())] == ["Device 00042"]
    qloop.run(tasks.shutdown())


def test_search_is_debounced_and_runs_on_the_server(qloop):
    fleet = FakeFleet(300)
    model, _tasks = make_model(fleet)
    qloop.wait_until(lambda: model.rowCount() == 200)
    fleet.calls.clear()
    for text in ("D", "De", "Device 0001"):
        model.set_search_text(text)
    qloop.wait_until(lambda: model.query.text == "Device 0001" and not model.loading)
    assert [c[0].text for c in fleet.calls] == ["Device 0001"]  # one request for the whole burst
    assert model.rowCount() == 10


def test_sort_filters_and_unsortable_columns(qloop):
    fleet = FakeFleet(100)
    model, tasks = make_model(fleet)
    qloop.wait_until(lambda: model.rowCount() == 100)
    model.sort(model.column_of_field("name"), Qt.SortOrder.AscendingOrder)
    qloop.wait_until(lambda: not model.loading and model.rowCount() == 100)
    assert model.query.sort == "name" and not model.query.descending
    assert model.data(model.index(0, 1)) == "Device 00000"
    model.set_profile_filter("meter")
    model.set_active_filter(False)
    qloop.wait_until(lambda: not model.loading)
    rows = [model.data(model.index(r, 0), RowRole) for r in range(model.rowCount())]
    assert rows and all(r.profile == "meter" and r.active is False for r in rows)
    assert model.data(model.index(0, model.column_of_field("active"))) == "Inactive"
    before = model.query
    model.sort(model.column_of_field("active"), Qt.SortOrder.AscendingOrder)  # not sortable server-side
    assert model.query is before
    qloop.run(tasks.shutdown())


def test_a_failed_page_stops_fetching_and_reports_the_servers_message(qloop):
    fleet = FakeFleet(100)
    fleet.fail_list = ServerError("Database is on fire.", status=500)
    tasks = TaskManager()
    model = DeviceTableModel(tasks)
    failures: list[str] = []
    model.load_failed.connect(failures.append)
    model.set_fleet(fleet)
    qloop.wait_until(lambda: failures)
    assert failures == ["Database is on fire."]
    assert not model.canFetchMore(QModelIndex())  # no retry storm
    model.reload()
    qloop.wait_until(lambda: model.rowCount() == 100)


def test_live_update_replaces_the_row_in_place(qloop):
    fleet = FakeFleet(10)
    model, _tasks = make_model(fleet)
    qloop.wait_until(lambda: model.rowCount() == 10)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): changed.append((a.row(), b.row())))
    row = model.row_at(3)
    import msgspec

    assert model.update_row(msgspec.structs.replace(row, active=not row.active))
    assert changed == [(3, 3)]
    assert model.row_at(3).active is (not row.active)
    assert model.rowCount() == 10


def test_export_writes_every_row_not_only_the_loaded_ones(qloop, tmp_path: Path):
    fleet = FakeFleet(2500)
    model, tasks = make_model(fleet)
    qloop.wait_until(lambda: model.rowCount() == 200)
    from ui.models.devices import export_devices_csv

    path = tmp_path / "devices.csv"
    count = qloop.run(export_devices_csv(fleet, model.query, path))
    assert count == 2500
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["id", "created", "name"]
    assert len(rows) == 2501
    assert {r[0] for r in rows[1:]} == {d.id for d in fleet.devices}
    assert not path.with_name("devices.csv.part").exists()
    qloop.run(tasks.shutdown())


def test_load_all_streams_every_device_in_few_inserts_and_keeps_the_selection_rows(qloop):
    fleet = FakeFleet(3000)
    model, tasks = make_model(fleet)
    qloop.wait_until(lambda: model.rowCount() == 200)
    first = model.row_at(0)
    inserts: list[int] = []
    model.rowsInserted.connect(lambda _p, a, b: inserts.append(b - a + 1))
    handle = model.load_all(page_size=100)
    qloop.wait_until(lambda: not handle.running, what="stream")
    assert model.rowCount() == 3000 and sum(inserts) == 2800
    assert len({model.row_at(r).id for r in range(3000)}) == 3000  # no duplicates of the first page
    assert model.row_at(0) is first  # existing rows keep their place and identity
    assert len(inserts) < 28  # pages are coalesced: fewer view relayouts than pages
    assert handle.done_count == 3000 and handle.total == 3000
    qloop.run(tasks.shutdown())
