"""The seed's RecordModel helpers: typed getters on a fetched record.

    python examples/pocketbase/record_helpers.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio

from _common import ensure_example_collection, parse_args, superuser_client


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as client:
        await ensure_example_collection(client)
        created = await client.collection("example").create(
            {"title": "Helpers", "options": ["a", "c"], "status": True, "total": 42, "price": 19.99}
        )

        record = await client.collection("example").get_one(created.id)
        title = record.get_string_value("title")
        options = record.get_list_value("options")
        status = record.get_bool_value("status")
        total = record.get_int_value("total")
        price = record.get_float_value("price")
        print(f"title={title!r} options={options} status={status} total={total} price={price}")
        print("missing with default:", record.get("nope", "n/a"))


if __name__ == "__main__":
    asyncio.run(main())
