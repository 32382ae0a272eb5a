"""Fixtures the conformance modules share."""

from __future__ import annotations

import pytest

from tests.tbserver.clients import TENANT, official


@pytest.fixture(scope="module")
def tenant(tb_server):
    """The official client signed in as the seeded tenant admin, once per test module."""
    return official(tb_server.url, TENANT)
