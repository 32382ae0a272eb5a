"""One error family for both SDKs, and the one place where transport failures are translated.

    ApiError                      anything a server call can raise; `.message` is always a readable sentence
    ├── InvalidUrlError           refused before any request (also a ValueError)
    ├── AuthenticationError       401: bad credentials, dead refresh token, no token
    ├── PermissionDeniedError     403
    ├── NotFoundError             404
    ├── ConflictError             409 (ThingsBoard's optimistic lock, errorCode 35)
    ├── RateLimitedError          429, with `.retry_after` seconds when the server said
    ├── ServerError               5xx
    ├── NetworkError              connection refused, DNS, reset, TLS, protocol
    │   └── RequestTimeoutError   connect / read / write / pool timeout
    └── AbortedError              superseded or cancelled request (`is_abort=True`)

Callers branch on the class; the UI shows `.message`. Retry decisions go through `is_transient()` only.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = [
    "AbortedError",
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "InvalidUrlError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ServerError",
    "error_for_status",
    "error_from_response",
    "error_from_transport",
    "is_transient",
    "redact",
]

_MAX_MESSAGE = 300


class ApiError(Exception):
    """A failed server call, normalized across ThingsBoard and PocketBase."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int = 0,
        error_code: int | None = None,
        response: Any = None,
        is_abort: bool = False,
        original_error: BaseException | None = None,
    ) -> None:
        self.message = redact(message.strip()) or "Something went wrong talking to the server."
        self.url = redact_url(url)
        self.status = status
        self.error_code = error_code
        self.response = response
        self.is_abort = is_abort
        self.original_error = original_error
        super().__init__(self.message)

    def __repr__(self) -> str:
        code = f", error_code={self.error_code}" if self.error_code is not None else ""
        return f"{type(self).__name__}({self.message!r}, status={self.status}{code}, url={self.url!r})"


class InvalidUrlError(ApiError, ValueError):
    """The server address cannot be used; raised before any request is sent."""


class AuthenticationError(ApiError):
    """Credentials were refused or the session can no longer be refreshed."""


class PermissionDeniedError(ApiError):
    """The user is signed in but may not do this."""


class NotFoundError(ApiError):
    """The entity or path does not exist (or is not visible to this user)."""


class ConflictError(ApiError):
    """Someone else changed the entity first."""


class RateLimitedError(ApiError):
    """The server asked us to slow down; `retry_after` is in seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """The server failed (5xx)."""


class NetworkError(ApiError):
    """The server could not be reached or the connection broke."""


class RequestTimeoutError(NetworkError):
    """The server did not answer in time."""


class AbortedError(ApiError):
    """The request was superseded or cancelled before it finished."""

    def __init__(self, message: str = "The request was cancelled.", **kwargs: Any) -> None:
        kwargs["is_abort"] = True
        super().__init__(message, **kwargs)


# --- secrets never reach a message or a log -------------------------------------------------------

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer|apikey)\s+[A-Za-z0-9._~+/=-]{8,}")
_QUERY_SECRET = re.compile(r"(?i)([?&](?:token|access_token|apikey|api_key|password)=)[^&#\s]*")


def redact(text: str) -> str:
    """Mask JWTs, bearer/API-key header values and secret query parameters."""
    text = _JWT.sub("***", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}***", text)


def redact_url(url: str) -> str:
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}***", str(url))


# --- responses ------------------------------------------------------------------------------------

_STATUS_CLASSES: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}

_GENERIC: dict[int, str] = {
    400: "The server refused the request as invalid.",
    401: "Authentication failed.",
    403: "You don't have permission to do this.",
    404: "Not found.",
    408: "The server timed out waiting for the request.",
    409: "Someone else changed this first.",
    413: "The request is too large for the server.",
    429: "Too many requests: the server asked us to slow down.",
    500: "The server had an internal error.",
    502: "Bad gateway: a proxy in front of the server could not reach it.",
    503: "The server is unavailable right now.",
    504: "Gateway timeout: a proxy in front of the server got no answer in time.",
}

_TAGS = re.compile(r"<[^>]+>")
_TITLE = re.compile(r"(?is)<title[^>]*>(.*?)</title>")
_H1 = re.compile(r"(?is)<h1[^>]*>(.*?)</h1>")
_SPACE = re.compile(r"\s+")


def error_class_for_status(status: int) -> type[ApiError]:
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return ServerError
    return ApiError


def _shorten(text: str) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _html_message(body: str) -> str:
    for pattern in (_H1, _TITLE):
        found = pattern.search(body)
        if found:
            return _shorten(html.unescape(_TAGS.sub(" ", found.group(1))))
    return _shorten(html.unescape(_TAGS.sub(" ", body)))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form; HTTP dates are rare from these servers)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def error_for_status(
    status: int,
    message: str,
    *,
    url: str = "",
    error_code: int | None = None,
    response: Any = None,
    retry_after: float | None = None,
) -> ApiError:
    cls = error_class_for_status(status)
    if cls is RateLimitedError:
        return RateLimitedError(
            message, url=url, status=status, error_code=error_code, response=response, retry_after=retry_after
        )
    return cls(message, url=url, status=status, error_code=error_code, response=response)


def error_from_response(
    status: int,
    body: bytes | str,
    *,
    url: str = "",
    content_type: str = "",
    headers: Mapping[str, str] | None = None,
) -> ApiError:
    """Build the right ApiError from an HTTP error response, whatever its body looks like.

    Understands ThingsBoard's `{"status","message","errorCode"}`, PocketBase's `{"status","message","data"}`,
    ThingsBoard's plain-text telemetry errors (reference §2.2), HTML pages from reverse proxies, and truncated JSON.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    parsed: Any = None
    message = ""
    error_code: int | None = None
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
            message = f"{_GENERIC.get(status, f'HTTP {status}')} (the server's answer was cut off)"
    if isinstance(parsed, dict):
        raw_message = parsed.get("message")
        if isinstance(raw_message, str):
            message = raw_message
        code = parsed.get("errorCode")
        if isinstance(code, int) and not isinstance(code, bool):
            error_code = code
        message = _with_field_errors(message, parsed.get("data"))
    elif parsed is None and not message and stripped:
        lowered = content_type.lower()
        if "html" in lowered or stripped[:15].lower().startswith(("<!doctype", "<html")):
            page = _html_message(stripped)
            message = f"{_GENERIC.get(status, f'HTTP {status}')} ({page})" if page else ""
        else:
            message = _shorten(stripped)
    if not message:
        message = _GENERIC.get(status, f"The server answered HTTP {status}.")
    retry_after = parse_retry_after((headers or {}).get("retry-after")) if status == 429 else None
    return error_for_status(
        status,
        message,
        url=url,
        error_code=error_code,
        response=parsed if parsed is not None else text,
        retry_after=retry_after,
    )


def _with_field_errors(message: str, data: Any) -> str:
    """Append PocketBase's per-field validation messages (`data.<field>.message`) to the summary."""
    if not isinstance(data, dict) or not data:
        return message
    details = []
    for field, info in data.items():
        if isinstance(info, dict) and isinstance(info.get("message"), str):
            details.append(f"{field}: {info['message']}")
    if not details:
        return message
    return f"{message.rstrip('.')}: {'; '.join(details)}" if message else "; ".join(details)


# --- transport failures ---------------------------------------------------------------------------


def error_from_transport(exc: BaseException, url: str = "") -> ApiError:
    """Translate an httpx / websockets / OS exception into the family, keeping it as `original_error`."""
    if isinstance(exc, ApiError):
        return exc
    where = _host_of(url)
    target = f" {where}" if where else ""
    if isinstance(exc, httpx.ConnectTimeout):
        return RequestTimeoutError(f"Timed out connecting to{target}.", url=url, original_error=exc)
    if isinstance(exc, httpx.ReadTimeout):
        return RequestTimeoutError(f"The server{target} took too long to answer.", url=url, original_error=exc)
    if isinstance(exc, httpx.WriteTimeout):
        return RequestTimeoutError(f"Timed out sending the request to{target}.", url=url, original_error=exc)
    if isinstance(exc, httpx.PoolTimeout):
        return RequestTimeoutError(
            "Too many requests in flight: no connection became free in time.", url=url, original_error=exc
        )
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return RequestTimeoutError(f"Timed out talking to{target}.", url=url, original_error=exc)
    if isinstance(exc, httpx.ConnectError):
        return NetworkError(_connect_message(exc, target), url=url, original_error=exc)
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(
            f"The connection to{target} broke off mid-answer ({_short_reason(exc)}).", url=url, original_error=exc
        )
    if isinstance(exc, httpx.ProxyError):
        return NetworkError(f"The proxy refused the connection: {_short_reason(exc)}.", url=url, original_error=exc)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return InvalidUrlError(f"The server address is not usable: {_short_reason(exc)}.", url=url, original_error=exc)
    if isinstance(exc, httpx.DecodingError):
        return ServerError(
            f"The server's answer could not be decoded ({_short_reason(exc)}).", url=url, original_error=exc
        )
    if isinstance(exc, httpx.TooManyRedirects):
        return NetworkError("The server redirected too many times.", url=url, original_error=exc)
    ws_error = _from_websockets(exc, url, target)
    if ws_error is not None:
        return ws_error
    if isinstance(exc, httpx.TransportError | OSError):
        return NetworkError(
            f"Network error talking to{target}: {_short_reason(exc)}.", url=url, original_error=exc
        )
    if isinstance(exc, httpx.HTTPError):
        return ApiError(f"HTTP error: {_short_reason(exc)}.", url=url, original_error=exc)
    return ApiError(f"Unexpected error: {type(exc).__name__}.", url=url, original_error=exc)


def _from_websockets(exc: BaseException, url: str, target: str) -> ApiError | None:
    """The websockets library's failures (live telemetry sockets), or None for anything else."""
    from websockets import exceptions as ws

    if not isinstance(exc, ws.WebSocketException):
        return None
    if isinstance(exc, ws.InvalidStatus):
        status = exc.response.status_code
        body = exc.response.body or b""
        found = error_from_response(status, body, url=url, headers=dict(exc.response.headers))
        found.message = f"The server{target} refused the live connection: {found.message}"
        found.original_error = exc
        return found
    if isinstance(exc, ws.InvalidURI):
        return InvalidUrlError(f"The live-data address is not usable: {_short_reason(exc)}.", url=url,
                               original_error=exc)
    if isinstance(exc, ws.InvalidProxy | ws.ProxyError):
        return NetworkError(f"The proxy refused the live connection: {_short_reason(exc)}.", url=url,
                            original_error=exc)
    if isinstance(exc, ws.InvalidHandshake):  # InvalidMessage, InvalidHeader, InvalidUpgrade, ...
        return NetworkError(
            f"The server{target} did not accept a live (WebSocket) connection: {_short_reason(exc)}. "
            "A proxy in front of it may not forward WebSockets.",
            url=url,
            original_error=exc,
        )
    if isinstance(exc, ws.ConnectionClosed):
        reason = f" ({exc.rcvd.reason})" if exc.rcvd is not None and exc.rcvd.reason else ""
        return NetworkError(f"The live connection to{target} closed{reason}.", url=url, original_error=exc)
    return NetworkError(f"Live connection error: {_short_reason(exc)}.", url=url, original_error=exc)


def _host_of(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except Exception:
        return ""
    if not parsed.host:
        return ""
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def _short_reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return _shorten(redact(text)).rstrip(".")


def _connect_message(exc: BaseException, target: str) -> str:
    reason = str(exc).lower()
    if "name or service not known" in reason or "nodename nor servname" in reason or "getaddrinfo" in reason:
        return f"Could not find the server{target}: the host name does not resolve (DNS)."
    if "certificate" in reason or "ssl" in reason or "tls" in reason:
        return f"Could not make a secure connection to{target}: {_short_reason(exc)}."
    if "refused" in reason or "all connection attempts failed" in reason:
        return f"Could not connect to{target}: the connection was refused (is the server running?)."
    return f"Could not connect to{target}: {_short_reason(exc)}."


# --- retry policy ---------------------------------------------------------------------------------

_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def is_transient(error: BaseException) -> bool:
    """The one retry decision: network trouble, timeouts, 429 and gateway/5xx errors are worth retrying."""
    if isinstance(error, AbortedError | InvalidUrlError):
        return False
    if isinstance(error, NetworkError | RateLimitedError):
        return True
    if isinstance(error, ApiError):
        return error.status in _TRANSIENT_STATUS
    return isinstance(error, OSError | TimeoutError | httpx.TransportError)
