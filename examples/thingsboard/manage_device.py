"""The seed's "Manage Device example", ported: add, find, save/get shared attributes, delete a device.

python examples/thingsboard/manage_device.py --url http://localhost:8080
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from console.thingsboard import ApiError, AttributeScope, Device, LoginRequest, ThingsboardClient


async def main(url: str, username: str, password: str) -> None:
    async with ThingsboardClient(url) as tb:
        # Perform login with default Tenant Administrator credentials
        await tb.login(LoginRequest(username, password))

        # A unique name, so the example can run again (device names are unique per tenant)
        device_name = f"My test device {uuid.uuid4().hex[:8]}"

        # Construct the device object and add it
        device = Device(device_name, "default")
        device.additional_info = {"description": "My test device!"}
        saved_device = await tb.devices.save_device(device)
        print(f"savedDevice: {saved_device}")

        try:
            # Find the device by its id
            found_device = await tb.devices.get_device_info(saved_device.id)
            print(f"foundDevice: {found_device}")

            # Save device shared attributes
            await tb.attributes.save_entity_attributes_v2(
                found_device.id, AttributeScope.SHARED_SCOPE, {"targetTemperature": 22.4, "targetHumidity": 57.8}
            )
            print("Save attributes result: saved")

            # Get device shared attributes
            attributes = await tb.attributes.get_attributes_by_scope(
                found_device.id, AttributeScope.SHARED_SCOPE, ["targetTemperature", "targetHumidity"]
            )
            print(f"Found device attributes: {attributes}")
        finally:
            # Delete the device
            await tb.devices.delete_device(saved_device.id)
            print(f"Deleted device: {device_name}")

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
