"""Helpers for tests that drive the emulator with the official `tb-ce-client` (sync) or raw httpx."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from tb_ce_client.client import ThingsboardClient

TENANT = ("tenant@thingsboard.org", "tenant")
CUSTOMER = ("customer@thingsboard.org", "customer")
SYSADMIN = ("sysadmin@thingsboard.org", "sysadmin")


def official(url: str, account: tuple[str, str] = TENANT, **kwargs: Any) -> ThingsboardClient:
    """A logged-in official client (it logs in eagerly in its constructor)."""
    return ThingsboardClient(url, account[0], account[1], **kwargs)


def page_all(fetch: Callable[..., Any], page_size: int = 100, **kwargs: Any) -> Iterator[Any]:
    """Yield every PageData page of a paged official-client call until hasNext is false."""
    page = 0
    while True:
        result = fetch(page_size=page_size, page=page, **kwargs)
        yield result
        if not result.has_next:
            return
        page += 1


def claims(token: str) -> dict[str, Any]:
    """The JWT payload, decoded without verification (as clients do)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def raw_login(url: str, account: tuple[str, str] = TENANT) -> dict[str, str]:
    response = httpx.post(f"{url}/api/auth/login", json={"username": account[0], "password": account[1]})
    response.raise_for_status()
    return response.json()


def raw_client(url: str, account: tuple[str, str] | None = TENANT) -> httpx.Client:
    """An httpx client with `X-Authorization: Bearer` set (none when `account` is None)."""
    headers = {"X-Authorization": f"Bearer {raw_login(url, account)['token']}"} if account else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)
