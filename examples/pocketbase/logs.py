"""The seed's LogService on today's API (`get_list` / `get_one`, was getRequestsList / getRequest).

    python examples/pocketbase/logs.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio

from _common import parse_args, superuser_client

from console.errors import NotFoundError


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as client:
        try:
            await client.collection("no_such_collection").get_list()
        except NotFoundError:
            pass  # leaves a 404 in the request log
        logs = None
        for _ in range(600):  # the server writes logs in the background, in batches
            logs = await client.logs.get_list(page=1, per_page=30, filter="data.status >= 400", sort="-created")
            if logs.items:
                break
            await asyncio.sleep(0.05)
        assert logs is not None
        print(f"{logs.total_items} failed request(s) logged")
        if logs.items:
            entry = await client.logs.get_one(logs.items[0].id)
            print("latest:", entry.data.get("method"), entry.data.get("url"), entry.data.get("status"))
        print("hourly stats:", [(s.date, s.total) for s in await client.logs.get_stats()][:3])


if __name__ == "__main__":
    asyncio.run(main())
