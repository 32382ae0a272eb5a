"""Real PocketBase servers for tests (never a mock): `pb_server` (one per session) and `pb_server_factory`.

Imported by `tests/conftest.py`, so every suite can use them:

    def test_x(pb_server):            # a running LocalPocketBase with a superuser
        pb_server.url, pb_server.superuser_email, pb_server.superuser_password

    def test_y(pb_server_factory):    # a fresh, private server for a test that changes settings or restarts
        server = pb_server_factory()
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from console.pocketbase.local import LocalPocketBase

__all__ = ["pb_server", "pb_server_factory"]


@pytest.fixture(scope="session")
def pb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPocketBase]:
    """One PocketBase for the whole session; tests must not rely on it being empty (use unique names)."""
    server = LocalPocketBase(tmp_path_factory.mktemp("pb_session"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pb_server_factory(tmp_path: Path) -> Iterator[Callable[..., LocalPocketBase]]:
    """Start fresh servers (each with its own data folder); all are stopped when the test ends."""
    servers: list[LocalPocketBase] = []

    def make(**kwargs: Any) -> LocalPocketBase:
        server = LocalPocketBase(tmp_path / f"pb_{len(servers)}", **kwargs)
        servers.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()
