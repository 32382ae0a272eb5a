"""Paging helpers and the never-truncating history helper, against in-memory fakes."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from console.thingsboard import EntityId, PageData, PageLink, ThingsboardClient, fetch_all, iter_all, iter_pages


class FakeCollection:
    """A paged collection that records how many requests are in flight at once."""

    def __init__(self, size: int, *, jitter: bool = True) -> None:
        self.items = list(range(size))
        self.in_flight = self.peak = self.calls = 0
        self.jitter = jitter
        self.grow_after_first = 0

    async def fetch(self, link: PageLink) -> PageData[int]:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            for _ in range(random.randint(0, 5) if self.jitter else 1):
                await asyncio.sleep(0)
            start = link.page * link.page_size
            chunk = self.items[start : start + link.page_size]
            total = len(self.items)
            page = PageData(
                data=chunk,
                total_pages=-(-total // link.page_size),
                total_elements=total,
                has_next=total > start + len(chunk),
            )
            if self.calls == 1 and self.grow_after_first:
                self.items.extend(range(total, total + self.grow_after_first))
            return page
        finally:
            self.in_flight -= 1


async def test_iter_all_yields_every_item_in_order() -> None:
    coll = FakeCollection(95)
    assert [item async for item in iter_all(coll.fetch, PageLink(10))] == list(range(95))
    assert coll.peak == 1


@pytest.mark.parametrize(
    ("size", "page_size", "window"), [(0, 10, 4), (10, 10, 4), (1001, 10, 4), (57, 5, 1), (30, 7, 50)]
)
async def test_fetch_all_is_complete_ordered_and_bounded(size: int, page_size: int, window: int) -> None:
    coll = FakeCollection(size)
    items = await fetch_all(coll.fetch, PageLink(page_size), max_in_flight=window)
    assert items == list(range(size))
    assert coll.peak <= window
    assert coll.calls == max(1, -(-size // page_size))


async def test_fetch_all_really_runs_requests_concurrently() -> None:
    coll = FakeCollection(400, jitter=False)
    await fetch_all(coll.fetch, PageLink(10), max_in_flight=4)
    assert coll.peak == 4


async def test_iter_pages_yields_first_page_before_the_rest_arrive() -> None:
    coll = FakeCollection(100)
    pages = iter_pages(coll.fetch, PageLink(10), max_in_flight=4)
    first = await anext(pages)
    assert first.data == list(range(10)) and coll.calls == 1
    rest = [page.data async for page in pages]
    assert [x for chunk in rest for x in chunk] == list(range(10, 100))


async def test_items_added_while_paging_are_not_lost() -> None:
    coll = FakeCollection(50)
    coll.grow_after_first = 7
    assert await fetch_all(coll.fetch, PageLink(10), max_in_flight=3) == list(range(57))


async def test_a_failing_page_cancels_the_rest_and_raises() -> None:
    coll = FakeCollection(200)
    original = coll.fetch

    async def failing(link: PageLink) -> PageData[int]:
        if link.page == 3:
            raise RuntimeError("boom")
        return await original(link)

    with pytest.raises(RuntimeError, match="boom"):
        await fetch_all(failing, PageLink(10), max_in_flight=4)
    await asyncio.sleep(0.01)
    assert coll.in_flight == 0


# --- time-series history --------------------------------------------------------------------------


class FakeHistory:
    """ThingsBoard's history endpoint: [startTs, endTs), at most `limit` points per key, orderBy honoured."""

    def __init__(self, series: dict[str, list[int]]) -> None:
        self.series = {key: sorted(ts) for key, ts in series.items()}
        self.requests = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        q = request.url.params
        keys = q["keys"].split(",")
        start, end, limit = int(q["startTs"]), int(q["endTs"]), int(q.get("limit", "100"))
        out = {}
        for key in keys:
            points = [ts for ts in self.series.get(key, []) if start <= ts < end]
            if q.get("orderBy", "DESC") == "DESC":
                points.reverse()
            points = points[:limit]
            if points:
                out[key] = [{"ts": ts, "value": str(ts * 2)} for ts in points]
        return httpx.Response(200, json=out)


def history_client(fake: FakeHistory) -> ThingsboardClient:
    return ThingsboardClient("http://tb.test", api_key="k", transport=httpx.MockTransport(fake.handler))


DEVICE = EntityId("DEVICE", "d-1")


@pytest.mark.parametrize("windows", [1, 3, 16])
async def test_history_is_complete_ascending_without_duplicates(windows: int) -> None:
    rng = random.Random(7)
    temperature = rng.sample(range(0, 1_000_000), 2345)
    humidity = rng.sample(range(0, 1_000_000), 99)
    fake = FakeHistory({"temperature": temperature, "humidity": humidity})
    async with history_client(fake) as tb:
        result = await tb.attributes.get_timeseries_history(
            DEVICE, ["temperature", "humidity", "pressure"], 0, 1_000_000, limit=100, windows=windows
        )
    assert [p.ts for p in result["temperature"]] == sorted(temperature)
    assert [p.ts for p in result["humidity"]] == sorted(humidity)
    assert result["pressure"] == []
    assert result["temperature"][0].value == str(result["temperature"][0].ts * 2)
    assert fake.requests >= 24  # the cap really was hit and continued past


async def test_history_end_is_exclusive_and_exact_limit_multiple_is_complete() -> None:
    fake = FakeHistory({"t": list(range(0, 200))})  # exactly 2 × limit points
    async with history_client(fake) as tb:
        result = await tb.attributes.get_timeseries_history(DEVICE, ["t"], 0, 200, limit=100)
        assert [p.ts for p in result["t"]] == list(range(200))
        inner = await tb.attributes.get_timeseries_history(DEVICE, ["t"], 10, 20, limit=3)
        assert [p.ts for p in inner["t"]] == list(range(10, 20))


async def test_single_request_would_truncate_silently() -> None:
    """The plain endpoint caps at `limit`: this is what the history helper protects against."""
    fake = FakeHistory({"t": list(range(500))})
    async with history_client(fake) as tb:
        raw = await tb.attributes.get_timeseries(DEVICE, ["t"], start_ts=0, end_ts=500)
    assert len(raw["t"]) == 100
