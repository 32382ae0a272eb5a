"""Shared fixtures. Each suite's own conftest adds what only it needs.

Network tests talk to 127.0.0.1 only; proxies from the environment are cleared so they cannot interfere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.pocketbase.fixture import pb_server, pb_server_factory  # noqa: F401 - shared fixtures
from tests.tbserver.fixture import tb_server, tb_server_factory  # noqa: F401  (ThingsBoard emulator)

for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where a GUI test saves its screenshots (the test's temporary folder)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder
