"""API-key authentication (ThingsBoard 4.3+, reference §1.3): the official client and raw HTTP against the emulator."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tb_ce_client.api.device_controller_api import DeviceControllerApi
from tb_ce_client.api_client import ApiClient
from tb_ce_client.client import ThingsboardClient
from tb_ce_client.configuration import Configuration
from tb_ce_client.exceptions import ApiException
from tb_ce_client.models.api_key_info import ApiKeyInfo
from tb_ce_client.models.entity_type import EntityType
from tb_ce_client.models.user_id import UserId

from tests.tbserver.clients import CUSTOMER, TENANT, official, page_all, raw_client


def counters(server: Any) -> dict[str, int]:
    return server.call(lambda: dict(server.store.counters))


def error_of(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def test_official_client_pages_device_infos_with_the_seeded_key_and_never_logs_in(tb_server_factory):
    server = tb_server_factory(devices=57)
    before = counters(server)
    client = ThingsboardClient(server.url, api_key=server.tenant_api_key)
    pages = list(page_all(client.get_tenant_device_infos, page_size=20))
    assert [len(p.data) for p in pages] == [20, 20, 17]
    names = [d.name for p in pages for d in p.data]
    assert len(set(names)) == 57 and "Thermostat T1" in names
    assert client.get_user().email == "tenant@thingsboard.org"
    after = counters(server)
    assert after["login"] == before["login"] and after["refresh"] == before["refresh"]


def test_plain_configuration_with_api_key_prefix_sends_x_authorization(tb_server):
    configuration = Configuration(host=tb_server.url)
    configuration.api_key["ApiKeyForm"] = tb_server.tenant_api_key
    configuration.api_key_prefix["ApiKeyForm"] = "ApiKey"
    devices = DeviceControllerApi(ApiClient(configuration))
    page = devices.get_tenant_device_infos(page_size=5, page=0)
    assert len(page.data) == 5 and page.total_elements == 300


def test_key_created_by_a_user_acts_as_that_user_and_stops_when_disabled(tb_server):
    customer = official(tb_server.url, CUSTOMER)
    me = customer.get_user()
    user_id = UserId(id=me.id.id, entity_type=EntityType.USER)
    created = customer.save_api_key(ApiKeyInfo(user_id=user_id, description="console laptop"))
    assert created.value and created.value != tb_server.tenant_api_key
    assert created.enabled is True and created.expired is False and created.expiration_time == 0
    assert str(created.user_id.id) == str(me.id.id)

    listed = customer.get_user_api_keys(str(me.id.id), page_size=10, page=0, text_search="LAPTOP")
    assert [str(k.id.id) for k in listed.data] == [str(created.id.id)]
    assert "value" not in listed.data[0].model_fields_set  # the secret is shown once, on creation

    by_key = ThingsboardClient(tb_server.url, api_key=created.value)
    assert by_key.get_user().email == "customer@thingsboard.org"
    visible = list(page_all(by_key.get_customer_device_infos, customer_id=str(me.customer_id.id)))
    assert visible[0].total_elements > 0
    with pytest.raises(ApiException) as denied:  # a customer's key cannot list the tenant's devices
        by_key.get_tenant_device_infos(page_size=5, page=0)
    assert denied.value.status == 403

    customer.enable_api_key(created.id.id, False)
    with pytest.raises(ApiException) as disabled:
        by_key.get_user()
    assert disabled.value.status == 401
    assert error_of(disabled.value)["message"] == "User account is not active"
    customer.enable_api_key(created.id.id, True)
    assert by_key.get_user().email == "customer@thingsboard.org"

    customer.delete_api_key(created.id.id)
    with pytest.raises(ApiException) as deleted:
        by_key.get_user()
    assert deleted.value.status == 401 and error_of(deleted.value)["errorCode"] == 10


def test_customer_cannot_create_a_key_for_the_tenant_admin(tb_server):
    tenant_id = official(tb_server.url, TENANT).get_user().id.id
    customer = official(tb_server.url, CUSTOMER)
    with pytest.raises(ApiException) as denied:
        customer.save_api_key(ApiKeyInfo(user_id=UserId(id=tenant_id, entity_type=EntityType.USER), description="x"))
    assert denied.value.status == 403 and error_of(denied.value)["errorCode"] == 20


@pytest.mark.parametrize("header", ["X-Authorization", "Authorization"])
def test_both_headers_carry_an_api_key(tb_server, header):
    with httpx.Client(base_url=tb_server.url, headers={header: f"ApiKey {tb_server.tenant_api_key}"}) as http:
        user = http.get("/api/auth/user")
        assert user.status_code == 200 and user.json()["email"] == "tenant@thingsboard.org"
        page = http.get("/api/tenant/deviceInfos", params={"pageSize": 3, "page": 0})
        assert page.status_code == 200 and len(page.json()["data"]) == 3


@pytest.mark.parametrize("key", ["tb_not-a-real-key", "almost"])
def test_unknown_key_is_401_with_the_standard_error_json(tb_server, key):
    if key == "almost":  # the seeded key with its last character changed
        key = tb_server.tenant_api_key[:-1] + ("x" if tb_server.tenant_api_key[-1] != "x" else "y")
    response = httpx.get(f"{tb_server.url}/api/tenant/deviceInfos?pageSize=3&page=0",
                         headers={"X-Authorization": f"ApiKey {key}"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["status", "message", "errorCode", "timestamp"]
    assert body["status"] == 401 and body["errorCode"] == 10
    assert body["message"] == "Invalid username or password"  # BadCredentialsException, like a malformed JWT (§1.4)


def test_x_authorization_wins_over_authorization(tb_server):
    headers = {"X-Authorization": "ApiKey tb_wrong", "Authorization": f"ApiKey {tb_server.tenant_api_key}"}
    assert httpx.get(f"{tb_server.url}/api/auth/user", headers=headers).status_code == 401


def test_expired_key_is_refused(tb_server_factory):
    server = tb_server_factory(devices=5)
    with raw_client(server.url) as http:
        me = http.get("/api/auth/user").json()
        soon = server.call(server.store.now_ms) + 60_000
        created = http.post("/api/apiKey", json={"userId": me["id"], "description": "short", "expirationTime": soon})
        assert created.status_code == 200
        assert list(created.json()) == ["id", "createdTime", "tenantId", "userId", "expirationTime", "description",
                                        "enabled", "value", "expired"]
    value = created.json()["value"]
    headers = {"X-Authorization": f"ApiKey {value}"}
    assert httpx.get(f"{server.url}/api/auth/user", headers=headers).status_code == 200
    server.call(lambda: server.store.advance(120))
    response = httpx.get(f"{server.url}/api/auth/user", headers=headers)
    assert response.status_code == 401
    assert response.json()["message"] == "Authentication failed" and response.json()["errorCode"] == 10
