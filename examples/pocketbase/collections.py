"""The seed's CollectionService on today's API (v0.23+ flat `fields`).

    python examples/pocketbase/collections.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio
import secrets

from _common import parse_args, superuser_client


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as client:
        every = await client.collections.get_full_list(batch=100)
        page = await client.collections.get_list(page=1, per_page=30, filter="system = false", sort="name")
        print(f"{len(every)} collections, {page.total_items} of them not system")
        name = f"notes_{secrets.token_hex(3)}"
        created = await client.collections.create(
            {"name": name, "type": "base", "fields": [{"name": "text", "type": "text"}]}
        )
        one = await client.collections.get_one(created.id)
        print("created", one.name, one.field_names())
        fields = [*one.fields, {"name": "pinned", "type": "bool"}]  # send the whole list; old fields keep their id
        updated = await client.collections.update(one.id, {"fields": fields, "listRule": ""})
        print("updated", updated.field_names(), "listRule:", repr(updated.list_rule))
        await client.collections.delete(updated.id)
        # Imports the provided collections (all or nothing).
        imported = f"imported_{secrets.token_hex(3)}"
        await client.collections.import_collections(
            [{"name": imported, "type": "base", "fields": [{"name": "title", "type": "text"}]}], delete_missing=False
        )
        print("imported", (await client.collections.get_one(imported)).name)
        await client.collections.delete(imported)


if __name__ == "__main__":
    asyncio.run(main())
