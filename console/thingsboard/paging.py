"""Paging helpers beyond the seed's do/while loop.

- `iter_all`: every item, page after page (constant memory, sequential).
- `iter_pages`: pages in order as they arrive; once the first page reports `total_pages` the rest are
  fetched concurrently with at most `max_in_flight` requests out, so a table paints the first rows at once.
- `fetch_all`: `iter_pages` collected into one list.

Each takes a fetcher (`tb.devices.get_tenant_device_infos`, or a lambda binding extra arguments) and a PageLink.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from console.thingsboard.models import PageData, PageLink

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "PageFetcher", "fetch_all", "iter_all", "iter_pages"]

T = TypeVar("T")
PageFetcher = Callable[[PageLink], Awaitable[PageData[T]]]
DEFAULT_MAX_IN_FLIGHT = 4


async def iter_all(fetch: PageFetcher[T], page_link: PageLink) -> AsyncIterator[T]:
    """Every item from `page_link.page` on, one request at a time."""
    link = page_link
    while True:
        page = await fetch(link)
        for item in page.data:
            yield item
        if not page.has_next or not page.data:
            return
        link = link.next_page_link()


async def iter_pages(
    fetch: PageFetcher[T], page_link: PageLink, *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
) -> AsyncIterator[PageData[T]]:
    """Pages in order; after the first, up to `max_in_flight` requests run at once.

    If the collection grew while we paged (the last page still says `has_next`), the rest is fetched
    sequentially, so nothing is left out.
    """
    if max_in_flight < 1:
        raise ValueError("max_in_flight must be at least 1")
    first = await fetch(page_link)
    yield first
    if not first.has_next:
        return
    next_page = page_link.page + 1
    last_page = page_link.page + max(first.total_pages, 1) - 1  # the page index the first answer says is last
    window: deque[asyncio.Task[PageData[T]]] = deque()
    last: PageData[T] = first
    try:
        while next_page <= last_page or window:
            while next_page <= last_page and len(window) < max_in_flight:
                window.append(asyncio.ensure_future(fetch(page_link.with_page(next_page))))
                next_page += 1
            last = await window.popleft()
            yield last
        link = page_link.with_page(next_page)
        while last.has_next and last.data:
            last = await fetch(link)
            yield last
            link = link.next_page_link()
    finally:
        for task in window:
            task.cancel()
        if window:
            await asyncio.gather(*window, return_exceptions=True)


async def fetch_all(
    fetch: PageFetcher[T], page_link: PageLink, *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
) -> list[T]:
    """Every item, fetched with bounded concurrency, in server order."""
    items: list[T] = []
    async for page in iter_pages(fetch, page_link, max_in_flight=max_in_flight):
        items.extend(page.data)
    return items
