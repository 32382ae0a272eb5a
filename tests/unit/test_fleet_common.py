"""console.fleet._common: the connection-state listeners and the attribute-scope rules both fleets share."""

from __future__ import annotations

import logging

import pytest

from console.errors import ApiError, PermissionDeniedError
from console.fleet._common import ATTRIBUTE_SCOPES, StateBroadcaster, check_scope
from console.fleet.base import ConnectionState


class _Adapter(StateBroadcaster):
    def go(self, state: ConnectionState, detail: str = "") -> None:
        self._set_state(state, detail)


def test_listeners_hear_every_change_until_removed():
    adapter = _Adapter()
    heard: list[tuple[ConnectionState, str]] = []
    remove = adapter.on_state(lambda state, detail: heard.append((state, detail)))
    assert adapter.state is ConnectionState.DISCONNECTED
    adapter.go(ConnectionState.CONNECTING, "tb.example.com")
    adapter.go(ConnectionState.CONNECTED)
    remove()
    remove()  # a second call is harmless
    adapter.go(ConnectionState.FAILED, "gone")
    assert heard == [(ConnectionState.CONNECTING, "tb.example.com"), (ConnectionState.CONNECTED, "")]
    assert adapter.state is ConnectionState.FAILED


def test_a_broken_listener_is_logged_and_the_others_still_hear(caplog):
    adapter = _Adapter()
    heard: list[ConnectionState] = []

    def broken(_state: ConnectionState, _detail: str) -> None:
        raise RuntimeError("boom")

    adapter.on_state(broken)
    adapter.on_state(lambda state, _detail: heard.append(state))
    with caplog.at_level(logging.ERROR):
        adapter.go(ConnectionState.CONNECTED)
    assert heard == [ConnectionState.CONNECTED]
    assert any(r.name == __name__ and "listener failed" in r.getMessage() for r in caplog.records)


def test_scopes_are_thingsboards_three_with_the_client_scope_read_only():
    assert [(s.name, s.writable) for s in ATTRIBUTE_SCOPES] == [
        ("CLIENT_SCOPE", False),
        ("SHARED_SCOPE", True),
        ("SERVER_SCOPE", True),
    ]


def test_check_scope_refuses_unknown_scopes_and_client_scope_writes():
    check_scope("CLIENT_SCOPE", writing=False)
    check_scope("SERVER_SCOPE", writing=True)
    with pytest.raises(PermissionDeniedError, match="read-only"):
        check_scope("CLIENT_SCOPE", writing=True)
    with pytest.raises(ApiError, match="Unknown attribute scope 'BOGUS'") as caught:
        check_scope("BOGUS", writing=False)
    assert not isinstance(caught.value, PermissionDeniedError)
