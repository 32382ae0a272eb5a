"""The seed's "Fetch customer devices", ported: a customer user pages through their own devices.

python examples/thingsboard/fetch_customer_devices.py --url http://localhost:8080
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from console.thingsboard import ApiError, LoginRequest, PageLink, ThingsboardClient


async def main(url: str, username: str, password: str) -> None:
    async with ThingsboardClient(url) as tb:
        # Perform login with default Customer User credentials
        await tb.login(LoginRequest(username, password))
        customer_id = tb.auth_user.customer_id

        page_link = PageLink(10)
        while True:
            # Fetch customer devices using the current page link
            devices = await tb.devices.get_customer_device_infos(customer_id, page_link)
            print(f"devices: page {page_link.page + 1} of {devices.total_pages}, {devices.total_elements} in all")
            for device in devices.data:
                print(f"  {device.name} ({device.type}) customer={device.customer_title}")
            page_link = page_link.next_page_link()
            if not devices.has_next:
                break

        # Finally perform logout to clear credentials
        await tb.logout()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:8080")
    parser.add_argument("--username", default="customer@thingsboard.org")
    parser.add_argument("--password", default="customer")
    args = parser.parse_args()
    try:
        asyncio.run(main(args.url, args.username, args.password))
    except ApiError as error:
        sys.exit(f"Error: {error.message}")
