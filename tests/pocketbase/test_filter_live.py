"""Bound filter values match exactly themselves on a real server, whatever a user types."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.pocketbase import PocketBase

TRICKY = ["it's", "\\", "\\'", "a\\\\b", "x' || id != '", '"', "' || 1=1 //", "{:x}", "%", "_", "é中🙂", "a\nb"]


async def test_tricky_values_match_only_themselves(pb, make_collection) -> None:
    col = await make_collection(fields=[{"name": "name", "type": "text"}])
    records = pb.collection(col.name)
    await asyncio.gather(*(records.create({"name": value}) for value in TRICKY))
    await records.create({"name": "bystander"})
    for value in TRICKY:
        found = await records.get_list(filter=pb.filter("name = {:v}", v=value), per_page=50)
        assert [r.get_string_value("name") for r in found.items] == [value], value
        # a second placeholder after a hostile first one still binds correctly
        both = await records.get_list(filter=pb.filter("name = {:v} || name = {:w}", v=value, w="bystander"))
        assert sorted(r.get_string_value("name") for r in both.items) == sorted([value, "bystander"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40))
def test_any_text_round_trips(pb_server, text: str) -> None:
    async def check() -> None:
        async with PocketBase(pb_server.url) as pb:
            await pb.collection("_superusers").auth_with_password(
                pb_server.superuser_email, pb_server.superuser_password
            )
            name = "filter_fuzz"
            try:
                await pb.collections.get_one(name)
            except Exception:
                await pb.collections.create(
                    {"name": name, "type": "base", "fields": [{"name": "name", "type": "text"}]}
                )
            record = await pb.collection(name).create({"name": text})
            try:
                found = await pb.collection(name).get_list(
                    filter=pb.filter("id = {:id} && name = {:v}", id=record.id, v=text)
                )
                assert [r.id for r in found.items] == [record.id]
                assert found.items[0].get_string_value("name") == text
            finally:
                await pb.collection(name).delete(record.id)

    asyncio.run(check())
