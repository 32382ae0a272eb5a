"""The seed's AdminService on today's API: superusers are the `_superusers` auth collection.

    python examples/pocketbase/superusers.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio
import secrets

from _common import parse_args

from console.errors import ApiError
from console.pocketbase import PocketBase


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with PocketBase(args.url) as client:
        superusers = client.collection("_superusers")
        # Authenticates a superuser by email and password (was admins.authViaEmail).
        await superusers.auth_with_password(args.email, args.password)
        # Refreshes the current superuser's token and record.
        refreshed = await superusers.auth_refresh()
        print("signed in as", refreshed.record.get_string_value("email"))
        # Sends a password reset email (accepted even without a mail server; the email is just not delivered).
        await superusers.request_password_reset(args.email)
        # Confirms a password reset request (with a made-up token this fails, readably).
        try:
            await superusers.confirm_password_reset("made-up-token", "new-password-123", "new-password-123")
        except ApiError as error:
            print("confirm_password_reset:", error.message)
        # All superusers batch-fetched at once, and one page of them.
        everyone = await superusers.get_full_list(batch=100)
        page = await superusers.get_list(page=1, per_page=30)
        print(f"{len(everyone)} superuser(s); first page has {len(page.items)}")
        # Creates, reads, updates and deletes a superuser.
        password = secrets.token_hex(8)
        created = await superusers.create(
            {"email": f"second.{secrets.token_hex(3)}@example.com", "password": password, "passwordConfirm": password}
        )
        one = await superusers.get_one(created.id)
        print("created", one.get_string_value("email"))
        await superusers.update(created.id, {"emailVisibility": True})
        await superusers.delete(created.id)
        print("deleted it again")


if __name__ == "__main__":
    asyncio.run(main())
