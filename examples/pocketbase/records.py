"""The seed's RecordService on today's API: `client.collection(name)` instead of `client.records`.

    python examples/pocketbase/records.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio

from _common import ensure_example_collection, parse_args, superuser_client


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as client:
        await ensure_example_collection(client)
        example = client.collection("example")
        created = await example.create({"title": "Record service", "total": 1})
        print("created", created.id)
        everything = await example.get_full_list(batch=100, sort="-created")
        page = await example.get_list(page=1, per_page=30, filter=client.filter("title = {:t}", t="Record service"))
        print(f"{len(everything)} records in all; {page.total_items} titled 'Record service'")
        one = await example.get_one(created.id)
        print("get_one:", one.get_string_value("title"))
        updated = await example.update(created.id, {"total+": 4})
        print("updated total:", updated.get_int_value("total"))
        first = await example.get_first_list_item(client.filter("id = {:id}", id=created.id))
        print("get_first_list_item:", first.id)
        await example.delete(created.id)
        print("deleted")


if __name__ == "__main__":
    asyncio.run(main())
