"""Credentials and JWT handling: login request, decoded claims, and the local view of token lifetimes.

Expiry is judged from `exp - iat` measured from the moment we received the token, on the monotonic
clock, so a laptop whose wall clock is off by minutes still refreshes at the right time (reference §9.2).
"""

from __future__ import annotations

import base64
import time

import msgspec

from console.thingsboard.models import NULL_UUID

__all__ = ["AuthUser", "LoginRequest", "TokenState", "decode_jwt_claims"]


class LoginRequest(msgspec.Struct, frozen=True):
    """`LoginRequest(username, password)`; the repr never shows the password."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"LoginRequest(username={self.username!r}, password='***')"


class AuthUser(msgspec.Struct, frozen=True, rename="camel", kw_only=True):
    """The claims of the access token (reference §1.2)."""

    sub: str = ""
    user_id: str | None = None
    scopes: list[str] = []
    tenant_id: str | None = None
    customer_id: str | None = None
    session_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    enabled: bool = True
    is_public: bool = False
    exp: int | None = None
    iat: int | None = None

    @property
    def authority(self) -> str:
        return self.scopes[0] if self.scopes else ""

    @property
    def is_customer_user(self) -> bool:
        return bool(self.customer_id) and self.customer_id != NULL_UUID


_CLAIMS = msgspec.json.Decoder(AuthUser)


def _now() -> float:
    """The monotonic clock (a seam for tests)."""
    return time.monotonic()


def _payload(token: str) -> bytes:
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    return base64.urlsafe_b64decode(segment)


def decode_jwt_claims(token: str) -> AuthUser:
    """Decode (without verifying: clients never hold the key) the claims of a ThingsBoard JWT."""
    return _CLAIMS.decode(_payload(token))


class TokenState:
    """The token pair plus when each expires on our monotonic clock."""

    def __init__(self, token: str, refresh_token: str | None, *, received_at: float | None = None) -> None:
        now = _now() if received_at is None else received_at
        self.token = token
        self.refresh_token = refresh_token
        self.user = decode_jwt_claims(token)
        self.lifetime = _lifetime(self.user)
        self.expires_at = now + self.lifetime if self.lifetime is not None else None
        self.refresh_expires_at: float | None = None
        if refresh_token:
            try:
                lifetime = _lifetime(decode_jwt_claims(refresh_token))
            except (ValueError, msgspec.DecodeError):
                lifetime = None
            self.refresh_expires_at = now + lifetime if lifetime is not None else None

    def needs_refresh(self, margin: float, now: float | None = None) -> bool:
        """True when the access token expires within `margin` seconds (capped to a fifth of its lifetime)."""
        if self.expires_at is None or self.lifetime is None:
            return False
        now = _now() if now is None else now
        return now >= self.expires_at - min(margin, self.lifetime / 5)

    def refresh_token_alive(self, now: float | None = None) -> bool:
        if not self.refresh_token:
            return False
        if self.refresh_expires_at is None:
            return True
        now = _now() if now is None else now
        return now < self.refresh_expires_at


def _lifetime(claims: AuthUser) -> float | None:
    if claims.exp is None or claims.iat is None:
        return None
    return float(max(0, claims.exp - claims.iat))
