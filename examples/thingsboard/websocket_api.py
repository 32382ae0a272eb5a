"""The seed's "WebSocket API example", ported: create a device, subscribe to its fields and telemetry with an entity
data query over the WebSocket, post sample telemetry, print the updates, unsubscribe, delete the device.

    python examples/thingsboard/websocket_api.py --url http://localhost:8080
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid

from console.thingsboard import (
    Device,
    EntityDataCmd,
    EntityDataPageLink,
    EntityDataQuery,
    EntityDataSortOrder,
    EntityDataSortOrderDirection,
    EntityKey,
    EntityKeyType,
    EntityNameFilter,
    EntityType,
    LoginRequest,
    TelemetrySubscriber,
    ThingsboardClient,
    TimeSeriesCmd,
)


async def main(url: str, username: str, password: str, pause: float) -> None:
    async with ThingsboardClient(url) as tb:
        # Perform login with default Tenant Administrator credentials
        await tb.login(LoginRequest(username, password))

        device_name = f"My test device {uuid.uuid4().hex[:8]}"

        # Construct device object and add it
        device = Device(device_name, "default")
        device.additional_info = {"description": "My test device!"}
        saved_device = await tb.devices.save_device(device)
        print(f"savedDevice: {saved_device}")

        # Entity filter to get the device by its name, the queried fields and time series
        entity_filter = EntityNameFilter(entity_type=EntityType.DEVICE, entity_name_filter=device_name)
        device_fields = [
            EntityKey(type=EntityKeyType.ENTITY_FIELD, key="name"),
            EntityKey(type=EntityKeyType.ENTITY_FIELD, key="type"),
            EntityKey(type=EntityKeyType.ENTITY_FIELD, key="createdTime"),
        ]
        device_telemetry = [
            EntityKey(type=EntityKeyType.TIME_SERIES, key="temperature"),
            EntityKey(type=EntityKeyType.TIME_SERIES, key="humidity"),
        ]
        devices_query = EntityDataQuery(
            entity_filter=entity_filter,
            entity_fields=device_fields,
            latest_values=device_telemetry,
            page_link=EntityDataPageLink(
                page_size=10,
                sort_order=EntityDataSortOrder(
                    key=EntityKey(type=EntityKeyType.ENTITY_FIELD, key="createdTime"),
                    direction=EntityDataSortOrderDirection.DESC,
                ),
            ),
        )

        # Time-series subscription: 'temperature' and 'humidity' for the last hour, with realtime updates
        current_time = int(time.time() * 1000)
        time_window = 3600 * 1000
        ts_cmd = TimeSeriesCmd(
            keys=["temperature", "humidity"], start_ts=current_time - time_window, time_window=time_window
        )
        cmd = EntityDataCmd(query=devices_query, ts_cmd=ts_cmd)

        # Create the subscription and a listener for its data updates
        subscription = TelemetrySubscriber(tb.telemetry, [cmd])
        stream = subscription.entity_data_stream

        async def listen() -> None:
            async for entity_data_update in stream:
                print(f"Received entity data update: {entity_data_update}")

        listener = asyncio.create_task(listen())

        # Perform subscribe (send the subscription command over the WebSocket and listen for responses)
        subscription.subscribe()

        # Post sample telemetry
        for _ in range(5):
            await asyncio.sleep(pause)
            temperature = 10 + 20 * random.random()
            humidity = 30 + 40 * random.random()
            telemetry_request = {"temperature": temperature, "humidity": humidity}
            print(f"Save telemetry request: {telemetry_request}")
            result = await tb.attributes.save_entity_telemetry(saved_device.id, "TELEMETRY", telemetry_request)
            print(f"Save telemetry result: {result}")

        # Wait a few seconds to show the data updates are received by the listener
        await asyncio.sleep(2 * pause)

        # Finally unsubscribe to release the subscription (this also ends the stream)
        subscription.unsubscribe()
        await listener

        # Delete the device, then log out
        await tb.devices.delete_device(saved_device.id.id)
        await tb.logout()
        await tb.telemetry.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://localhost:8080", help="ThingsBoard REST API URL")
    parser.add_argument("--username", default="tenant@thingsboard.org")
    parser.add_argument("--password", default="tenant")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between telemetry posts (the seed: 1)")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.username, args.password, args.pause))
