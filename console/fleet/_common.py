"""What both fleet adapters share: the connection state with its `on_state` listeners, and the attribute scopes.

Both backends expose ThingsBoard's three scopes (the PocketBase demo schema stores the same names), and both refuse
writes to the client scope before any request is sent, so the rule lives here once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from console.errors import ApiError, PermissionDeniedError
from console.fleet.base import AttributeScopeInfo, ConnectionState, StateCallback

__all__ = ["ATTRIBUTE_SCOPES", "StateBroadcaster", "check_scope"]

ATTRIBUTE_SCOPES = (
    AttributeScopeInfo(name="CLIENT_SCOPE", title="Client attributes", writable=False),
    AttributeScopeInfo(name="SHARED_SCOPE", title="Shared attributes", writable=True),
    AttributeScopeInfo(name="SERVER_SCOPE", title="Server attributes", writable=True),
)
_SCOPE_NAMES = frozenset(scope.name for scope in ATTRIBUTE_SCOPES)


def check_scope(scope: str, *, writing: bool) -> None:
    """Raise `ApiError` for an unknown scope, `PermissionDeniedError` for a write to the device-owned client scope."""
    if scope not in _SCOPE_NAMES:
        raise ApiError(f"Unknown attribute scope {scope!r}.", status=400)
    if writing and scope == "CLIENT_SCOPE":
        raise PermissionDeniedError("Client attributes are reported by the device and are read-only.", status=400)


class StateBroadcaster:
    """A fleet's `state` and the `on_state` listeners told of every change; call `super().__init__()` first."""

    def __init__(self) -> None:
        self.state = ConnectionState.DISCONNECTED
        self._state_listeners: list[StateCallback] = []

    def on_state(self, callback: StateCallback) -> Callable[[], None]:
        """Call `callback(state, detail)` on every change; returns a function that removes it (safe to call twice)."""
        self._state_listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._state_listeners.remove(callback)

        return remove

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        self.state = state
        for listener in list(self._state_listeners):
            try:
                listener(state, detail)
            except Exception:  # a broken listener must not break the fleet; logged under the adapter's module
                logging.getLogger(type(self).__module__).exception("connection-state listener failed")
