"""The auth store: the current token and auth record, with change notifications.

`is_valid` is only a local check of the token's `exp` (PocketBase treats a bad token as a guest and answers
200 with fewer rows, so the client must know itself). Nothing here prints the token.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from console.pocketbase.models import RecordModel

__all__ = ["AuthStore", "decode_token_payload"]

log = logging.getLogger(__name__)

AuthChangeCallback = Callable[[str, "RecordModel | None"], None]

SUPERUSERS = "_superusers"
_SUPERUSERS_ID = "pbc_3142635823"  # the system collection id since v0.23


def decode_token_payload(token: str) -> dict[str, Any]:
    """The JWT's claims without verifying the signature (only the server can), or {} when it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


class AuthStore:
    """In-memory auth state. Subclass (or wrap `save`/`clear`) to persist it; see `on_change`."""

    def __init__(self, token: str = "", record: RecordModel | None = None) -> None:
        self._token = token
        self._record = record
        self._listeners: list[AuthChangeCallback] = []

    def __repr__(self) -> str:
        who = self._record.id if self._record else None
        return f"{type(self).__name__}(record={who!r}, valid={self.is_valid})"

    @property
    def token(self) -> str:
        return self._token

    @property
    def record(self) -> RecordModel | None:
        return self._record

    @property
    def claims(self) -> dict[str, Any]:
        return decode_token_payload(self._token) if self._token else {}

    @property
    def is_valid(self) -> bool:
        """True when a token is stored and its `exp` lies in the future (a local check only)."""
        exp = self.claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            return False
        return exp > time.time()

    @property
    def is_superuser(self) -> bool:
        claims = self.claims
        if claims.get("type") != "auth":
            return False
        if self._record is not None and self._record.collection_name == SUPERUSERS:
            return True
        return claims.get("collectionId") == _SUPERUSERS_ID

    def save(self, token: str, record: RecordModel | None = None) -> None:
        """Replace the auth state and notify listeners."""
        self._token = token or ""
        self._record = record
        self._notify()

    def clear(self) -> None:
        """Forget the token and record ("log out") and notify listeners."""
        self._token = ""
        self._record = None
        self._notify()

    def on_change(self, callback: AuthChangeCallback, fire_immediately: bool = False) -> Callable[[], None]:
        """Call `callback(token, record)` after every save/clear; returns a function that removes it."""
        self._listeners.append(callback)
        if fire_immediately:
            callback(self._token, self._record)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def _notify(self) -> None:
        for callback in list(self._listeners):
            try:
                callback(self._token, self._record)
            except Exception:  # a broken listener must not break the login of everybody else
                log.exception("auth store listener %r failed", callback)
