"""Compact records: list pages keep each record as its JSON slice and decode it on first access.

Whatever a caller can observe must be the same as for a record decoded eagerly into a dict: values of every getter,
equality, expand access, read-only mapping behaviour, pickling and copying, re-encoding.
"""

from __future__ import annotations

import asyncio
import copy
import pickle
from typing import Any

import httpx
import msgspec
import pytest

from console.errors import ApiError
from console.pocketbase import PocketBase, RecordModel
from console.pocketbase.models import RecordPageDecoder, dec_hook, enc_hook
from console.pocketbase.records import _first_page_size

RECORDS: list[dict[str, Any]] = [
    {
        "id": "abc123def456ghi",
        "collectionId": "pbc_1",
        "collectionName": "devices",
        "created": "2026-01-02 03:04:05.678Z",
        "updated": "2026-01-02 03:04:05.678Z",
        "name": "Sensor \u00e9 \"quoted\" \\ 1",
        "temperature": 21.5,
        "humidity": 40,
        "active": True,
        "count": "17",
        "status": "",
        "tags": ["a", "b"],
        "meta": {"fw": "1.3", "nested": {"list": [1, 2, {"x": "y"}]}},
        "nothing": None,
        "expand": {
            "site": {"id": "site00000000001", "collectionName": "sites", "title": "Plant A"},
            "peers": [{"id": "peer00000000001", "name": "P1"}, {"id": "peer00000000002", "name": "P2"}],
        },
    },
    {"id": "second000000000", "collectionName": "devices", "active": 0, "temperature": "nan?", "tags": "solo"},
    {},
    {"id": 12, "name": 5, "active": "yes", "tags": [], "meta": None},
]
PAGE = msgspec.json.encode({"page": 1, "perPage": 30, "totalItems": 4, "totalPages": 1, "items": RECORDS})
KEYS = [
    "id", "name", "temperature", "humidity", "active", "count", "status", "tags", "meta", "nothing", "missing",
    "meta.fw", "meta.nested.list.2.x", "tags.0", "tags.-1", "tags.5", "expand.site.title", "expand.peers.1.name",
]  # fmt: skip


def _compact() -> list[RecordModel]:
    return RecordPageDecoder().decode(PAGE).items


def _eager() -> list[RecordModel]:
    decoder = msgspec.json.Decoder(dict[str, list[RecordModel]], dec_hook=dec_hook)
    return decoder.decode(msgspec.json.encode({"items": RECORDS}))["items"]


def test_page_fields_are_kept() -> None:
    page = RecordPageDecoder().decode(PAGE)
    assert (page.page, page.per_page, page.total_items, page.total_pages) == (1, 30, 4, 1)
    assert all(type(item) is RecordModel for item in page.items)


@pytest.mark.parametrize("index", range(len(RECORDS)))
def test_every_getter_answers_as_the_eager_decode(index: int) -> None:
    compact, eager = _compact()[index], _eager()[index]
    for key in KEYS:
        assert compact.get(key) == eager.get(key), key
        assert compact.get(key, "dflt") == eager.get(key, "dflt"), key
        assert compact.get_string_value(key) == eager.get_string_value(key), key
        assert compact.get_list_value(key) == eager.get_list_value(key), key
        assert compact.get_bool_value(key) == eager.get_bool_value(key), key
        assert compact.get_int_value(key) == eager.get_int_value(key), key
        assert compact.get_float_value(key, -1.5) == eager.get_float_value(key, -1.5), key
    for name in ("id", "collection_id", "collection_name", "created", "updated", "data"):
        assert getattr(compact, name) == getattr(eager, name), name
    assert compact == eager and eager == compact
    assert dict(compact) == dict(eager) == RECORDS[index]
    assert len(compact) == len(RECORDS[index]) and list(compact) == list(RECORDS[index])
    assert ("name" in compact) == ("name" in RECORDS[index])
    assert repr(compact) == repr(eager)


def test_id_first_then_fields() -> None:
    """Reading `id` alone (row identity in a table) and then the fields gives the same values as the other order."""
    first, second = _compact(), _compact()
    assert [r.id for r in first] == ["abc123def456ghi", "second000000000", "", "12"]
    assert [r.to_dict() for r in first] == [r.to_dict() for r in second] == RECORDS
    assert [r.id for r in second] == [r.id for r in first]


def test_expand_access() -> None:
    record = _compact()[0]
    site = record.get_expanded("site")
    assert isinstance(site, RecordModel) and site.id == "site00000000001"
    assert site.get_string_value("title") == "Plant A"
    peers = record.expand["peers"]
    assert isinstance(peers, list) and [p.get_string_value("name") for p in peers] == ["P1", "P2"]
    assert record.get_expanded("missing") is None
    assert _compact()[1].expand == {} and _compact()[1].get_expanded("site") is None


def test_records_are_read_only_and_copies_are_independent() -> None:
    record = _compact()[0]
    with pytest.raises(TypeError):
        record["name"] = "changed"  # type: ignore[index]
    copied = record.to_dict()
    copied["name"] = "changed"
    data = record.data
    data["temperature"] = 0
    assert record.get_string_value("name") == RECORDS[0]["name"]
    assert record.get_float_value("temperature") == 21.5
    assert record != RecordModel(copied)


def test_unequal_records_and_other_types() -> None:
    first, second, empty, _ = _compact()
    assert first != second and empty == RecordModel() and empty == RecordModel({})
    assert first != RECORDS[0]  # a record is not equal to a plain dict (as before)
    with pytest.raises(TypeError):
        hash(first)


@pytest.mark.parametrize("read_first", [False, True])
def test_pickle_and_copy(read_first: bool) -> None:
    record = _compact()[0]
    if read_first:
        record.get("name")
    for clone in (pickle.loads(pickle.dumps(record)), copy.copy(record), copy.deepcopy(record)):
        assert type(clone) is RecordModel
        assert clone == record and clone.to_dict() == RECORDS[0]
        assert clone.get("expand.site.title") == "Plant A"
    deep = copy.deepcopy(record)
    assert deep.get("meta.nested.list") is not record.get("meta.nested.list")


def test_encoding_gives_the_same_json() -> None:
    """Records sent back (batch bodies, auth-store saves) encode to the same JSON, compact or not."""
    encoder = msgspec.json.Encoder(enc_hook=enc_hook)
    for compact, raw in zip(_compact(), RECORDS, strict=True):
        assert msgspec.json.decode(encoder.encode({"r": compact})) == {"r": raw}
        compact.get("id")  # decoded now
        assert msgspec.json.decode(encoder.encode([compact])) == [raw]


@pytest.mark.parametrize("item", [b"5", b'"text"', b"[1, 2]", b"null"])
def test_a_non_object_item_is_a_decode_error(item: bytes) -> None:
    page = b'{"page":1,"perPage":30,"items":[{"id":"x"},' + item + b"]}"
    with pytest.raises(msgspec.ValidationError):
        RecordPageDecoder().decode(page)


def test_an_empty_or_short_page() -> None:
    assert RecordPageDecoder().decode(b'{"page":3,"perPage":30,"items":[]}').items == []
    assert RecordPageDecoder().decode(b'{"page":1}').items == []


async def test_live_list_records_match_single_record_reads(pb_server) -> None:
    """`get_list`/`get_full_list` records (compact) equal `get_one` records (eager) from a real server."""
    async with PocketBase(pb_server.url) as pb:
        await pb.collection("_superusers").auth_with_password(pb_server.superuser_email, pb_server.superuser_password)
        name = f"compact_{id(pb)}"
        await pb.collections.create(
            {
                "name": name,
                "type": "base",
                "fields": [
                    {"name": "name", "type": "text"},
                    {"name": "temperature", "type": "number"},
                    {"name": "meta", "type": "json"},
                ],
            }
        )
        records = pb.collection(name)
        parent = await records.create({"name": "parent", "temperature": 100, "meta": {"fw": "1.0"}})
        col = await pb.collections.get_one(name)
        await pb.collections.update(
            name,
            {"fields": [*col.fields, {"name": "parent", "type": "relation", "collectionId": col.id, "maxSelect": 1}]},
        )
        made = [parent]
        for i in range(5):
            made.append(await records.create({"name": f"d{i}", "temperature": i + 0.5, "parent": parent.id}))
        listed = await records.get_full_list(batch=2, sort="temperature", expand="parent")
        assert [r.id for r in listed] == [r.id for r in [*made[1:], parent]]
        for record in listed:
            one = await records.get_one(record.id, expand="parent")
            assert record == one and record.to_dict() == one.to_dict()
            assert record.get_float_value("temperature") == one.get_float_value("temperature")
            if record.id != parent.id:
                assert record.get("expand.parent.name") == "parent"
                expanded = record.get_expanded("parent")
                assert isinstance(expanded, RecordModel) and expanded.id == parent.id
        page = await records.get_list(1, 30, filter=pb.filter("name = {:n}", n="d3"))
        assert [r.get_string_value("name") for r in page.items] == ["d3"] and page.total_items == 1
        with pytest.raises(ApiError):
            await records.get_list(1, 30, filter="nosuchfield = 1")
        await pb.collections.delete(name)


# --- a small first page (iter_pages / get_full_list) -----------------------------------------------


class _PageLog(httpx.AsyncHTTPTransport):
    """A real transport that remembers (page, perPage) of every list request."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[int, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "page" in request.url.params:
            self.requests.append((int(request.url.params["page"]), int(request.url.params["perPage"])))
        return await super().handle_async_request(request)


def test_first_page_size_rules() -> None:
    assert _first_page_size(1000, None) == 200  # the default: 200, then 2..5 of 200, then pages of 1000
    assert _first_page_size(1000, 250) == 250
    assert _first_page_size(10, None) == 10  # a batch no bigger than the first page: unchanged
    assert _first_page_size(300, None) == 300  # 200 does not tile 300
    assert _first_page_size(5000, None) == 5000  # the server clamps it: page 1 must show what it used
    with pytest.raises(ValueError):
        _first_page_size(1000, 0)


async def test_small_first_page_then_full_pages(pb_server) -> None:
    transport = _PageLog()
    async with PocketBase(pb_server.url, transport=transport) as pb:
        await pb.collection("_superusers").auth_with_password(pb_server.superuser_email, pb_server.superuser_password)
        name = f"firstpage_{id(pb)}"
        await pb.collections.create({"name": name, "type": "base", "fields": [{"name": "n", "type": "number"}]})
        records = pb.collection(name)
        await asyncio.gather(*(records.create({"n": i}) for i in range(57)))

        transport.requests.clear()
        sizes: list[int] = []
        seen: list[int] = []
        async for page in records.iter_pages(10, sort="n", first_batch=5, concurrency=3):
            if not sizes:
                assert transport.requests == [(1, 5)], "page 1 (small) reaches the caller before the rest is asked"
            sizes.append(len(page))
            seen.extend(r.get_int_value("n") for r in page)
        assert seen == list(range(57)) and sizes == [5, 5, 10, 10, 10, 10, 7]
        assert sorted(transport.requests) == [(1, 5), (2, 5), (2, 10), (3, 10), (4, 10), (5, 10), (6, 10)]

        full = await records.get_full_list(10, sort="n", first_batch=5)
        assert [r.get_int_value("n") for r in full] == list(range(57))

        # rows added while paging are still picked up after the small pages
        transport.requests.clear()
        seen = []
        async for page in records.iter_pages(10, sort="n", filter="n < 7 || n >= 100", first_batch=5):
            if not seen:
                await asyncio.gather(*(records.create({"n": 100 + i}) for i in range(10)))
            seen.extend(r.get_int_value("n") for r in page)
        assert seen == [*range(7), *range(100, 110)]
        await pb.collections.delete(name)
