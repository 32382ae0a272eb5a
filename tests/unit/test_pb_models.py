"""RecordModel's typed getters and the msgspec decoding of lists and records."""

from __future__ import annotations

import msgspec
import pytest

from console.pocketbase import RecordModel, ResultList
from console.pocketbase.models import RealtimeEvent, dec_hook

RECORD = RecordModel(
    {
        "id": "abc123def456ghi",
        "collectionId": "pbc_1",
        "collectionName": "devices",
        "title": "Sensor",
        "options": ["a", "b"],
        "status": True,
        "total": 12,
        "price": 9.5,
        "count_text": "41",
        "empty": None,
        "meta": {"fw": "1.3", "tags": ["x", "y"]},
        "expand": {"site": {"id": "s1", "title": "Plant"}, "peers": [{"id": "p1"}, {"id": "p2"}]},
    }
)


def test_seed_getters() -> None:
    assert RECORD.get_string_value("title") == "Sensor"
    assert RECORD.get_list_value("options") == ["a", "b"]
    assert RECORD.get_bool_value("status") is True
    assert RECORD.get_int_value("total") == 12
    assert RECORD.get_float_value("price") == 9.5
    assert RECORD.get_double_value("price") == 9.5


@pytest.mark.parametrize(
    ("getter", "key", "expected"),
    [
        ("get_string_value", "total", "12"),
        ("get_string_value", "status", "true"),
        ("get_string_value", "missing", ""),
        ("get_string_value", "empty", ""),
        ("get_string_value", "meta", '{"fw":"1.3","tags":["x","y"]}'),
        ("get_int_value", "count_text", 41),
        ("get_int_value", "price", 9),
        ("get_int_value", "title", 0),
        ("get_int_value", "status", 1),
        ("get_float_value", "count_text", 41.0),
        ("get_float_value", "missing", 0.0),
        ("get_bool_value", "total", True),
        ("get_bool_value", "empty", False),
        ("get_bool_value", "options", True),
        ("get_list_value", "title", ["Sensor"]),
        ("get_list_value", "empty", []),
    ],
)
def test_getters_convert_tolerantly(getter: str, key: str, expected: object) -> None:
    assert getattr(RECORD, getter)(key) == expected


def test_defaults_and_dotted_paths() -> None:
    assert RECORD.get("missing", "fallback") == "fallback"
    assert RECORD.get_int_value("missing", 7) == 7
    assert RECORD.get("meta.fw") == "1.3"
    assert RECORD.get("meta.tags.1") == "y"
    assert RECORD.get("expand.site.title") == "Plant"
    assert RECORD.get("meta.nope.deeper", 5) == 5


def test_well_known_fields_and_expand() -> None:
    assert (RECORD.id, RECORD.collection_id, RECORD.collection_name) == ("abc123def456ghi", "pbc_1", "devices")
    site = RECORD.expand["site"]
    assert isinstance(site, RecordModel) and site.get_string_value("title") == "Plant"
    peers = RECORD.get_expanded("peers")
    assert isinstance(peers, list) and [p.id for p in peers] == ["p1", "p2"]
    assert RecordModel({}).expand == {} and RecordModel({}).get_expanded("site") is None


def test_record_is_read_only_mapping() -> None:
    assert RECORD["title"] == "Sensor" and "title" in RECORD and len(RECORD) == 12
    with pytest.raises(TypeError):
        RECORD["title"] = "x"  # type: ignore[index]
    copy = RECORD.data
    copy["title"] = "changed"
    assert RECORD["title"] == "Sensor"
    assert RecordModel({"id": "1"}) == RecordModel({"id": "1"})


def test_decoding_lists_and_events_from_bytes() -> None:
    decoder = msgspec.json.Decoder(ResultList[RecordModel], dec_hook=dec_hook)
    page = decoder.decode(b'{"page":2,"perPage":1,"totalItems":-1,"totalPages":-1,"items":[{"id":"r1","n":1}]}')
    assert (page.page, page.per_page, page.total_items) == (2, 1, -1)
    assert isinstance(page.items[0], RecordModel) and page.items[0].get_int_value("n") == 1
    event = msgspec.json.Decoder(RealtimeEvent, dec_hook=dec_hook).decode(b'{"action":"delete","record":{"id":"x"}}')
    assert event.action == "delete" and event.record.id == "x"
    with pytest.raises(msgspec.ValidationError):
        decoder.decode(b'{"items":[1]}')
