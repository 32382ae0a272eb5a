"""Record CRUD, listing and paging against a real PocketBase."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from console.errors import (
    AbortedError,
    ApiError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
)
from console.pocketbase import PocketBase, RecordModel
from tests.pocketbase.conftest import unique


class CountingTransport(httpx.AsyncHTTPTransport):
    """A real transport that remembers the pages it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "page" in request.url.params:
            self.pages.append(int(request.url.params["page"]))
        return await super().handle_async_request(request)


async def _seed(pb: PocketBase, name: str, count: int) -> list[RecordModel]:
    return list(
        await asyncio.gather(
            *(pb.collection(name).create({"name": f"dev{i:04d}", "temperature": i}) for i in range(count))
        )
    )


async def test_crud_round_trip(pb, make_collection) -> None:
    col = await make_collection()
    records = pb.collection(col.name)
    created = await records.create({"name": "Sensor 1", "status": "online", "temperature": 21.5, "meta": {"fw": "1.3"}})
    assert len(created.id) == 15 and created.collection_name == col.name
    fetched = await records.get_one(created.id)
    assert fetched.get_string_value("name") == "Sensor 1"
    assert fetched.get("meta.fw") == "1.3"
    updated = await records.update(created.id, {"status": "maintenance", "temperature+": 10})
    assert updated.get_string_value("status") == "maintenance"
    assert updated.get_float_value("temperature") == pytest.approx(31.5)
    await records.delete(created.id)
    with pytest.raises(NotFoundError) as caught:
        await records.get_one(created.id)
    assert caught.value.status == 404 and caught.value.message
    with pytest.raises(NotFoundError):
        await records.delete(created.id)


async def test_get_list_filter_sort_fields_and_totals(pb, make_collection) -> None:
    col = await make_collection()
    await _seed(pb, col.name, 12)
    page = await pb.collection(col.name).get_list(
        2, 3, filter=pb.filter("temperature >= {:t}", t=4), sort="-temperature", fields="id,name,temperature"
    )
    assert (page.page, page.per_page, page.total_items, page.total_pages) == (2, 3, 8, 3)
    assert [r.get_int_value("temperature") for r in page.items] == [8, 7, 6]
    assert set(page.items[0].keys()) == {"id", "name", "temperature"}
    skipped = await pb.collection(col.name).get_list(1, 5, skip_total=True)
    assert skipped.total_items == -1 and skipped.total_pages == -1 and len(skipped.items) == 5


async def test_get_full_list_is_complete_ordered_and_concurrent(pb_server, pb, make_collection) -> None:
    col = await make_collection()
    await _seed(pb, col.name, 57)
    transport = CountingTransport()
    async with PocketBase(pb_server.url, transport=transport) as client:
        await client.collection("_superusers").auth_with_password(
            pb_server.superuser_email, pb_server.superuser_password
        )
        items = await client.collection(col.name).get_full_list(batch=10, sort="temperature", concurrency=3)
    assert [r.get_int_value("temperature") for r in items] == list(range(57))
    assert sorted(transport.pages) == [1, 2, 3, 4, 5, 6]


async def test_iter_pages_hands_over_page_one_before_asking_for_more(pb_server, pb, make_collection) -> None:
    col = await make_collection()
    await _seed(pb, col.name, 25)
    transport = CountingTransport()
    async with PocketBase(pb_server.url, transport=transport) as client:
        await client.collection("_superusers").auth_with_password(
            pb_server.superuser_email, pb_server.superuser_password
        )
        seen: list[int] = []
        pages = client.collection(col.name).iter_pages(10, sort="temperature")
        async for page in pages:
            if not seen:
                assert transport.pages == [1], "the first page must reach the caller before the rest is fetched"
                # rows added while we page are still picked up (the last known page comes back full)
                await asyncio.gather(
                    *(pb.collection(col.name).create({"name": "late", "temperature": 100 + i}) for i in range(10))
                )
            seen.extend(r.get_int_value("temperature") for r in page)
    assert seen == [*range(25), *range(100, 110)]


async def test_get_first_list_item(pb, make_collection) -> None:
    col = await make_collection()
    await _seed(pb, col.name, 3)
    found = await pb.collection(col.name).get_first_list_item(pb.filter("name = {:n}", n="dev0001"))
    assert found.get_int_value("temperature") == 1
    with pytest.raises(NotFoundError):
        await pb.collection(col.name).get_first_list_item(pb.filter("name = {:n}", n="nobody"))


async def test_expand_relations(pb, make_collection) -> None:
    sites = await make_collection("sites", fields=[{"name": "title", "type": "text"}])
    devices = await make_collection(
        fields=[
            {"name": "name", "type": "text"},
            {"name": "site", "type": "relation", "collectionId": sites.id, "maxSelect": 1},
            {"name": "peers", "type": "relation", "collectionId": sites.id, "maxSelect": 5},
        ]
    )
    plant = await pb.collection(sites.name).create({"title": "Plant A"})
    other = await pb.collection(sites.name).create({"title": "Plant B"})
    device = await pb.collection(devices.name).create({"name": "d", "site": plant.id, "peers": [plant.id, other.id]})
    fetched = await pb.collection(devices.name).get_one(device.id, expand="site,peers")
    site = fetched.get_expanded("site")
    assert isinstance(site, RecordModel) and site.get_string_value("title") == "Plant A"
    peers = fetched.expand["peers"]
    assert isinstance(peers, list) and [p.get_string_value("title") for p in peers] == ["Plant A", "Plant B"]
    assert fetched.get("expand.site.title") == "Plant A"
    assert fetched.get_expanded("missing") is None


async def test_validation_error_is_readable(pb, make_collection) -> None:
    col = await make_collection()
    with pytest.raises(ApiError) as caught:
        await pb.collection(col.name).create({"name": "x", "status": "exploded"})
    assert caught.value.status == 400
    assert "status" in caught.value.message  # the field's own complaint reaches the message
    assert caught.value.response["data"]["status"]["code"] == "validation_invalid_value"


async def test_guest_rules_map_to_permission_and_not_found(pb_server, make_collection) -> None:
    col = await make_collection()
    async with PocketBase(pb_server.url) as guest:
        with pytest.raises(PermissionDeniedError):
            await guest.collection(col.name).create({"name": "x"})
        with pytest.raises(NotFoundError):
            await guest.collection(unique("nothing_here")).get_list()
        assert (await guest.collection(col.name).get_list()).items == []


async def test_superseded_request_raises_aborted(pb, make_collection) -> None:
    col = await make_collection()
    await _seed(pb, col.name, 3)
    records = pb.collection(col.name)
    first = asyncio.ensure_future(records.get_list(filter="name ~ 'de'", request_key="search"))
    await asyncio.sleep(0)  # the first request is in flight
    second = asyncio.ensure_future(records.get_list(filter="name ~ 'dev0002'", request_key="search"))
    with pytest.raises(AbortedError) as caught:
        await first
    assert caught.value.is_abort
    assert [r.get_string_value("name") for r in (await second).items] == ["dev0002"]
    # different keys (and no key) never cancel each other
    a, b, c = await asyncio.gather(
        records.get_list(request_key="a"), records.get_list(request_key="b"), records.get_list()
    )
    assert len(a.items) == len(b.items) == len(c.items) == 3


async def test_cancelling_the_caller_propagates_cancelled_error(pb, make_collection) -> None:
    col = await make_collection()
    for key in (None, "k"):
        task = asyncio.ensure_future(pb.collection(col.name).get_list(request_key=key))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (await pb.collection(col.name).get_list(request_key="k")).items == []


async def test_unreachable_server_is_a_network_error(pb_server_factory) -> None:
    server = pb_server_factory()
    url = server.url
    server.stop()
    async with PocketBase(url) as pb:
        with pytest.raises(NetworkError) as caught:
            await pb.health.check()
    assert "127.0.0.1" in caught.value.message


async def test_typed_models_decode_straight_into_structs(pb, make_collection) -> None:
    import msgspec

    class Device(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
        id: str
        name: str = ""
        temperature: float = 0.0
        collection_name: str = ""

    col = await make_collection()
    await _seed(pb, col.name, 23)
    items = await pb.collection(col.name).get_full_list(batch=10, sort="temperature", model=Device)
    assert all(type(d) is Device for d in items)
    assert [d.temperature for d in items] == list(range(23))
    assert items[0].name == "dev0000" and items[0].collection_name == col.name
    page = await pb.collection(col.name).get_list(1, 2, sort="-temperature", model=Device)
    assert [d.name for d in page.items] == ["dev0022", "dev0021"] and page.total_items == 23

    class Wrong(msgspec.Struct):
        temperature: str

    with pytest.raises(ApiError) as caught:
        await pb.collection(col.name).get_list(model=Wrong)
    assert "decoded" in caught.value.message
