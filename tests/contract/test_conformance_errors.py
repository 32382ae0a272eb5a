"""Error cases as the official client sees them (§1.4, §2.1): wrong password, unknown ids, expiry, 429 retry."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from tb_ce_client.exceptions import ApiException

from tests.tbserver.clients import TENANT, official, raw_login


def test_wrong_password_is_401_code_10(tb_server):
    with pytest.raises(ApiException) as info:
        official(tb_server.url, ("tenant@thingsboard.org", "wrong"))
    assert info.value.status == 401
    body = json.loads(info.value.body)
    assert body["errorCode"] == 10 and body["message"] == "Invalid username or password"


def test_unknown_device_is_404_code_32(tenant):
    missing = str(uuid.uuid4())
    with pytest.raises(ApiException) as info:
        tenant.get_device_by_id(missing)
    assert info.value.status == 404
    body = json.loads(info.value.body)
    assert body == {"status": 404, "message": f"Device with id [{missing}] is not found", "errorCode": 32,
                    "timestamp": body["timestamp"]}


def test_unknown_dashboard_and_customer_are_404(tenant):
    for call in (tenant.get_dashboard_by_id, tenant.get_customer_by_id):
        with pytest.raises(ApiException) as info:
            call(str(uuid.uuid4()))
        assert info.value.status == 404 and json.loads(info.value.body)["errorCode"] == 32


def test_malformed_uuid_is_400_code_31(tenant):
    with pytest.raises(ApiException) as info:
        tenant.get_device_by_id("not-a-uuid")
    assert info.value.status == 400 and json.loads(info.value.body)["message"] == "Invalid UUID string: not-a-uuid"


def test_expired_token_is_401_code_11_and_the_client_recovers_by_refreshing(tb_server_factory):
    server = tb_server_factory(devices=10, access_token_ttl=20)
    stale = raw_login(server.url)["token"]
    server.call(lambda: server.store.advance(21))
    response = httpx.get(f"{server.url}/api/auth/user", headers={"X-Authorization": f"Bearer {stale}"})
    assert response.status_code == 401 and response.json()["errorCode"] == 11
    refreshes = server.call(lambda: server.store.counters["refresh"])
    client = official(server.url, TENANT)  # 20 s < its 30 s margin: it refreshes before every call
    assert client.get_tenant_device_infos(page_size=10, page=0).total_elements == 10
    assert server.call(lambda: server.store.counters["refresh"]) > refreshes


def test_sysadmin_may_not_read_devices(tb_server, tenant):
    device = tenant.get_tenant_device_infos(page_size=1, page=0).data[0]
    sysadmin = official(tb_server.url, ("sysadmin@thingsboard.org", "sysadmin"))
    with pytest.raises(ApiException) as info:
        sysadmin.get_device_by_id(str(device.id.id))
    assert info.value.status == 403 and json.loads(info.value.body)["errorCode"] == 20


def test_injected_429_is_retried_by_the_client(tb_server_factory):
    server = tb_server_factory(devices=10)
    client = official(server.url, TENANT, initial_retry_delay_ms=10)
    server.faults.add("GET", r"^/api/tenant/deviceInfos$", 429, headers={"Retry-After": "0"}, times=2)
    assert client.get_tenant_device_infos(page_size=10, page=0).total_elements == 10
    assert server.faults.pending() == 0
