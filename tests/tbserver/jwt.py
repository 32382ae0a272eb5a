"""HS512 JSON Web Tokens shaped like ThingsBoard's (reference §1.2), with hmac/hashlib only.

Clients decode the payload without verifying it, so the key is a per-server random secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

_HEADER = {"alg": "HS512"}


class TokenError(Exception):
    """A token that cannot be used; `expired` tells the 401/11 family from the 401/10 one."""

    def __init__(self, message: str, *, expired: bool) -> None:
        super().__init__(message)
        self.expired = expired


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(claims: dict[str, Any], key: bytes) -> str:
    """Sign `claims` (insertion order kept, as ThingsBoard builds them) with HS512."""
    header = _b64(json.dumps(_HEADER, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(key, signing_input, hashlib.sha512).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def decode(token: str, key: bytes, now_s: float) -> dict[str, Any]:
    """Verify and decode; malformed → TokenError(expired=False), bad signature or expiry → expired=True.

    ThingsBoard maps signature failures to the "expired" exception (errorCode 11), so do we.
    """
    parts = token.split(".") if token else []
    if len(parts) != 3:
        raise TokenError("Invalid JWT token", expired=False)
    try:
        claims = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("Invalid JWT token", expired=False) from exc
    if not isinstance(claims, dict):
        raise TokenError("Invalid JWT token", expired=False)
    expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode("ascii"), hashlib.sha512).digest()
    if not hmac.compare_digest(expected, signature):
        raise TokenError("Token has expired", expired=True)
    exp = claims.get("exp")
    if not isinstance(exp, int) or now_s >= exp:
        raise TokenError("Token has expired", expired=True)
    return claims
