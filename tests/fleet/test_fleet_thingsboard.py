"""ThingsBoard-only behaviour of the fleet: customer users, API keys, value typing, sort properties, socket state."""

from __future__ import annotations

import json

import httpx
import pytest

from console.fleet import ConnectionState, DeviceQuery
from console.fleet.thingsboard import ThingsboardFleet
from console.fleet.thingsboard_query import SORT_PROPERTIES, page_link, typed_value
from console.thingsboard import ThingsboardClient
from tests.fleet.conftest import unique_key, wait_for


@pytest.mark.parametrize(
    ("text", "expected"),
    [("22.5", 22.5), ("42", 42), ("-7", -7), ("true", True), ("false", False), ("007", "007"), ("on", "on"),
     ("1e3", 1000.0), ("", ""), (3, 3), (None, None), ("NaN", "NaN")],
)
def test_telemetry_strings_become_typed_values(text, expected):
    value = typed_value(text)
    assert value == expected and type(value) is type(expected)


def test_row_fields_map_to_sort_properties():
    assert SORT_PROPERTIES["profile"] == "deviceProfileName"
    assert SORT_PROPERTIES["customer"] == "customerTitle"
    link = page_link(DeviceQuery(text=" therm ", sort="customer", descending=False), 2, 50)
    assert link.to_params() == {
        "pageSize": 50,
        "page": 2,
        "textSearch": "therm",
        "sortProperty": "customerTitle",
        "sortOrder": "ASC",
    }
    assert page_link(DeviceQuery(sort="gateway"), 0, 10).to_params()["sortProperty"] == "createdTime"


async def test_a_customer_user_sees_only_the_customers_devices_and_dashboards(tb_server):
    fleet = ThingsboardFleet(tb_server.url, username="customer@thingsboard.org", password="customer")
    await fleet.connect()
    try:
        assert fleet.customer_id
        rows = [row async for page in fleet.iter_device_pages(DeviceQuery(), 50) for row in page]
        assert rows and {row.customer for row in rows} == {"Customer A"}
        counts = await fleet.device_counts()
        assert counts.total == len(rows)
        dashboards = await fleet.list_dashboards("", 0, 100)
        assert dashboards.rows and all("Customer A" in row.customers for row in dashboards.rows)
    finally:
        await fleet.close()


async def test_api_key_sign_in_sends_the_key_and_learns_who_we_are():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Authorization"))
        assert request.url.path == "/api/auth/user"
        user = {"id": {"entityType": "USER", "id": "u1"}, "email": "ops@example.com", "authority": "TENANT_ADMIN",
                "customerId": {"entityType": "CUSTOMER", "id": "13814000-1dd2-11b2-8080-808080808080"}}
        return httpx.Response(200, content=json.dumps(user).encode(), headers={"Content-Type": "application/json"})

    transport = httpx.MockTransport(handler)
    client = ThingsboardClient("http://tb.example.com", api_key="tb_secret_key_123", transport=transport)
    fleet = ThingsboardFleet("http://tb.example.com", client=client)
    await fleet.connect()
    assert seen == ["ApiKey tb_secret_key_123"]
    assert fleet.customer_id is None and fleet.title.startswith("ops@example.com")
    assert "tb_secret_key_123" not in repr(fleet)
    await client.close()


async def test_the_live_socket_state_reaches_on_state(tb_server):
    fleet = ThingsboardFleet(tb_server.url, username="tenant@thingsboard.org", password="tenant")
    states: list[tuple[ConnectionState, str]] = []
    fleet.on_state(lambda state, detail: states.append((state, detail)))
    await fleet.connect()
    try:
        device = (await fleet.list_devices(DeviceQuery(), 0, 1)).rows[0].id
        subscription = await fleet.subscribe_telemetry([device], [unique_key()], lambda *args: None)
        await wait_for(lambda: any("(live)" in detail for _, detail in states))
        await subscription.close()
    finally:
        await fleet.close()
    assert states[0][0] is ConnectionState.CONNECTING
    assert states[-1][0] is ConnectionState.DISCONNECTED


async def test_open_fleet_builds_a_thingsboard_fleet_from_a_profile(tb_server):
    from console.fleet.open import open_fleet
    from console.profiles import BackendKind, Profile

    profile = Profile(name="emu", kind=BackendKind.THINGSBOARD, url=tb_server.url, user="tenant@thingsboard.org")
    fleet = open_fleet(profile, "tenant")
    assert isinstance(fleet, ThingsboardFleet)
    await fleet.connect()
    try:
        assert (await fleet.device_counts()).total > 0
    finally:
        await fleet.close()
