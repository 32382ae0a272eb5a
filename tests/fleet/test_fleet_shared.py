"""What the UI relies on, checked the same way on both fleets (ThingsBoard emulator and a real PocketBase)."""

from __future__ import annotations

import json
import time

import pytest

from console.fleet import AuthenticationError, DeviceQuery, NotFoundError, PermissionDeniedError, Point
from tests.fleet.conftest import Backend, unique_key, wait_for


async def all_rows(backend: Backend, query: DeviceQuery, page_size: int = 1000) -> list:
    rows = []
    async for page in backend.fleet.iter_device_pages(query, page_size):
        rows.extend(page)
    return rows


async def test_counts_add_up_and_match_the_filtered_lists(backend: Backend):
    counts = await backend.fleet.device_counts()
    assert counts.total > 0 and counts.active > 0 and counts.inactive > 0
    assert counts.active + counts.inactive == counts.total
    assert (await backend.fleet.list_devices(DeviceQuery(), 0, 10)).total == counts.total
    assert (await backend.fleet.list_devices(DeviceQuery(active=True), 0, 10)).total == counts.active
    inactive = await backend.fleet.list_devices(DeviceQuery(active=False), 0, 1000)
    assert inactive.total == counts.inactive
    assert all(row.active is False for row in inactive.rows)


async def test_every_page_arrives_once_in_server_order(backend: Backend):
    query = DeviceQuery(sort="name", descending=False)
    total = (await backend.fleet.list_devices(query, 0, 1)).total
    pages = [page async for page in backend.fleet.iter_device_pages(query, 7)]
    rows = [row for page in pages for row in page]
    assert len(pages[0]) == 7 and len(pages) == -(-total // 7)
    assert len(rows) == total == len({row.id for row in rows})
    first_two = [*(await backend.fleet.list_devices(query, 0, 7)).rows]
    first_two += (await backend.fleet.list_devices(query, 1, 7)).rows
    assert [r.id for r in rows[:14]] == [r.id for r in first_two]
    page = await backend.fleet.list_devices(query, 1, 7)
    assert page.has_next is True
    assert (await backend.fleet.list_devices(query, (total - 1) // 7, 7)).has_next is False


@pytest.mark.parametrize("field", ["name", "created_time", "profile", "label"])
async def test_sorting_runs_on_the_server(backend: Backend, field: str):
    up = await all_rows(backend, DeviceQuery(sort=field, descending=False))
    down = await all_rows(backend, DeviceQuery(sort=field, descending=True))
    values = [getattr(row, field) for row in up]
    if isinstance(values[0], str):
        # empty values (null labels) may sort first or last, as the server's database does
        filled = [v for v in values if v]
        assert filled in (sorted(filled), sorted(filled, key=str.casefold))
        assert values[: len(filled)] == filled or values[-len(filled) :] == filled
    else:
        assert values == sorted(values)
    assert [getattr(r, field) for r in down] == values[::-1]


async def test_text_search_is_a_case_insensitive_substring(backend: Backend):
    target = (await backend.fleet.list_devices(DeviceQuery(sort="name", descending=False), 0, 1)).rows[0]
    needle = target.name[1:-1].swapcase()
    found = await all_rows(backend, DeviceQuery(text=needle))
    assert target.id in {row.id for row in found}
    for row in found:
        haystack = " ".join([row.name, row.label, row.type, row.profile, row.customer]).casefold()
        assert needle.casefold() in haystack
    assert await all_rows(backend, DeviceQuery(text="no device is called this 9f3k")) == []


async def test_filter_by_profile(backend: Backend):
    profiles = await backend.fleet.device_profiles()
    assert len(profiles) >= 2
    used = {row.profile for row in await all_rows(backend, DeviceQuery())}
    profile = sorted(used)[0]
    rows = await all_rows(backend, DeviceQuery(profile=profile))
    assert rows and {row.profile for row in rows} == {profile}


async def test_device_details_token_and_missing_device(backend: Backend):
    details = await backend.fleet.get_device(backend.device)
    assert details.row.id == backend.device and details.row.name
    token = await backend.fleet.access_token(backend.device)
    assert isinstance(token, str) and len(token) >= 8
    with pytest.raises(NotFoundError):
        await backend.fleet.get_device(backend.missing_device)


async def test_dashboards_list_export_and_link(backend: Backend):
    page = await backend.fleet.list_dashboards("", 0, 50)
    assert page.total == len(page.rows) > 0
    titles = [row.title for row in page.rows]
    assert titles == sorted(titles, key=str.casefold) or titles == sorted(titles)
    first = page.rows[0]
    exported = json.loads(await backend.fleet.dashboard_json(first.id))
    assert exported["title"] == first.title
    assert first.id in backend.fleet.dashboard_url(first.id)
    searched = await backend.fleet.list_dashboards(first.title[1:4].upper(), 0, 50)
    assert first.id in {row.id for row in searched.rows}


async def test_attributes_round_trip_with_types(backend: Backend):
    scopes = {scope.name: scope for scope in backend.fleet.attribute_scopes()}
    assert set(scopes) == {"CLIENT_SCOPE", "SHARED_SCOPE", "SERVER_SCOPE"}
    assert not scopes["CLIENT_SCOPE"].writable and scopes["SHARED_SCOPE"].writable
    prefix = unique_key("attr")
    values = {
        f"{prefix}_int": 42,
        f"{prefix}_float": 2.5,
        f"{prefix}_bool": True,
        f"{prefix}_text": "hello, world",
        f"{prefix}_json": {"mode": "eco", "levels": [1, 2]},
    }
    await backend.fleet.save_attributes(backend.device, "SHARED_SCOPE", values)
    read = {a.key: a.value for a in await backend.fleet.attributes(backend.device, "SHARED_SCOPE")}
    assert {key: read.get(key) for key in values} == values
    assert type(read[f"{prefix}_int"]) is int and type(read[f"{prefix}_bool"]) is bool

    await backend.fleet.save_attributes(backend.device, "SHARED_SCOPE", {f"{prefix}_int": 43})
    read = {a.key: a.value for a in await backend.fleet.attributes(backend.device, "SHARED_SCOPE")}
    assert read[f"{prefix}_int"] == 43

    await backend.fleet.delete_attributes(backend.device, "SHARED_SCOPE", list(values))
    read = {a.key for a in await backend.fleet.attributes(backend.device, "SHARED_SCOPE")}
    assert not read & set(values)
    with pytest.raises(PermissionDeniedError):
        await backend.fleet.save_attributes(backend.device, "CLIENT_SCOPE", {"x": 1})


async def test_history_is_complete_ascending_and_aggregates(backend: Backend):
    key = unique_key()
    start = (int(time.time() * 1000) // 60_000 - 60) * 60_000  # an hour ago, on a whole minute
    for i in range(250):  # more than ThingsBoard's default limit of 100 per request
        await backend.post(backend.device, start + i * 1000, {key: i})
    history = await backend.fleet.telemetry_history(backend.device, [key], start, start + 250_000)
    assert history[key] == [Point(ts=start + i * 1000, value=i) for i in range(250)]
    part = await backend.fleet.telemetry_history(backend.device, [key], start + 10_000, start + 20_000)
    assert [p.value for p in part[key]] == list(range(10, 20))  # [start, end)

    avg = await backend.fleet.telemetry_history(
        backend.device, [key], start, start + 250_000, agg="AVG", interval_ms=50_000
    )
    assert [p.ts for p in avg[key]] == [start + 25_000 + i * 50_000 for i in range(5)]
    assert [float(p.value) for p in avg[key]] == [24.5 + 50 * i for i in range(5)]
    maxima = await backend.fleet.telemetry_history(
        backend.device, [key], start, start + 250_000, agg="MAX", interval_ms=100_000
    )
    assert [float(p.value) for p in maxima[key]] == [99, 199, 249]

    assert key in await backend.fleet.telemetry_keys(backend.device)
    latest = {v.key: v for v in await backend.fleet.latest_telemetry(backend.device)}
    assert latest[key].value == 249 and latest[key].ts == start + 249_000


async def test_existing_history_and_latest_values(backend: Backend):
    keys = await backend.fleet.telemetry_keys(backend.device)
    latest = await backend.fleet.latest_telemetry(backend.device)
    assert keys and {v.key for v in latest} >= set(keys[:1])
    assert all(isinstance(v.value, int | float) for v in latest)
    now = int(time.time() * 1000)
    history = await backend.fleet.telemetry_history(backend.device, keys, now - 20 * 60_000, now)
    assert history and all(len(points) >= 10 for points in history.values())
    for points in history.values():
        assert [p.ts for p in points] == sorted({p.ts for p in points})


async def test_live_telemetry_arrives_once_in_order(backend: Backend):
    key = unique_key("live")
    got: list[tuple[str, str, Point]] = []
    subscription = await backend.fleet.subscribe_telemetry(
        [backend.device], [key], lambda device, k, points: got.extend((device, k, p) for p in points)
    )
    try:
        base = int(time.time() * 1000)
        for i in range(5):
            await backend.post(backend.device, base + i * 10, {key: i * 1.5})
        await wait_for(lambda: len(got) >= 5)
        assert got == [(backend.device, key, Point(ts=base + i * 10, value=i * 1.5)) for i in range(5)]
    finally:
        await subscription.close()
    await backend.post(backend.device, int(time.time() * 1000) + 100, {key: 99.0})
    await backend.fleet.latest_telemetry(backend.device)  # a round trip: anything late would have arrived by now
    assert len(got) == 5


async def test_live_attribute_changes(backend: Backend):
    key = unique_key("shared")
    seen: list[tuple[str, object, str]] = []
    subscription = await backend.fleet.subscribe_attributes(
        backend.device, lambda device, attrs: seen.extend((a.key, a.value, a.scope) for a in attrs)
    )
    try:
        await backend.fleet.save_attributes(backend.device, "SHARED_SCOPE", {key: 7})
        await wait_for(lambda: (key, 7, "SHARED_SCOPE") in seen)
        await backend.fleet.delete_attributes(backend.device, "SHARED_SCOPE", [key])
        await wait_for(lambda: (key, None, "SHARED_SCOPE") in seen)
    finally:
        await subscription.close()


async def test_wrong_password_is_an_authentication_error(backend: Backend):
    states = []
    fleet = backend.make_fleet("definitely-wrong-password")
    fleet.on_state(lambda state, detail: states.append(state.value))
    with pytest.raises(AuthenticationError) as info:
        await fleet.connect()
    assert info.value.message
    assert states[-1] == "failed"
    await fleet.close()
