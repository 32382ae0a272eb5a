"""The official client logs in, refreshes and logs out against the emulator (reference §1)."""

from __future__ import annotations

import httpx
import pytest
from tb_ce_client.models.refresh_token_request import RefreshTokenRequest

from tests.tbserver.clients import CUSTOMER, SYSADMIN, TENANT, claims, official, raw_client
from tests.tbserver.model import NULL_UUID


def test_tenant_login_gives_a_token_shaped_like_thingsboards(tb_server):
    client = official(tb_server.url, TENANT)
    user = client.get_user()
    assert user.email == "tenant@thingsboard.org"
    assert user.authority.value == "TENANT_ADMIN"
    body = claims(client.get_token())
    assert list(body)[:7] == ["sub", "userId", "scopes", "sessionId", "exp", "iss", "iat"]
    assert body["scopes"] == ["TENANT_ADMIN"]
    assert body["userId"] == str(user.id.id)
    assert body["customerId"] == NULL_UUID  # present, not absent, for tenant admins
    assert body["tenantId"] == str(user.tenant_id.id)
    assert body["exp"] - body["iat"] == 9000
    refresh = claims(client.get_refresh_token())
    assert refresh["scopes"] == ["REFRESH_TOKEN"] and refresh["sessionId"] == body["sessionId"]


def test_customer_user_belongs_to_customer_a(tb_server):
    client = official(tb_server.url, CUSTOMER)
    user = client.get_user()
    assert user.authority.value == "CUSTOMER_USER"
    customer = client.get_customer_by_id(str(user.customer_id.id))
    assert customer.title == "Customer A"
    assert claims(client.get_token())["customerId"] == str(user.customer_id.id)


def test_sysadmin_has_null_tenant_and_customer(tb_server):
    client = official(tb_server.url, SYSADMIN)
    user = client.get_user()
    assert user.authority.value == "SYS_ADMIN"
    assert str(user.tenant_id.id) == NULL_UUID and str(user.customer_id.id) == NULL_UUID


def test_refresh_rotates_both_tokens_and_the_session(tb_server):
    client = official(tb_server.url, TENANT)
    old_refresh = client.get_refresh_token()
    pair = client.login_endpoint.refresh_token(RefreshTokenRequest(refresh_token=old_refresh))
    assert pair.refresh_token != old_refresh
    assert claims(pair.token)["sessionId"] != claims(client.get_token())["sessionId"]
    assert claims(pair.refresh_token)["sessionId"] == claims(pair.token)["sessionId"]


def test_logout_outdates_that_session_only(tb_server):
    first, second = official(tb_server.url, TENANT), official(tb_server.url, TENANT)
    token = first.get_token()
    first.logout()
    response = httpx.get(f"{tb_server.url}/api/auth/user", headers={"X-Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["errorCode"] == 11
    assert second.get_user().email == "tenant@thingsboard.org"


def test_client_refreshes_a_short_lived_token_by_itself(tb_server_factory):
    server = tb_server_factory(devices=20, access_token_ttl=5)
    client = official(server.url, TENANT)
    before = server.call(lambda: server.store.counters["refresh"])
    page = client.get_tenant_device_infos(page_size=5, page=0)
    assert page.total_elements == 20
    assert server.call(lambda: server.store.counters["refresh"]) > before


def test_client_logs_in_again_when_both_tokens_are_short_lived(tb_server_factory):
    server = tb_server_factory(devices=20, access_token_ttl=5, refresh_token_ttl=5)
    client = official(server.url, TENANT)
    logins = server.call(lambda: server.store.counters["login"])
    assert client.get_user().email == "tenant@thingsboard.org"
    assert server.call(lambda: server.store.counters["login"]) > logins  # re-login, since refresh is useless


def test_wrong_password_fails_the_official_login(tb_server):
    from tb_ce_client.exceptions import ApiException

    with pytest.raises(ApiException) as info:
        official(tb_server.url, ("tenant@thingsboard.org", "nope"))
    assert info.value.status == 401


def test_password_change_outdates_older_tokens(tb_server_factory):
    from tb_ce_client.models.change_password_request import ChangePasswordRequest

    server = tb_server_factory(devices=5)
    client = official(server.url, CUSTOMER)
    old_token = client.get_token()
    server.call(lambda: server.store.advance(2))  # older tokens are judged with second granularity
    pair = client.change_password(ChangePasswordRequest(current_password="customer", new_password="s3cret"))
    assert pair.token and pair.refresh_token
    stale = httpx.get(f"{server.url}/api/auth/user", headers={"X-Authorization": f"Bearer {old_token}"})
    assert stale.status_code == 401 and stale.json()["errorCode"] == 11
    fresh = httpx.get(f"{server.url}/api/auth/user", headers={"X-Authorization": f"Bearer {pair.token}"})
    assert fresh.json()["email"] == "customer@thingsboard.org"
    assert official(server.url, ("customer@thingsboard.org", "s3cret")).get_user().email == fresh.json()["email"]


def test_system_info_says_ce(tb_server):
    assert httpx.get(f"{tb_server.url}/api/system/info").status_code == 401  # any role, but a role
    with raw_client(tb_server.url, CUSTOMER) as http:
        body = http.get("/api/system/info").json()
    assert body == {"version": "4.3.1.3", "artifact": "application", "name": "ThingsBoard", "type": "CE"}
