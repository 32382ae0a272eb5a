"""Collections, logs, settings, health and batch against a real PocketBase."""

from __future__ import annotations

import asyncio

import pytest

from console.errors import ApiError, PermissionDeniedError
from console.pocketbase import PocketBase
from tests.pocketbase.conftest import unique


async def test_health_for_guest_and_superuser(pb_server, pb) -> None:
    async with PocketBase(pb_server.url) as guest:
        health = await guest.health.check()
    assert health.code == 200 and health.message == "API is healthy."
    assert "canBackup" not in health.data
    assert "canBackup" in (await pb.health.check()).data


async def test_collections_service(pb, make_collection) -> None:
    col = await make_collection()
    names = [c.name for c in await pb.collections.get_full_list(batch=2)]
    assert col.name in names and "_superusers" in names
    user_only = await pb.collections.get_list(1, 200, filter="system = false")
    assert all(not c.system for c in user_only.items)
    fetched = await pb.collections.get_one(col.name)
    assert fetched.id == col.id and "temperature" in fetched.field_names()
    renamed = unique("renamed")
    updated = await pb.collections.update(col.id, {"name": renamed, "listRule": None})
    assert updated.name == renamed and updated.list_rule is None
    await pb.collection(renamed).create({"name": "gone soon"})
    await pb.collections.truncate(renamed)
    assert (await pb.collection(renamed).get_list()).total_items == 0
    await pb.collections.delete(renamed)
    with pytest.raises(ApiError) as caught:
        await pb.collections.get_one(renamed)
    assert caught.value.status == 404
    scaffolds = await pb.collections.get_scaffolds()
    assert {"base", "auth", "view"} <= set(scaffolds)


async def test_collections_import(pb) -> None:
    name = unique("imported")
    await pb.collections.import_collections([{"name": name, "type": "base", "fields": [{"name": "t", "type": "text"}]}])
    assert (await pb.collections.get_one(name)).field_names() == ["id", "t"]
    with pytest.raises(ApiError) as caught:
        await pb.collections.import_collections([{"name": "bad name!", "type": "base"}])
    assert caught.value.status == 400


async def test_logs_service(pb_server_factory) -> None:
    server = pb_server_factory()
    async with PocketBase(server.url) as pb:
        await pb.collection("_superusers").auth_with_password(server.superuser_email, server.superuser_password)
        with pytest.raises(ApiError):
            await pb.collection("nowhere").get_list()  # a 404 that the server logs
        logs = None
        for _ in range(600):  # logs are written in the background (in batches)
            logs = await pb.logs.get_list(1, 50, filter="data.status = 404", sort="-created")
            if logs.items:
                break
            await asyncio.sleep(0.05)
        assert logs is not None and logs.items, "the failed request was never logged"
        entry = logs.items[0]
        assert "/api/collections/nowhere/records" in entry.data.get("url", "")
        assert (await pb.logs.get_one(entry.id)).id == entry.id
        stats = await pb.logs.get_stats()
        assert sum(s.total for s in stats) >= 1
        await pb.logs.truncate()
        assert (await pb.logs.get_list()).total_items == 0


async def test_settings_service(pb_server_factory) -> None:
    server = pb_server_factory()
    async with PocketBase(server.url) as pb:
        await pb.collection("_superusers").auth_with_password(server.superuser_email, server.superuser_password)
        settings = await pb.settings.get_all()
        assert {"meta", "smtp", "batch", "logs"} <= set(settings)
        updated = await pb.settings.update({"meta": {"appName": "Thingscope test"}})
        assert updated["meta"]["appName"] == "Thingscope test"
        assert (await pb.settings.get_all())["meta"]["appName"] == "Thingscope test"
        with pytest.raises(ApiError) as caught:
            await pb.settings.test_s3("backups")
        assert caught.value.status == 400 and "S3" in caught.value.message
    async with PocketBase(server.url) as guest:
        with pytest.raises(ApiError) as caught:
            await guest.settings.get_all()
        assert caught.value.status in (401, 403)


async def test_batch_writes_in_one_transaction(pb_server_factory) -> None:
    server = pb_server_factory()
    async with PocketBase(server.url) as pb:
        await pb.collection("_superusers").auth_with_password(server.superuser_email, server.superuser_password)
        await pb.collections.create(
            {
                "name": "devices",
                "type": "base",
                "fields": [
                    {"name": "name", "type": "text", "required": True},
                    {"name": "status", "type": "text"},
                    {"name": "doc", "type": "file", "maxSelect": 1},
                ],
            }
        )
        disabled = pb.create_batch()
        disabled.collection("devices").create({"name": "x"})
        with pytest.raises(PermissionDeniedError) as caught:
            await disabled.send()
        assert "not allowed" in caught.value.message.lower()

        await pb.settings.update({"batch": {"enabled": True, "maxRequests": 50, "timeout": 3}})
        existing = await pb.collection("devices").create({"name": "old"})
        doomed = await pb.collection("devices").create({"name": "doomed"})
        batch = pb.create_batch()
        devices = batch.collection("devices")
        devices.create({"name": "new"}, files=[("doc", ("n.txt", b"note", "text/plain"))])
        devices.update(existing.id, {"status": "bulk-edited"})
        devices.upsert({"id": "customid0000001", "name": "upserted"})
        devices.delete(doomed.id)
        results = await batch.send()
        assert [r.status for r in results] == [200, 200, 200, 204]
        assert results[0].record is not None and results[0].record.get_string_value("doc").endswith(".txt")
        assert (await pb.collection("devices").get_one(existing.id)).get_string_value("status") == "bulk-edited"
        assert (await pb.collection("devices").get_one("customid0000001")).get_string_value("name") == "upserted"

        failing = pb.create_batch()
        failing.collection("devices").create({"name": "rolled back"})
        failing.collection("devices").create({"status": "no name"})  # `name` is required
        with pytest.raises(ApiError) as caught:
            await failing.send()
        assert caught.value.status == 400
        assert "request 1" in caught.value.message and "name" in caught.value.message
        assert (await pb.collection("devices").get_list(filter="name = 'rolled back'")).items == []
        assert await pb.create_batch().send() == []
