"""The seed's "Count entities using Entity Data Query API", ported: total, active and inactive devices.

python examples/thingsboard/count_entities.py --url http://localhost:8080
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from console.thingsboard import (
    ApiError,
    BooleanFilterPredicate,
    BooleanOperation,
    EntityCountQuery,
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


def active_filter(active: bool) -> KeyFilter:
    return KeyFilter(
        key=EntityKey(type=EntityKeyType.ATTRIBUTE, key="active"),
        value_type=EntityKeyValueType.BOOLEAN,
        predicate=BooleanFilterPredicate(operation=BooleanOperation.EQUAL, value=FilterPredicateValue(active)),
    )


async def main(url: str, username: str, password: str) -> None:
    async with ThingsboardClient(url) as tb:
        # Perform login with default Tenant Administrator credentials
        await tb.login(LoginRequest(username, password))

        # Create an entity filter to get all devices, and a count query with it
        entity_filter = EntityTypeFilter(entity_type=EntityType.DEVICE)
        devices_query = EntityCountQuery(entity_filter=entity_filter)

        # Execute the count query and get the total devices count
        total_devices_count = await tb.entity_query.count_entities_by_query(devices_query)
        print(f"Total devices: {total_devices_count}")

        # Set a key filter on the existing query to count only active devices
        devices_query.key_filters = [active_filter(True)]
        active_devices_count = await tb.entity_query.count_entities_by_query(devices_query)
        print(f"Active devices: {active_devices_count}")

        # Set a key filter on the existing query to count only inactive devices
        devices_query.key_filters = [active_filter(False)]
        inactive_devices_count = await tb.entity_query.count_entities_by_query(devices_query)
        print(f"Inactive devices: {inactive_devices_count}")

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
