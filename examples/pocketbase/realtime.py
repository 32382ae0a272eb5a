"""The seed's RealtimeService: subscribe to a collection (or one record), then unsubscribe.

    python examples/pocketbase/realtime.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio

from _common import ensure_example_collection, parse_args, superuser_client

from console.pocketbase import RealtimeEvent


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as client:
        await ensure_example_collection(client)
        events: asyncio.Queue[RealtimeEvent] = asyncio.Queue()

        def show(e: RealtimeEvent) -> None:
            print(e.topic.split("?")[0], e.action, e.record.get_string_value("title"))
            events.put_nowait(e)

        # Initialize the realtime connection (if not already) and register the subscription.
        await client.collection("example").subscribe("*", show)
        record = await client.collection("example").create({"title": "watch me"})
        await client.collection("example").subscribe(record.id, show)  # one record only
        # low level: any topic string
        await client.realtime.subscribe("example/*", show, filter="total > 10")
        await client.collection("example").update(record.id, {"title": "watched", "total": 11})
        await client.collection("example").delete(record.id)
        # create + update + delete on "*", update + delete on the record, update on the filtered topic
        for _ in range(6):
            await asyncio.wait_for(events.get(), 30)
        # Unsubscribe from one subscription, or (no argument) from all of the collection's subscriptions.
        await client.collection("example").unsubscribe(record.id)
        await client.collection("example").unsubscribe()
        await client.realtime.unsubscribe()
        print("connected after unsubscribing:", client.realtime.is_connected)


if __name__ == "__main__":
    asyncio.run(main())
