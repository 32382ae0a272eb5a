"""The SDK's device credentials update and public-customer assignment against the emulator (reference §4.2)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from console.errors import ApiError
from console.thingsboard import Device, LoginRequest, PageLink, ThingsboardClient

TENANT = LoginRequest("tenant@thingsboard.org", "tenant")


async def logged_in(server: Any) -> ThingsboardClient:
    tb = ThingsboardClient(server.url)
    await tb.login(TENANT)
    return tb


async def test_save_device_credentials_changes_the_access_token(tb_server_factory):
    server = tb_server_factory(devices=10)
    async with await logged_in(server) as tb:
        device = await tb.devices.save_device(Device("Credentials probe", "default"), access_token="OLD_PROBE_TOKEN")
        credentials = await tb.devices.get_device_credentials_by_device_id(device.id)
        assert credentials.credentials_id == "OLD_PROBE_TOKEN"

        changed = msgspec.structs.replace(credentials, credentials_id="NEW_PROBE_TOKEN")
        saved = await tb.devices.save_device_credentials(changed)
        assert saved.credentials_id == "NEW_PROBE_TOKEN" and saved.credentials_type == "ACCESS_TOKEN"
        assert saved.device_id is not None and saved.device_id.id == device.id.id
        again = await tb.devices.get_device_credentials_by_device_id(device.id)
        assert again.credentials_id == "NEW_PROBE_TOKEN"
        assert server.call(lambda: server.store.devices[device.id.id].credentials_id) == "NEW_PROBE_TOKEN"

        taken = msgspec.structs.replace(again, credentials_id="T1_TEST_TOKEN")  # Thermostat T1's token
        with pytest.raises(ApiError) as refused:
            await tb.devices.save_device_credentials(taken)
        assert refused.value.status == 400
        assert "already assigned to another device" in refused.value.message
        assert (await tb.devices.get_device_credentials_by_device_id(device.id)).credentials_id == "NEW_PROBE_TOKEN"


async def test_assign_device_to_public_customer_creates_the_public_customer_once(tb_server_factory):
    server = tb_server_factory(devices=10)
    async with await logged_in(server) as tb:
        customers_before = (await tb.customers.get_customers(PageLink(50))).total_elements
        first = await tb.devices.save_device(Device("Public probe 1", "default"))
        second = await tb.devices.save_device(Device("Public probe 2", "default"))

        assigned = await tb.devices.assign_device_to_public_customer(first.id)
        assert assigned.customer_id is not None and not assigned.customer_id.is_null
        public = await tb.customers.get_customer(assigned.customer_id)
        assert public.title == "Public" and (public.additional_info or {}).get("isPublic") is True

        info = await tb.devices.get_device_info(first.id)
        assert info.customer_title == "Public" and info.customer_is_public is True

        other = await tb.devices.assign_device_to_public_customer(second.id)
        assert other.customer_id == assigned.customer_id  # the same "Public" customer, not a new one
        customers_after = (await tb.customers.get_customers(PageLink(50))).total_elements
        assert customers_after == customers_before + 1
