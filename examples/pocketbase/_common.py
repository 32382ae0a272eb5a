"""Shared plumbing for the PocketBase examples: command-line options and the fixtures the seed assumes.

Every example runs as `python examples/pocketbase/NAME.py --url URL --email E --password P`, where E/P are a
superuser's credentials (the examples create the "example" collection and a demo user when they are missing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from console.errors import ApiError, NotFoundError
from console.pocketbase import CollectionModel, PocketBase

DEMO_USER_EMAIL = "field.engineer@example.com"
DEMO_USER_PASSWORD = "123456-example"

EXAMPLE_FIELDS = [
    {"name": "title", "type": "text"},
    {"name": "options", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
    {"name": "status", "type": "bool"},
    {"name": "total", "type": "number"},
    {"name": "price", "type": "number"},
    {"name": "document", "type": "file", "maxSelect": 1},
    {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
]


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", default="http://127.0.0.1:8090", help="the PocketBase server")
    parser.add_argument("--email", required=True, help="a superuser's email")
    parser.add_argument("--password", required=True, help="that superuser's password")
    return parser.parse_args()


async def ensure_example_collection(admin: PocketBase) -> CollectionModel:
    """The seed's "example" collection (readable by signed-in users, writable by them too)."""
    try:
        return await admin.collections.get_one("example")
    except NotFoundError:
        pass
    signed_in = '@request.auth.id != ""'
    try:
        return await admin.collections.create(
            {
                "name": "example",
                "type": "base",
                "listRule": signed_in,
                "viewRule": signed_in,
                "createRule": signed_in,
                "updateRule": signed_in,
                "deleteRule": signed_in,
                "fields": EXAMPLE_FIELDS,
            }
        )
    except ApiError:  # created meanwhile by another example
        return await admin.collections.get_one("example")


async def ensure_demo_user(admin: PocketBase) -> tuple[str, str]:
    """A regular user of the `users` auth collection, for the examples that sign in as one."""
    users = admin.collection("users")
    try:
        await users.get_first_list_item(admin.filter("email = {:e}", e=DEMO_USER_EMAIL))
    except NotFoundError:
        await users.create(
            {
                "email": DEMO_USER_EMAIL,
                "password": DEMO_USER_PASSWORD,
                "passwordConfirm": DEMO_USER_PASSWORD,
                "name": "Field Engineer",
                "verified": True,
            }
        )
    return DEMO_USER_EMAIL, DEMO_USER_PASSWORD


async def superuser_client(args: argparse.Namespace) -> PocketBase:
    admin = PocketBase(args.url)
    await admin.collection("_superusers").auth_with_password(args.email, args.password)
    return admin
