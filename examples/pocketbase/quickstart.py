"""The seed's first example on today's API: sign in as a user, list and filter, subscribe to changes.

    python examples/pocketbase/quickstart.py --url http://127.0.0.1:8090 --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio
import datetime as dt

from _common import ensure_demo_user, ensure_example_collection, parse_args, superuser_client

from console.pocketbase import PocketBase, RealtimeEvent


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as admin:
        await ensure_example_collection(admin)
        email, password = await ensure_demo_user(admin)

    async with PocketBase(args.url) as client:
        # authenticate as regular user
        user_data = await client.collection("users").auth_with_password(email, password)
        print("signed in as", user_data.record.get_string_value("email"))
        await client.collection("example").create({"title": "Quickstart row", "status": True, "total": 3})

        # list and filter "example" collection records
        result = await client.collection("example").get_list(
            page=1,
            per_page=20,
            filter=client.filter("status = true && created >= {:since}", since=dt.datetime(2022, 8, 1, tzinfo=dt.UTC)),
            sort="-created",
        )
        print(f"page {result.page}: {len(result.items)} of {result.total_items} records")

        # subscribe to realtime "example" collection changes
        received: asyncio.Queue[RealtimeEvent] = asyncio.Queue()

        def on_change(e: RealtimeEvent) -> None:
            print(e.action)  # create, update, delete
            print(e.record)  # the changed record
            received.put_nowait(e)

        unsubscribe = await client.collection("example").subscribe("*", on_change)
        record = await client.collection("example").create({"title": "Live row"})
        await client.collection("example").delete(record.id)
        for _ in range(2):
            await asyncio.wait_for(received.get(), 30)
        await unsubscribe()
        print("quickstart done")


if __name__ == "__main__":
    asyncio.run(main())
