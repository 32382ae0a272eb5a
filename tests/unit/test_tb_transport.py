"""Transport settings against real local sockets: a private CA over TLS, verification on by default, proxies."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from console.thingsboard import AuthenticationError, InsecureTlsWarning, LoginRequest, NetworkError, ThingsboardClient

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    folder = tmp_path_factory.mktemp("pki")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Thingscope Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
        cwd=folder,
    )
    (folder / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        cwd=folder,
    )
    return folder


@pytest.fixture
async def tls_server(private_ca: Path) -> AsyncIterator[str]:
    async def login(request: web.Request) -> web.Response:
        return web.json_response(
            {"status": 401, "message": "Invalid username or password", "errorCode": 10}, status=401
        )

    app = web.Application()
    app.router.add_post("/api/auth/login", login)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(private_ca / "server.pem", private_ca / "server.key")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}"
    await runner.cleanup()


async def test_private_ca_is_trusted_only_when_given(tls_server: str, private_ca: Path) -> None:
    # Verified by default: the private CA is unknown to the OS store, so the handshake fails readably.
    async with ThingsboardClient(tls_server) as tb:
        with pytest.raises(NetworkError, match="secure connection") as info:
            await tb.login(LoginRequest("a@b.c", "x"))
        assert "certificate" in info.value.message.lower()
    # With the per-client CA bundle the TLS session works (the server's 401 comes through).
    async with ThingsboardClient(tls_server, ca_bundle=private_ca / "ca.pem") as tb:
        with pytest.raises(AuthenticationError, match="Invalid username or password"):
            await tb.login(LoginRequest("a@b.c", "x"))
    # The explicit opt-out connects too, and says so.
    with pytest.warns(InsecureTlsWarning):
        insecure = ThingsboardClient(tls_server, verify=False)
    async with insecure as tb:
        with pytest.raises(AuthenticationError):
            await tb.login(LoginRequest("a@b.c", "x"))


@pytest.fixture
async def fake_proxy() -> AsyncIterator[tuple[str, list[str]]]:
    """A plain-HTTP forward proxy stand-in: records the absolute URLs it is asked for and answers 401 JSON."""
    seen: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        seen.append(str(request.url))
        return web.json_response(
            {"status": 401, "message": "Invalid username or password", "errorCode": 10}, status=401
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    await runner.cleanup()


async def test_explicit_proxy_is_used(fake_proxy: tuple[str, list[str]]) -> None:
    proxy, seen = fake_proxy
    async with ThingsboardClient("http://tb.invalid:8080", proxy=proxy, trust_env=False) as tb:
        with pytest.raises(AuthenticationError):
            await tb.login(LoginRequest("a@b.c", "x"))
    assert seen and "tb.invalid:8080/api/auth/login" in seen[0]


async def test_environment_proxy_is_honoured_by_default_and_can_be_ignored(
    fake_proxy: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, seen = fake_proxy
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with ThingsboardClient("http://tb.invalid:8080") as tb:
        with pytest.raises(AuthenticationError):
            await tb.login(LoginRequest("a@b.c", "x"))
    assert len(seen) == 1
    async with ThingsboardClient("http://tb.invalid:8080", trust_env=False) as tb:
        with pytest.raises(NetworkError):  # straight to DNS for tb.invalid, which cannot resolve
            await tb.login(LoginRequest("a@b.c", "x"))
    assert len(seen) == 1
