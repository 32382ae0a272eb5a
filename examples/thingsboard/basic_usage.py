"""The seed's "Basic Usage", ported: log in, show the session and the current user, log out.

python examples/thingsboard/basic_usage.py --url http://localhost:8080
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from console.thingsboard import ApiError, LoginRequest, ThingsboardClient


async def main(url: str, username: str, password: str) -> None:
    # Create an instance of the ThingsBoard API client
    async with ThingsboardClient(url) as tb:
        # Perform login with default Tenant Administrator credentials
        await tb.login(LoginRequest(username, password))

        print(f"isAuthenticated={tb.is_authenticated()}")
        print(f"authUser: {tb.auth_user}")

        # Get user details of the current logged in user
        current_user_details = await tb.users.get_user()
        print(f"currentUserDetails: {current_user_details}")

        # Finally perform logout to clear credentials
        await tb.logout()
        print(f"isAuthenticated={tb.is_authenticated()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:8080")
    parser.add_argument("--username", default="tenant@thingsboard.org")
    parser.add_argument("--password", default="tenant")
    args = parser.parse_args()
    try:
        asyncio.run(main(args.url, args.username, args.password))
    except ApiError as error:
        sys.exit(f"Error: {error.message}")
