"""The seed's AuthStore: watch changes, log out with `clear()`, or plug in a custom store.

    python examples/pocketbase/auth_store.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio

from _common import ensure_demo_user, parse_args, superuser_client

from console.pocketbase import AuthStore, PocketBase, RecordModel


class CustomAuthStore(AuthStore):
    """Customize the default store, e.g. to remember the last signed-in email (never the token in a file)."""

    def __init__(self) -> None:
        super().__init__()
        self.last_email = ""

    def save(self, token: str, record: RecordModel | None = None) -> None:
        super().save(token, record)
        if record is not None:
            self.last_email = record.get_string_value("email")


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as admin:
        email, password = await ensure_demo_user(admin)

    async with PocketBase(args.url, auth_store=CustomAuthStore()) as client:
        store = client.auth_store
        stop_listening = store.on_change(lambda token, record: print("auth changed:", record, "valid:", store.is_valid))

        await client.collection("users").auth_with_password(email, password)
        print("token set:", bool(store.token), "| record:", store.record, "| is_valid:", store.is_valid)
        assert isinstance(store, CustomAuthStore)
        print("remembered:", store.last_email)

        # To "logout" an authenticated user or superuser, just clear the store
        store.clear()
        print("after clear -> is_valid:", store.is_valid)
        stop_listening()


if __name__ == "__main__":
    asyncio.run(main())
