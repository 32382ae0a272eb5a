"""The seed's "Query entities using Entity Data Query API", ported: list the active devices, page by page.

(The seed passed an undefined `inactiveDeviceKeyFilter`; its intent is the active filter defined just above.)

    python examples/thingsboard/query_entities.py --url http://localhost:8080
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from console.thingsboard import (
    ApiError,
    BooleanFilterPredicate,
    BooleanOperation,
    EntityDataPageLink,
    EntityDataQuery,
    EntityDataSortOrder,
    EntityDataSortOrderDirection,
    EntityKey,
    EntityKeyType,
    EntityKeyValueType,
    EntityType,
    EntityTypeFilter,
    FilterPredicateValue,
    KeyFilter,
    LoginRequest,
    ThingsboardClient,
)


async def main(url: str, username: str, password: str) -> None:
    async with ThingsboardClient(url) as tb:
        # Perform login with default Tenant Administrator credentials
        await tb.login(LoginRequest(username, password))

        # Entity filter to get only devices, and a key filter to keep only active ones
        entity_filter = EntityTypeFilter(entity_type=EntityType.DEVICE)
        active_device_key_filter = KeyFilter(
            key=EntityKey(type=EntityKeyType.ATTRIBUTE, key="active"),
            value_type=EntityKeyValueType.BOOLEAN,
            predicate=BooleanFilterPredicate(operation=BooleanOperation.EQUAL, value=FilterPredicateValue(True)),
        )

        # Queried device fields and attributes
        device_fields = [
            EntityKey(type=EntityKeyType.ENTITY_FIELD, key="name"),
            EntityKey(type=EntityKeyType.ENTITY_FIELD, key="type"),
            EntityKey(type=EntityKeyType.ENTITY_FIELD, key="createdTime"),
        ]
        device_attributes = [EntityKey(type=EntityKeyType.ATTRIBUTE, key="active")]

        # Entity query with the filters, the queried fields and a page link
        devices_query = EntityDataQuery(
            entity_filter=entity_filter,
            key_filters=[active_device_key_filter],
            entity_fields=device_fields,
            latest_values=device_attributes,
            page_link=EntityDataPageLink(
                page_size=10,
                sort_order=EntityDataSortOrder(
                    key=EntityKey(type=EntityKeyType.ENTITY_FIELD, key="createdTime"),
                    direction=EntityDataSortOrderDirection.DESC,
                ),
            ),
        )

        while True:
            # Fetch active devices using the entity query with the current page link
            devices = await tb.entity_query.find_entity_data_by_query(devices_query)
            print(f"Active devices entities data (page {devices_query.page_link.page + 1} of {devices.total_pages}):")
            for device in devices.data:
                print(
                    f"id: {device.entity_id.id}, createdTime: {device.created_time}, name: {device.field('name')}, "
                    f"type: {device.field('type')}, active: {device.attribute('active')}"
                )
            devices_query = devices_query.next()
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
