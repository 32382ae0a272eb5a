"""The seed's error handling: every failure is one normalized error (`ApiError`) with readable fields.

    python examples/pocketbase/error_handling.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio

from _common import parse_args

from console.errors import ApiError
from console.pocketbase import PocketBase


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with PocketBase(args.url) as client:
        try:
            result = await client.collection("example").get_list(page=1, per_page=50)
            print("Result:", result)  # success...
        except ApiError as error:
            print("Error:", error)  # the guest may not list "example" (or it does not exist yet)
            print("  url:", error.url)
            print("  status:", error.status)
            print("  response:", error.response)
            print("  is_abort:", error.is_abort)
            print("  original_error:", repr(error.original_error))

    async with PocketBase("http://127.0.0.1:9") as unreachable:  # nothing listens on the discard port
        try:
            await unreachable.health.check()
        except ApiError as error:
            print("Error:", error.message, f"({type(error).__name__})")


if __name__ == "__main__":
    asyncio.run(main())
