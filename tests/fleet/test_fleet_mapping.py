"""Pure pieces of the fleet adapters: record → row mapping, server-side sort/filter strings, aggregation."""

from __future__ import annotations

import pytest

from console.demo.schema import row_id
from console.fleet.base import DeviceQuery, Point, aggregate_points
from console.fleet.pocketbase import (
    attribute_from_record,
    dashboard_row_from_record,
    device_filter,
    device_row_from_record,
    device_sort,
    parse_pb_date,
)

DEVICE_RECORD = {
    "collectionId": "pbc_1",
    "collectionName": "devices",
    "id": "abcdefghij12345",
    "name": "TH-LYO-0001",
    "label": "Lobby 3",
    "type": "thermostat",
    "profile": "thermostat",
    "customer": "Acme Foods",
    "active": False,
    "gateway": True,
    "created": "2026-11-23 18:32:28.791Z",
    "created_time": 0,
}


def test_device_record_becomes_a_row():
    row = device_row_from_record(DEVICE_RECORD)
    assert row.id == "abcdefghij12345"
    assert (row.name, row.label, row.profile, row.customer, row.type) == (
        "TH-LYO-0001",
        "Lobby 3",
        "thermostat",
        "Acme Foods",
        "thermostat",
    )
    assert row.active is False and row.gateway is True
    assert row.created_time == parse_pb_date("2026-11-23 18:32:28.791Z") == 1795458748791
    assert device_row_from_record({**DEVICE_RECORD, "created_time": 1700000000000}).created_time == 1700000000000


def test_pb_dates():
    assert parse_pb_date("1970-01-01 00:00:01.500Z") == 1500
    assert parse_pb_date("") == 0
    assert parse_pb_date("not a date") == 0


def test_dashboard_and_attribute_records():
    dash = dashboard_row_from_record(
        {"id": "d1", "title": "Cold chain", "customers": ["A", "B"], "public": True, "created": "1970-01-01 00:00:02Z"}
    )
    assert (dash.title, dash.customers, dash.public, dash.created_time) == ("Cold chain", ("A", "B"), True, 2000)
    attr = attribute_from_record(
        {"key": "location", "scope": "SERVER_SCOPE", "value": {"lat": 1.5}, "last_update_ts": 7}
    )
    assert (attr.key, attr.scope, attr.value, attr.last_update_ts) == ("location", "SERVER_SCOPE", {"lat": 1.5}, 7)


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        ("created_time", True, "-created_time,-id"),
        ("name", False, "name,id"),
        ("profile", False, "profile,id"),
        ("customer", True, "-customer,-id"),
        ("no_such_field", False, "created_time,id"),
    ],
)
def test_device_sort_maps_row_fields(sort: str, descending: bool, expected: str):
    assert device_sort(DeviceQuery(sort=sort, descending=descending)) == expected


def test_device_filter_binds_user_text_safely():
    assert device_filter(DeviceQuery()) == ""
    text = device_filter(DeviceQuery(text="o'clock \\ x", profile="thermostat", active=True))
    assert "name ~ 'o\\'clock \\\\ x'" in text
    assert "profile = 'thermostat'" in text
    assert text.endswith("active = true")


def test_row_ids_are_stable_pocketbase_ids():
    ident = row_id("dev", "SERVER_SCOPE", "active")
    assert ident == row_id("dev", "SERVER_SCOPE", "active")
    assert len(ident) == 15 and ident.isalnum() and ident == ident.lower()
    assert ident != row_id("dev", "SHARED_SCOPE", "active")
    assert row_id("a", "bc") != row_id("ab", "c")


def test_aggregation_matches_thingsboard_buckets():
    points = [Point(ts=t, value=v) for t, v in [(0, 1), (400, 3), (1000, "5"), (1999, 7), (2500, "text")]]
    avg = aggregate_points(points, 0, 2600, 1000, "AVG")
    # buckets [0,1000) [1000,2000) [2000,2600): midpoints 500, 1500, 2300; the text-only bucket is skipped
    assert avg == [Point(ts=500, value=2.0), Point(ts=1500, value=6.0)]
    assert aggregate_points(points, 0, 2600, 1000, "COUNT") == [
        Point(ts=500, value=2),
        Point(ts=1500, value=2),
        Point(ts=2300, value=1),
    ]
    assert [p.value for p in aggregate_points(points, 0, 2600, 1000, "MAX")] == [3, 7.0]
    assert [p.value for p in aggregate_points(points, 0, 2600, 1000, "SUM")] == [4, 12.0]
    assert aggregate_points(points, 1000, 1500, 1000, "MIN") == [Point(ts=1250, value=5.0)]
    with pytest.raises(ValueError):
        aggregate_points(points, 0, 10, 1000, "MEDIAN")


def test_live_filters_cover_every_device_within_the_topic_limit():
    from urllib.parse import quote

    from console.fleet.pocketbase_query import device_filters

    ids = [row_id("device", str(i)) for i in range(300)]
    filters = device_filters(ids, ["temperature", "humidity"])
    assert len(filters) > 1
    assert all(len(quote(f)) <= 2000 for f in filters)
    assert sorted(i for f in filters for i in ids if f"'{i}'" in f) == sorted(ids)
    assert all(f.endswith("(key = 'temperature' || key = 'humidity')") for f in filters)
    assert device_filters([], []) == []
