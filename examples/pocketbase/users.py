"""The seed's UserService on today's API: users are records of the `users` auth collection.

    python examples/pocketbase/users.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio
import secrets

from _common import parse_args, superuser_client

from console.errors import ApiError
from console.pocketbase import PocketBase


async def main() -> None:
    args = parse_args(__doc__ or "")
    email = f"user.{secrets.token_hex(4)}@example.com"
    password = "user-password-123"
    async with PocketBase(args.url) as client:
        users = client.collection("users")
        methods = await users.list_auth_methods()
        print("password sign-in enabled:", methods.password.get("enabled"))
        # Creates (aka. registers) a new user.
        user = await users.create(
            {"email": email, "password": password, "passwordConfirm": password, "name": "New User"}
        )
        # Authenticates a user by email and password (was users.authViaEmail).
        await users.auth_with_password(email, password)
        # Refreshes the current user's token and record.
        await users.auth_refresh()
        print("signed in:", client.auth_store.record)
        # Email flows: these need a mail server to deliver anything; the server still answers.
        for name, call in (
            ("request_password_reset", users.request_password_reset(email)),
            ("request_verification", users.request_verification(email)),
            ("request_email_change", users.request_email_change(f"moved.{secrets.token_hex(3)}@example.com")),
        ):
            try:
                await call
                print(name, "accepted")
            except ApiError as error:
                print(name, "refused:", error.message)
        for name, confirm in (
            ("confirm_password_reset", users.confirm_password_reset("made-up", "x-password-1", "x-password-1")),
            ("confirm_verification", users.confirm_verification("made-up")),
            ("confirm_email_change", users.confirm_email_change("made-up", password)),
        ):
            try:
                await confirm
            except ApiError as error:
                print(name, "refused:", error.message)
        # A user sees (and may update) their own record.
        print("get_one:", (await users.get_one(user.id)).get_string_value("name"))
        await users.update(user.id, {"name": "Renamed User"})

    async with await superuser_client(args) as admin:
        users = admin.collection("users")
        print("users:", len(await users.get_full_list(batch=100)), "| first page:", len((await users.get_list()).items))
        # Linked OAuth2 providers (was listExternalAuths / unlinkExternalAuth) are `_externalAuths` records.
        mine = admin.filter("recordRef = {:id}", id=user.id)
        linked = await admin.collection("_externalAuths").get_full_list(filter=mine)
        print("linked providers:", [r.get_string_value("provider") for r in linked])
        await users.delete(user.id)
        print("deleted the user")


if __name__ == "__main__":
    asyncio.run(main())
