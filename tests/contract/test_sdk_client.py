"""The SDK against the emulator: auth lifetimes, 429, error bodies, paging, history, device management."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from console.thingsboard import (
    AttributeScope,
    AuthenticationError,
    Device,
    EntityId,
    LoginRequest,
    NotFoundError,
    PageLink,
    PermissionDeniedError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    SortOrder,
    ThingsboardClient,
    fetch_all,
    iter_all,
    iter_pages,
)

TENANT = LoginRequest("tenant@thingsboard.org", "tenant")


def counters(server: Any) -> dict[str, int]:
    return server.call(lambda: dict(server.store.counters))


async def tenant_client(server: Any, **kwargs: Any) -> ThingsboardClient:
    tb = ThingsboardClient(server.url, **kwargs)
    await tb.login(TENANT, keep_password=kwargs.pop("keep", True))
    return tb


# --- auth lifetimes -------------------------------------------------------------------------------


async def test_expired_access_token_is_refreshed_once_for_concurrent_requests(tb_server_factory: Any) -> None:
    server = tb_server_factory(devices=40, access_token_ttl=60)
    async with await tenant_client(server) as tb:
        before = counters(server)
        server.call(lambda: server.store.advance(120))  # the server now rejects our token with 401/11
        pages = await asyncio.gather(*(tb.devices.get_tenant_device_infos(PageLink(5, page=i)) for i in range(20)))
        assert all(page.total_elements == 40 for page in pages)
        after = counters(server)
        assert after["refresh"] - before["refresh"] == 1
        assert after["login"] == before["login"]


async def test_token_is_refreshed_before_it_expires(tb_server_factory: Any) -> None:
    server = tb_server_factory(devices=10, access_token_ttl=3)
    async with await tenant_client(server) as tb:
        before = counters(server)
        assert tb._tokens is not None
        for _ in range(100):  # wait (no timing assertion) until the client sees the token as nearly expired
            if tb._tokens.needs_refresh(tb.retry.refresh_margin):
                break
            await asyncio.sleep(0.05)
        results = await asyncio.gather(*(tb.devices.get_tenant_device_infos(PageLink(5)) for _ in range(10)))
        assert len(results) == 10
        assert counters(server)["refresh"] - before["refresh"] >= 1
        assert tb.refresh_count <= 2  # one proactive refresh (a second only if the machine stalled past the next)


async def test_dead_refresh_token_falls_back_to_login(tb_server_factory: Any) -> None:
    server = tb_server_factory(devices=10, access_token_ttl=60, refresh_token_ttl=90)
    async with await tenant_client(server) as tb:
        before = counters(server)
        server.call(lambda: server.store.advance(200))
        page = await tb.devices.get_tenant_device_infos(PageLink(5))
        assert page.total_elements == 10
        assert counters(server)["login"] - before["login"] == 1


async def test_dead_refresh_token_without_password_asks_to_log_in(tb_server_factory: Any) -> None:
    server = tb_server_factory(devices=10, access_token_ttl=60, refresh_token_ttl=90)
    tb = ThingsboardClient(server.url)
    await tb.login(TENANT, keep_password=False)
    server.call(lambda: server.store.advance(200))
    with pytest.raises(AuthenticationError, match="log in again"):
        await tb.devices.get_tenant_device_infos(PageLink(5))
    await tb.close()


async def test_logout_invalidates_the_session_on_the_server(tb_server: Any) -> None:
    tb = await tenant_client(tb_server)
    token = tb.token
    await tb.logout()
    assert not tb.is_authenticated()
    other = ThingsboardClient(tb_server.url)
    other.set_tokens(token)  # no refresh token, no password: the old token must be refused
    with pytest.raises(AuthenticationError):
        await other.devices.get_tenant_device_infos(PageLink(5))
    await other.close()
    await tb.close()


@pytest.mark.parametrize("offset", [-7200, 7200])
async def test_server_clock_skew_causes_no_refresh(tb_server_factory: Any, offset: int) -> None:
    server = tb_server_factory(devices=10, access_token_ttl=600)
    server.call(lambda: server.store.advance(offset))  # the server's clock is two hours off ours
    async with await tenant_client(server) as tb:
        before = counters(server)
        for _ in range(5):
            await tb.devices.get_tenant_device_infos(PageLink(5))
        assert counters(server)["refresh"] == before["refresh"]
        assert tb.refresh_count == 0


async def test_timeouts_are_configurable(tb_server_factory: Any) -> None:
    import httpx

    from console.thingsboard import RequestTimeoutError

    server = tb_server_factory(devices=5, latency_ms=1500)
    async with ThingsboardClient(server.url, timeout=httpx.Timeout(0.2)) as tb:
        with pytest.raises(RequestTimeoutError, match="took too long"):
            await tb.login(TENANT)


# --- 429 ------------------------------------------------------------------------------------------


async def test_rate_limited_requests_wait_and_succeed(tb_server_factory: Any) -> None:
    server = tb_server_factory(devices=30, rate_limit=5)
    policy = RetryPolicy(max_retries=30, base_delay=0.2, max_delay=1.0)
    async with await tenant_client(server, retry=policy) as tb:
        pages = await asyncio.gather(*(tb.devices.get_tenant_device_infos(PageLink(10)) for _ in range(12)))
        assert all(page.total_elements == 30 for page in pages)


async def test_rate_limit_gives_up_with_rate_limited_error(tb_server: Any) -> None:
    async with await tenant_client(tb_server, retry=RetryPolicy(max_retries=2, base_delay=0.01)) as tb:
        tb_server.faults.add("GET", r"^/api/tenant/deviceInfos$", 429, times=3)
        with pytest.raises(RateLimitedError, match="Too many requests") as info:
            await tb.devices.get_tenant_device_infos(PageLink(10))
        assert info.value.error_code == 33


# --- error bodies ---------------------------------------------------------------------------------


async def test_proxy_html_error_page_is_readable(tb_server: Any) -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>"
    )
    async with await tenant_client(tb_server) as tb:
        tb_server.faults.add("GET", r"^/api/tenant/dashboards$", 502, page, headers={"Content-Type": "text/html"})
        with pytest.raises(ServerError, match="502 Bad Gateway") as info:
            await tb.dashboards.get_tenant_dashboards(PageLink(10))
        assert "<" not in info.value.message


async def test_plain_text_telemetry_errors_are_readable_and_do_not_refresh(tb_server: Any) -> None:
    async with await tenant_client(tb_server) as tb:
        missing = EntityId("DEVICE", str(uuid.uuid4()))
        before = counters(tb_server)
        with pytest.raises(NotFoundError, match="wasn't found"):
            await tb.attributes.get_attributes_by_scope(missing, AttributeScope.SERVER_SCOPE)
        tb_server.faults.add("GET", r"/values/attributes", 401, "Unauthorized: telemetry says no")
        with pytest.raises(AuthenticationError, match="telemetry says no"):
            await tb.attributes.get_attributes_by_scope(missing, AttributeScope.SERVER_SCOPE)
        assert counters(tb_server)["refresh"] == before["refresh"]


async def test_customer_user_cannot_see_other_devices(tb_server: Any) -> None:
    def other_device() -> str:
        store = tb_server.store
        mine = store.user_by_email("customer@thingsboard.org").customer_id
        return next(d.id for d in store.devices.values() if d.customer_id != mine)

    device_id = tb_server.call(other_device)
    async with ThingsboardClient(tb_server.url) as tb:
        await tb.login(LoginRequest("customer@thingsboard.org", "customer"))
        assert tb.auth_user is not None and tb.auth_user.is_customer_user
        with pytest.raises(PermissionDeniedError):
            await tb.devices.get_device(device_id)


# --- paging ---------------------------------------------------------------------------------------


async def test_concurrent_fetch_all_matches_sequential_paging(tb_server: Any) -> None:
    async with await tenant_client(tb_server) as tb:
        link = PageLink(17, sort_order=SortOrder("name"))
        sequential = [d.name async for d in iter_all(tb.devices.get_tenant_device_infos, link)]
        concurrent = await fetch_all(tb.devices.get_tenant_device_infos, link, max_in_flight=6)
        assert [d.name for d in concurrent] == sequential
        assert len(sequential) >= 300 and len(set(sequential)) == len(sequential)
        pages = [p async for p in iter_pages(tb.devices.get_tenant_device_infos, link, max_in_flight=3)]
        assert [p.data[0].name for p in pages] == sequential[::17][: len(pages)]


# --- history --------------------------------------------------------------------------------------


async def test_history_helper_returns_everything_the_server_holds(tb_server: Any) -> None:
    async with await tenant_client(tb_server) as tb:
        device = await tb.devices.save_device(Device(f"history-{uuid.uuid4().hex[:8]}", "default"))
        assert device.id is not None
        try:
            base = 1_700_000_000_000
            samples = [
                {"ts": base + i * 1000, "values": {"temperature": 20 + i % 7, "humidity": i}} for i in range(1234)
            ]
            for start in range(0, len(samples), 500):
                await tb.attributes.save_entity_telemetry(device.id, "TELEMETRY", samples[start : start + 500])
            end = base + 1234 * 1000
            capped = await tb.attributes.get_timeseries(device.id, ["temperature"], start_ts=base, end_ts=end)
            assert len(capped["temperature"]) == 100  # what a naive caller would silently get
            for windows in (1, 5):
                history = await tb.attributes.get_timeseries_history(
                    device.id, ["temperature", "humidity"], base, end, limit=100, windows=windows
                )
                assert [p.ts for p in history["temperature"]] == [s["ts"] for s in samples]
                assert [int(p.value) for p in history["humidity"]] == list(range(1234))
            tail = await tb.attributes.get_timeseries_history(device.id, ["humidity"], base + 1000 * 1200, end)
            assert [int(p.value) for p in tail["humidity"]] == list(range(1200, 1234))
        finally:
            await tb.devices.delete_device(device.id)


# --- what the console needs beyond the seed -------------------------------------------------------


async def test_device_management_credentials_and_customer_assignment(tb_server: Any) -> None:
    async with await tenant_client(tb_server) as tb:
        token = f"TOKEN-{uuid.uuid4().hex[:12]}"
        device = await tb.devices.save_device(Device(f"console-{uuid.uuid4().hex[:8]}", "default"), access_token=token)
        assert device.id is not None
        try:
            credentials = await tb.devices.get_device_credentials_by_device_id(device.id)
            assert credentials.credentials_id == token and credentials.credentials_type == "ACCESS_TOKEN"
            customer = await tb.customers.get_tenant_customer("Customer B")
            assert customer is not None and customer.id is not None
            assigned = await tb.devices.assign_device_to_customer(customer.id, device.id)
            assert assigned.customer_id == customer.id
            info = await tb.devices.get_device_info(device.id)
            assert info.customer_title == "Customer B"
            unassigned = await tb.devices.unassign_device_from_customer(device.id)
            assert unassigned.customer_id is not None and unassigned.customer_id.is_null
            assert await tb.devices.get_tenant_device(device.name) is not None
        finally:
            await tb.devices.delete_device(device.id)
        with pytest.raises(NotFoundError):
            await tb.devices.get_device(device.id)
        assert await tb.devices.get_tenant_device(device.name) is None


async def test_profiles_dashboards_export_and_keys(tb_server: Any) -> None:
    async with await tenant_client(tb_server) as tb:
        profiles = await tb.device_profiles.get_device_profile_infos(PageLink(50))
        assert {"default", "thermostat"} <= {p.name for p in profiles.data}
        dashboards = await tb.dashboards.get_tenant_dashboards(PageLink(50))
        first = dashboards.data[0]
        assert first.id is not None
        exported = json.loads(await tb.dashboards.export_dashboard_json(first.id))
        assert exported["title"] == first.title and "configuration" in exported
        full = await tb.dashboards.get_dashboard(first.id)
        assert full.title == first.title
        assert (
            await tb.customers.get_customer_title(
                (await tb.customers.get_tenant_customer("Customer A")).id  # type: ignore[union-attr]
            )
            == "Customer A"
        )
        device = (await tb.devices.get_tenant_device_infos(PageLink(1, text_search="Thermostat T1"))).data[0]
        assert device.id is not None
        keys = await tb.attributes.get_attribute_keys_by_scope(device.id, AttributeScope.SERVER_SCOPE)
        assert "temperatureAlarmThreshold" in keys or keys
        latest = await tb.attributes.get_latest_timeseries(device.id)
        assert all(value.ts > 0 for value in latest.values())
