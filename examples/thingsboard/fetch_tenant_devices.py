"""The seed's "Fetch tenant devices", ported: page through the tenant's devices ten at a time.

python examples/thingsboard/fetch_tenant_devices.py --url http://localhost:8080
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from console.thingsboard import ApiError, LoginRequest, PageLink, ThingsboardClient


async def main(url: str, username: str, password: str) -> None:
    async with ThingsboardClient(url) as tb:
        # Perform login with default Tenant Administrator credentials
        await tb.login(LoginRequest(username, password))

        page_link = PageLink(10)
        while True:
            # Fetch tenant devices using the current page link
            devices = await tb.devices.get_tenant_device_infos(page_link)
            print(f"devices: page {page_link.page + 1} of {devices.total_pages}, {devices.total_elements} in all")
            for device in devices.data:
                print(f"  {device.name} ({device.type}) active={device.active}")
            page_link = page_link.next_page_link()
            if not devices.has_next:
                break

        # Finally perform logout to clear credentials
        await tb.logout()


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
