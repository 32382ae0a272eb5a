"""Connection settings: URL validation, TLS context, timeouts and retry limits, as small value objects."""

from __future__ import annotations

import re
import ssl
import warnings
from pathlib import Path

import httpx
import msgspec
import truststore

from console.errors import InvalidUrlError

__all__ = [
    "DEFAULT_TIMEOUT",
    "InsecureTlsWarning",
    "RetryPolicy",
    "build_ssl_context",
    "validate_base_url",
]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_HOST = re.compile(r"^[A-Za-z0-9._\-:%\[\]]+$")


class InsecureTlsWarning(UserWarning):
    """TLS certificate verification was switched off for a client."""


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How long to wait on HTTP 429 before giving up with RateLimitedError.

    ThingsBoard sends no Retry-After, so a capped exponential backoff is used then.
    """

    max_retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    refresh_margin: float = 30.0  # seconds before expiry at which the access token is refreshed


def validate_base_url(url: str | httpx.URL) -> httpx.URL:
    """Check the server address before any request, with a message that says what is wrong."""
    text = str(url).strip()
    if not text:
        raise InvalidUrlError("The server address is empty.", url=text)
    if "://" not in text:
        raise InvalidUrlError(
            f"The server address {text!r} has no scheme: start it with http:// or https://.", url=text
        )
    if any(ch.isspace() for ch in text):
        raise InvalidUrlError(f"The server address {text!r} is not a valid URL: it contains spaces.", url=text)
    try:
        parsed = httpx.URL(text)
    except Exception as exc:
        raise InvalidUrlError(f"The server address {text!r} is not a valid URL: {exc}.", url=text) from exc
    if parsed.scheme not in ("http", "https"):
        raise InvalidUrlError(
            f"The server address must start with http:// or https://, not {parsed.scheme}://.", url=text
        )
    if not parsed.host:
        raise InvalidUrlError(f"The server address {text!r} has no host name.", url=text)
    if not _HOST.match(parsed.raw_host.decode("ascii", "replace")):
        raise InvalidUrlError(f"The server address {text!r} is not a valid URL: bad host name.", url=text)
    if parsed.query or parsed.fragment:
        raise InvalidUrlError(f"The server address {text!r} must not contain '?' or '#'.", url=text)
    if parsed.userinfo:
        raise InvalidUrlError("Put the user name and password in the login, not in the server address.", url=text)
    path = parsed.path.rstrip("/")
    return parsed.copy_with(path=path + "/")


def build_ssl_context(*, verify: bool = True, ca_bundle: str | Path | None = None) -> ssl.SSLContext:
    """The OS trust store by default (truststore), plus an optional CA bundle; `verify=False` warns."""
    if not verify:
        warnings.warn(
            "TLS certificate verification is disabled: the connection can be intercepted.",
            InsecureTlsWarning,
            stacklevel=3,
        )
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle is not None:
        bundle = Path(ca_bundle)
        if not bundle.is_file():
            raise InvalidUrlError(f"The CA bundle {str(bundle)!r} does not exist.")
        context.load_verify_locations(cafile=str(bundle))
    return context
