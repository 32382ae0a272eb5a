"""Helpers for the PocketBase SDK suite: a signed-in superuser client and throwaway collections."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from console.pocketbase import CollectionModel, LocalPocketBase, PocketBase

_counter = itertools.count()

DEVICE_FIELDS: list[dict[str, Any]] = [
    {"name": "name", "type": "text"},
    {"name": "status", "type": "select", "values": ["online", "offline", "maintenance"], "maxSelect": 1},
    {"name": "temperature", "type": "number"},
    {"name": "active", "type": "bool"},
    {"name": "meta", "type": "json"},
    {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
    {"name": "photo", "type": "file", "maxSelect": 1, "thumbs": ["50x50"], "mimeTypes": []},
    {"name": "manual", "type": "file", "maxSelect": 1, "protected": True},
    {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
]


def unique(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_counter)}"


@pytest.fixture
async def pb(pb_server: LocalPocketBase) -> AsyncIterator[PocketBase]:
    """A client signed in as the session server's superuser."""
    async with PocketBase(pb_server.url) as client:
        await client.collection("_superusers").auth_with_password(
            pb_server.superuser_email, pb_server.superuser_password
        )
        yield client


@pytest.fixture
def make_collection(pb: PocketBase) -> Callable[..., Awaitable[CollectionModel]]:
    """Create a fresh public-read base collection (default: a device-like schema) with a unique name."""

    async def make(
        prefix: str = "devices", fields: list[dict[str, Any]] | None = None, **rules: Any
    ) -> CollectionModel:
        body = {
            "name": unique(prefix),
            "type": "base",
            "listRule": "",
            "viewRule": "",
            "createRule": None,
            "updateRule": None,
            "deleteRule": None,
            "fields": fields if fields is not None else DEVICE_FIELDS,
            **rules,
        }
        return await pb.collections.create(body)

    return make
