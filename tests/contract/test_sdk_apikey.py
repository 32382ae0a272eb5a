"""The SDK in API-key mode (ThingsBoard 4.3+): `ThingsboardClient(url, api_key=...)` works with no login and
never tries to refresh (reference §1.3, §12)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from console.thingsboard import (
    AttributeScope,
    AuthenticationError,
    EntityId,
    PageLink,
    TelemetrySubscriber,
    ThingsboardClient,
    TimeseriesSubscriptionCmd,
)


def counters(server: Any) -> dict[str, int]:
    return server.call(lambda: dict(server.store.counters))


def sessions(server: Any) -> tuple[int, int]:
    c = counters(server)
    return c["login"], c["refresh"]


async def test_api_key_lists_devices_reads_attributes_and_saves_telemetry_without_login(tb_server_factory):
    server = tb_server_factory(devices=25)
    before = sessions(server)
    async with ThingsboardClient(server.url, api_key=server.tenant_api_key) as tb:
        assert tb.is_authenticated() and tb.auth_user is None
        page = await tb.devices.get_tenant_device_infos(PageLink(10))
        assert page.total_elements == 25 and len(page.data) == 10 and page.has_next
        page = await tb.devices.get_tenant_device_infos(PageLink(25))
        thermostat = next(d for d in page.data if d.name == "Thermostat T1")
        device = EntityId("DEVICE", thermostat.id.id)

        shared = await tb.attributes.get_attributes_by_scope(device, AttributeScope.SHARED_SCOPE)
        assert {a.key: a.value for a in shared}["targetTemperature"] == 21.5

        await tb.attributes.save_entity_telemetry(device, "TELEMETRY", {"temperature": 42.25, "door": "open"})
        latest = await tb.attributes.get_latest_timeseries(device, ["temperature", "door"])
        assert float(latest["temperature"].value) == 42.25 and latest["door"].value == "open"
    stored = server.call(lambda: server.store.latest(thermostat.id.id))
    assert stored["temperature"][1] == 42.25
    assert sessions(server) == before  # no login, no refresh
    assert tb.refresh_count == 0


async def test_api_key_keeps_working_when_the_server_clock_moves_past_any_token_lifetime(tb_server_factory):
    server = tb_server_factory(devices=5, access_token_ttl=60, refresh_token_ttl=120)
    async with ThingsboardClient(server.url, api_key=server.tenant_api_key) as tb:
        await tb.devices.get_tenant_device_infos(PageLink(5))
        server.call(lambda: server.store.advance(3600))
        page = await tb.devices.get_tenant_device_infos(PageLink(5))
        assert page.total_elements == 5
        assert tb.refresh_count == 0
    assert sessions(server) == (0, 0)


async def test_wrong_api_key_raises_authentication_error_with_the_servers_message(tb_server):
    before = sessions(tb_server)
    async with ThingsboardClient(tb_server.url, api_key="tb_this-key-does-not-exist") as tb:
        with pytest.raises(AuthenticationError) as refused:
            await tb.devices.get_tenant_device_infos(PageLink(5))
        assert tb.refresh_count == 0
    assert refused.value.status == 401 and refused.value.error_code == 10
    assert "Invalid username or password" in refused.value.message
    assert sessions(tb_server) == before


async def test_token_expired_answer_to_an_api_key_is_not_refreshed(tb_server_factory):
    """Even a 401/11 ("Token has expired") must not send an API-key client to /api/auth/token or login."""
    server = tb_server_factory(devices=5)
    server.faults.add("GET", r"^/api/tenant/deviceInfos$", 401,
                      body={"status": 401, "message": "Token has expired", "errorCode": 11, "timestamp": 0})
    async with ThingsboardClient(server.url, api_key=server.tenant_api_key) as tb:
        with pytest.raises(AuthenticationError) as refused:
            await tb.devices.get_tenant_device_infos(PageLink(5))
        assert tb.refresh_count == 0
        assert "Token has expired" in refused.value.message
        page = await tb.devices.get_tenant_device_infos(PageLink(5))  # the fault was one-shot; the key still works
        assert page.total_elements == 5
    assert sessions(server) == (0, 0)


async def test_disabled_api_key_is_reported_as_not_active(tb_server_factory):
    server = tb_server_factory(devices=5)

    def disable() -> None:
        for key in server.store.api_keys.values():
            if key.value == server.tenant_api_key:
                key.enabled = False

    server.call(disable)
    async with ThingsboardClient(server.url, api_key=server.tenant_api_key) as tb:
        with pytest.raises(AuthenticationError) as refused:
            await tb.devices.get_tenant_device_infos(PageLink(5))
    assert "User account is not active" in refused.value.message


async def test_live_telemetry_authenticates_the_socket_with_the_api_key(tb_server_factory):
    """4.4's `authCmd.apiKey`: a key-only client gets live points with no JWT at all."""
    server = await asyncio.to_thread(tb_server_factory, devices=3)
    device = sorted(server.store.devices)[0]
    async with ThingsboardClient(server.url, api_key=server.tenant_api_key) as tb:
        sub = TelemetrySubscriber(tb.telemetry, [TimeseriesSubscriptionCmd(entity_id=device, keys=["temperature"])])
        stream = sub.ts_data_stream
        sub.subscribe()
        first = await asyncio.wait_for(stream.__anext__(), 20)
        assert "temperature" in first.data
        stamp = int(time.time() * 1000) + 5_000
        await tb.attributes.save_entity_telemetry(
            EntityId("DEVICE", device), "TELEMETRY", {"ts": stamp, "values": {"temperature": 7}}
        )
        live = await asyncio.wait_for(stream.__anext__(), 20)
        assert [(p.ts, p.value) for p in live.data["temperature"]] == [(stamp, "7")]
        sub.unsubscribe()
    assert sessions(server) == (0, 0)
