"""`python -m tests.tbserver` as a process: 100,000 devices, the "listening on" line, a clean SIGTERM stop."""

from __future__ import annotations

import signal
import time

import httpx

from tests.tbserver.fixture import start_subprocess


def test_standalone_server_with_100k_devices_starts_serves_and_stops_cleanly():
    started = time.perf_counter()
    url, proc = start_subprocess(devices=100_000, timeout=120)
    startup = time.perf_counter() - started
    try:
        print(f"\nstandalone emulator with 100,000 devices listening after {startup:.2f} s")
        assert url.startswith("http://127.0.0.1:")
        login = httpx.post(f"{url}/api/auth/login", json={"username": "tenant@thingsboard.org", "password": "tenant"})
        headers = {"X-Authorization": f"Bearer {login.json()['token']}"}
        page = httpx.get(f"{url}/api/tenant/deviceInfos", params={"pageSize": 1000, "page": 99}, headers=headers,
                         timeout=60).json()
        assert page["totalElements"] == 100_000 and len(page["data"]) == 1000 and page["hasNext"] is False
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, proc.stderr.read() if proc.stderr else ""


def test_standalone_server_stops_cleanly_on_sigint():
    url, proc = start_subprocess(devices=10, latency_ms=1, rate_limit=100, access_token_ttl=60)
    try:
        login = httpx.post(f"{url}/api/auth/login", json={"username": "customer@thingsboard.org",
                                                          "password": "customer"})
        assert login.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0, proc.stderr.read() if proc.stderr else ""
