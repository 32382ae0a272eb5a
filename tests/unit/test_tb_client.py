"""ThingsboardClient session and send path through httpx.MockTransport: auth, refresh, 429, errors, URLs."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
import warnings
from typing import Any

import httpx
import pytest

from console.thingsboard import (
    NULL_UUID,
    ApiError,
    AuthenticationError,
    InsecureTlsWarning,
    InvalidUrlError,
    LoginRequest,
    NetworkError,
    NotFoundError,
    PageLink,
    RateLimitedError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    ThingsboardClient,
)
from console.thingsboard import auth as auth_module

FAST = RetryPolicy(max_retries=3, base_delay=0.001, max_delay=0.005)
PAGE = {"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False}


def make_jwt(claims: dict[str, Any]) -> str:
    def enc(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'HS512'})}.{enc(claims)}.signature"


class FakeTB:
    """Just enough of ThingsBoard's auth rules to exercise the client (reference §1)."""

    def __init__(self, *, ttl: int = 9000, refresh_ttl: int = 604800, clock_offset: int = 0) -> None:
        self.ttl, self.refresh_ttl, self.clock_offset = ttl, refresh_ttl, clock_offset
        self.valid: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.logins = self.refreshes = 0
        self.requests: list[str] = []
        self.refresh_answer: httpx.Response | None = None
        self.script: dict[str, list[httpx.Response]] = {}
        self.serial = 0
        self.refresh_started = asyncio.Event()

    def issue(self) -> dict[str, str]:
        self.serial += 1
        now = int(time.time()) + self.clock_offset
        common = {"sub": "tenant@thingsboard.org", "userId": "u-1", "iat": now, "jti": str(self.serial)}
        access = make_jwt(
            common | {"scopes": ["TENANT_ADMIN"], "tenantId": "t-1", "customerId": NULL_UUID, "exp": now + self.ttl}
        )
        refresh = make_jwt(common | {"scopes": ["REFRESH_TOKEN"], "exp": now + self.refresh_ttl})
        self.valid.add(access)
        self.valid_refresh.add(refresh)
        return {"token": access, "refreshToken": refresh}

    def expire_all(self) -> None:
        self.valid.clear()

    async def handler(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let concurrent requests interleave
        path = request.url.path
        self.requests.append(path)
        if path == "/api/auth/login":
            self.logins += 1
            body = json.loads(request.content)
            if body != {"username": "tenant@thingsboard.org", "password": "tenant"}:
                return httpx.Response(
                    401, json={"status": 401, "message": "Invalid username or password", "errorCode": 10}
                )
            return httpx.Response(200, json=self.issue())
        if path == "/api/auth/token":
            self.refreshes += 1
            self.refresh_started.set()
            await asyncio.sleep(0.01)
            if self.refresh_answer is not None:
                return self.refresh_answer
            token = json.loads(request.content)["refreshToken"]
            if token not in self.valid_refresh:
                return httpx.Response(401, json={"status": 401, "message": "Token is outdated", "errorCode": 10})
            self.valid_refresh.discard(token)
            return httpx.Response(200, json=self.issue())
        if self.script.get(path):
            return self.script[path].pop(0)
        header = request.headers.get("x-authorization", "")
        if header.startswith("ApiKey "):
            if header != "ApiKey good-key":
                return httpx.Response(401, json={"status": 401, "message": "Invalid API key", "errorCode": 10})
        elif header.removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"status": 401, "message": "Token has expired", "errorCode": 11})
        if path == "/api/tenant/deviceInfos":
            return httpx.Response(200, json=PAGE)
        if path == "/api/auth/user":
            return httpx.Response(200, json={"email": "tenant@thingsboard.org", "authority": "TENANT_ADMIN"})
        return httpx.Response(404, json={"status": 404, "message": "Requested item wasn't found!", "errorCode": 32})


def client_for(fake: FakeTB, **kwargs: Any) -> ThingsboardClient:
    kwargs.setdefault("retry", FAST)
    return ThingsboardClient("http://tb.test:8080", transport=httpx.MockTransport(fake.handler), **kwargs)


async def logged_in(fake: FakeTB, **kwargs: Any) -> ThingsboardClient:
    tb = client_for(fake, **kwargs)
    await tb.login(LoginRequest("tenant@thingsboard.org", "tenant"), keep_password=kwargs.pop("keep", True))
    return tb


# --- login, claims, logout ------------------------------------------------------------------------


async def test_login_decodes_claims_and_context_manager_closes() -> None:
    fake = FakeTB()
    async with client_for(fake) as tb:
        assert not tb.is_authenticated()
        await tb.login(LoginRequest("tenant@thingsboard.org", "tenant"))
        assert tb.is_authenticated()
        user = tb.auth_user
        assert user is not None
        assert (user.sub, user.user_id, user.tenant_id, user.authority) == (
            "tenant@thingsboard.org",
            "u-1",
            "t-1",
            "TENANT_ADMIN",
        )
        assert user.customer_id == NULL_UUID and not user.is_customer_user
        assert (await tb.users.get_user()).email == "tenant@thingsboard.org"
        await tb.logout()
        assert not tb.is_authenticated()
    assert tb._http.is_closed


async def test_wrong_password_is_authentication_error_without_refresh() -> None:
    fake = FakeTB()
    async with client_for(fake) as tb:
        with pytest.raises(AuthenticationError, match="Invalid username or password") as info:
            await tb.login(LoginRequest("tenant@thingsboard.org", "nope"))
        assert info.value.error_code == 10
        assert fake.refreshes == 0


def test_login_request_repr_hides_password() -> None:
    assert "tenant" not in repr(LoginRequest("a@b.c", "tenant"))


async def test_request_before_login_is_a_clear_error() -> None:
    fake = FakeTB()
    async with client_for(fake) as tb:
        with pytest.raises(AuthenticationError, match="Not logged in"):
            await tb.devices.get_tenant_device_infos(PageLink(10))
    assert fake.requests == []


# --- refresh --------------------------------------------------------------------------------------


async def test_401_with_code_11_refreshes_once_and_replays() -> None:
    fake = FakeTB()
    tb = await logged_in(fake)
    fake.expire_all()
    page = await tb.devices.get_tenant_device_infos(PageLink(10))
    assert page.total_elements == 0
    assert fake.refreshes == 1
    await tb.close()


async def test_concurrent_requests_across_expiry_share_one_refresh() -> None:
    fake = FakeTB()
    tb = await logged_in(fake)
    fake.expire_all()
    results = await asyncio.gather(*(tb.devices.get_tenant_device_infos(PageLink(10)) for _ in range(25)))
    assert len(results) == 25
    assert fake.refreshes == 1
    assert fake.logins == 1
    await tb.close()


async def test_cancelling_the_caller_that_started_a_refresh_does_not_break_the_others() -> None:
    fake = FakeTB()
    tb = await logged_in(fake)
    fake.expire_all()
    first = asyncio.ensure_future(tb.devices.get_tenant_device_infos(PageLink(10)))
    await fake.refresh_started.wait()  # the first caller has started the refresh
    others = [asyncio.ensure_future(tb.devices.get_tenant_device_infos(PageLink(10))) for _ in range(5)]
    first.cancel()
    results = await asyncio.gather(*others)
    assert len(results) == 5 and first.cancelled()
    assert fake.refreshes == 1
    await tb.close()


async def test_a_failed_refresh_reaches_every_waiter_and_the_next_call_tries_again() -> None:
    fake = FakeTB()
    tb = await logged_in(fake)
    fake.expire_all()
    fake.refresh_answer = httpx.Response(503, text="<html><title>503 Service Unavailable</title></html>")
    outcomes = await asyncio.gather(
        *(tb.devices.get_tenant_device_infos(PageLink(10)) for _ in range(4)), return_exceptions=True
    )
    assert all(isinstance(o, ServerError) for o in outcomes)
    assert fake.refreshes == 1
    fake.refresh_answer = None
    assert (await tb.devices.get_tenant_device_infos(PageLink(10))).total_pages == 0
    assert fake.refreshes == 2
    await tb.close()


async def test_proactive_refresh_before_expiry_then_single_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(auth_module, "_now", lambda: clock[0])
    fake = FakeTB(ttl=100)
    tb = await logged_in(fake)
    await tb.devices.get_tenant_device_infos(PageLink(10))
    assert fake.refreshes == 0
    clock[0] += 95  # 5 s left: inside the refresh margin
    await asyncio.gather(*(tb.devices.get_tenant_device_infos(PageLink(10)) for _ in range(10)))
    assert fake.refreshes == 1
    # the requests never met a 401: the refresh came first
    assert fake.requests.count("/api/auth/token") == 1
    await tb.close()


async def test_server_clock_skew_does_not_cause_refreshes() -> None:
    fake = FakeTB(ttl=600, clock_offset=-7200)  # server clock two hours behind: exp is "in the past" locally
    tb = await logged_in(fake)
    for _ in range(3):
        await tb.devices.get_tenant_device_infos(PageLink(10))
    assert fake.refreshes == 0
    await tb.close()


async def test_dead_refresh_token_falls_back_to_login_with_held_password() -> None:
    fake = FakeTB()
    tb = await logged_in(fake)
    fake.expire_all()
    fake.valid_refresh.clear()  # refresh answers 401/10 "Token is outdated"
    await tb.devices.get_tenant_device_infos(PageLink(10))
    assert fake.refreshes == 1
    assert fake.logins == 2
    await tb.close()


async def test_dead_refresh_token_without_password_is_authentication_error() -> None:
    fake = FakeTB()
    tb = client_for(fake)
    await tb.login(LoginRequest("tenant@thingsboard.org", "tenant"), keep_password=False)
    fake.expire_all()
    fake.valid_refresh.clear()
    with pytest.raises(AuthenticationError, match="session has expired"):
        await tb.devices.get_tenant_device_infos(PageLink(10))
    assert fake.logins == 1
    assert not tb.is_authenticated()
    await tb.close()


async def test_plain_text_401_is_not_a_token_problem() -> None:
    fake = FakeTB()
    tb = await logged_in(fake)
    path = "/api/plugins/telemetry/DEVICE/d-1/values/attributes"
    fake.script[path] = [
        httpx.Response(401, text="Unauthorized access to DEVICE d-1", headers={"content-type": "text/plain"})
    ]
    from console.thingsboard import EntityId

    with pytest.raises(AuthenticationError, match="Unauthorized access") as info:
        await tb.attributes.get_attribute_kv_entries(EntityId("DEVICE", "d-1"))
    assert info.value.status == 401
    assert fake.refreshes == 0
    await tb.close()


async def test_api_key_mode_sends_key_and_never_refreshes() -> None:
    fake = FakeTB()
    async with client_for(fake, api_key="good-key") as tb:
        assert tb.is_authenticated()
        assert await tb.ensure_token() is None
        await tb.devices.get_tenant_device_infos(PageLink(10))
    async with client_for(fake, api_key="bad-key") as tb:
        with pytest.raises(AuthenticationError, match="Invalid API key"):
            await tb.devices.get_tenant_device_infos(PageLink(10))
    fake.script["/api/tenant/deviceInfos"] = [
        httpx.Response(401, json={"status": 401, "message": "Token has expired", "errorCode": 11})
    ]
    async with client_for(fake, api_key="good-key") as tb:
        with pytest.raises(AuthenticationError):
            await tb.devices.get_tenant_device_infos(PageLink(10))
    assert fake.refreshes == 0 and fake.logins == 0


# --- 429 ------------------------------------------------------------------------------------------


async def test_429_is_retried_then_succeeds() -> None:
    fake = FakeTB()
    tb = await logged_in(fake)
    too_many = {"status": 429, "message": "Too many requests for current tenant!", "errorCode": 33}
    fake.script["/api/tenant/deviceInfos"] = [httpx.Response(429, json=too_many) for _ in range(2)]
    page = await tb.devices.get_tenant_device_infos(PageLink(10))
    assert page.total_pages == 0
    assert fake.requests.count("/api/tenant/deviceInfos") == 3
    await tb.close()


async def test_429_gives_up_after_the_bound_with_rate_limited_error() -> None:
    fake = FakeTB()
    tb = await logged_in(fake)
    too_many = {"status": 429, "message": "Too many requests for current tenant!", "errorCode": 33}
    fake.script["/api/tenant/deviceInfos"] = [
        httpx.Response(429, json=too_many, headers={"Retry-After": "0"}) for _ in range(10)
    ]
    with pytest.raises(RateLimitedError, match="Too many requests") as info:
        await tb.devices.get_tenant_device_infos(PageLink(10))
    assert info.value.error_code == 33
    assert fake.requests.count("/api/tenant/deviceInfos") == FAST.max_retries + 1
    await tb.close()


def test_backoff_honours_retry_after_within_the_cap_and_grows_without_it() -> None:
    tb = ThingsboardClient("http://tb.test", retry=RetryPolicy(base_delay=0.5, max_delay=8.0))
    assert tb._backoff(1, "3") == 3.0
    assert tb._backoff(1, "120") == 8.0  # bounded
    first, third = tb._backoff(1, None), tb._backoff(3, None)
    assert 0.4 <= first <= 0.6 and 1.6 <= third <= 2.4
    assert tb._backoff(10, None) <= 8.0 * 1.2


# --- errors ---------------------------------------------------------------------------------------


def raising(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


def answering(response: httpx.Response) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: response)


@pytest.mark.parametrize(
    ("response", "cls", "text"),
    [
        (
            httpx.Response(
                502,
                text="<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
                headers={"content-type": "text/html"},
            ),
            ServerError,
            "502 Bad Gateway",
        ),
        (httpx.Response(500, text='{"status": 500, "message": "Databa'), ServerError, "cut off"),
        (httpx.Response(404, text="Device with requested id wasn't found!"), NotFoundError, "wasn't found"),
        (
            httpx.Response(404, json={"status": 404, "message": "Device with id [x] is not found", "errorCode": 32}),
            NotFoundError,
            "Device with id",
        ),
    ],
)
async def test_error_bodies_become_readable_api_errors(response: httpx.Response, cls: type, text: str) -> None:
    async with ThingsboardClient("http://tb.test", api_key="k", transport=answering(response)) as tb:
        with pytest.raises(cls, match=text) as info:
            await tb.devices.get_device("x")
    assert info.value.status == response.status_code
    assert "Traceback" not in info.value.message


async def test_unreadable_success_body_is_an_api_error() -> None:
    async with ThingsboardClient(
        "http://tb.test", api_key="k", transport=answering(httpx.Response(200, text="{oops"))
    ) as tb:
        with pytest.raises(ApiError, match="could not be read"):
            await tb.devices.get_device("x")


@pytest.mark.parametrize(
    ("exc", "cls", "text"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), NetworkError, "DNS"),
        (httpx.ReadTimeout("timed out"), RequestTimeoutError, "took too long"),
        (httpx.ConnectTimeout("timed out"), RequestTimeoutError, "connecting"),
    ],
)
async def test_transport_failures_become_network_errors(exc: Exception, cls: type, text: str) -> None:
    async with ThingsboardClient("http://tb.test", api_key="k", transport=raising(exc)) as tb:
        with pytest.raises(cls, match=text) as info:
            await tb.devices.get_device("x")
    assert info.value.original_error is exc


async def test_connection_refused_on_a_closed_local_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ThingsboardClient(f"http://127.0.0.1:{port}", trust_env=False) as tb:
        with pytest.raises(NetworkError, match=r"Could not connect to 127\.0\.0\.1"):
            await tb.login(LoginRequest("a", "b"))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("", "empty"),
        ("localhost:8080", "no scheme"),
        ("ftp://tb.example.com", "http:// or https://"),
        ("http://", "no host"),
        ("http://tb.example.com/?x=1", "must not contain"),
        ("http://user:pw@tb.example.com", "user name"),
        ("http://exa mple.com", "not a valid URL"),
    ],
)
def test_bad_urls_are_refused_before_any_request(url: str, why: str) -> None:
    with pytest.raises(InvalidUrlError, match=why):
        ThingsboardClient(url)


async def test_path_injection_in_ids_is_refused() -> None:
    fake = FakeTB()
    async with client_for(fake, api_key="good-key") as tb:
        with pytest.raises(InvalidUrlError):
            await tb.devices.get_device("../auth/user")
    assert fake.requests == []


# --- TLS and proxy --------------------------------------------------------------------------------


def test_tls_verified_by_default_and_opt_out_warns(tmp_path: Any) -> None:
    import ssl

    tb = ThingsboardClient("https://tb.example.com")
    assert tb.ssl_context is not None and tb.ssl_context.verify_mode == ssl.CERT_REQUIRED
    with pytest.warns(InsecureTlsWarning):
        insecure = ThingsboardClient("https://tb.example.com", verify=False)
    assert insecure.ssl_context is not None and insecure.ssl_context.verify_mode == ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ThingsboardClient("https://tb.example.com")  # no warning when verifying
    with pytest.raises(InvalidUrlError, match="CA bundle"):
        ThingsboardClient("https://tb.example.com", ca_bundle=tmp_path / "missing.pem")


def test_ca_bundle_and_proxy_settings_are_kept() -> None:
    import certifi

    tb = ThingsboardClient("https://tb.example.com", ca_bundle=certifi.where(), proxy="http://127.0.0.1:3128")
    assert tb.proxy == "http://127.0.0.1:3128"
    assert tb.ssl_context is not None
    assert tb.base_url == httpx.URL("https://tb.example.com/")
