"""The seed's SettingsService: read, update, and test the S3 and email settings.

    python examples/pocketbase/settings.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio

from _common import parse_args, superuser_client

from console.errors import ApiError


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as client:
        settings = await client.settings.get_all()
        print("setting groups:", sorted(settings))
        app_name = settings["meta"]["appName"]
        updated = await client.settings.update({"meta": {"appName": app_name}})  # bulk update (here: no change)
        print("app name:", updated["meta"]["appName"])
        try:
            await client.settings.test_s3("storage")
        except ApiError as error:
            print("test_s3:", error.message)
        try:
            await client.settings.test_email("someone@example.com", "verification")
            print("test_email: sent")
        except ApiError as error:
            print("test_email:", error.message)


if __name__ == "__main__":
    asyncio.run(main())
