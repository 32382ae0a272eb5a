"""The error family: every body shape and every httpx failure becomes a readable, typed ApiError."""

from __future__ import annotations

import inspect

import httpx
import pytest

from console import errors
from console.errors import (
    AbortedError,
    ApiError,
    AuthenticationError,
    ConflictError,
    InvalidUrlError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    error_from_response,
    error_from_transport,
    is_transient,
)

URL = "http://tb.example.com:8080/api/device/x"


def test_thingsboard_json_error_keeps_message_and_code():
    body = b'{"status":401,"message":"Token has expired","errorCode":11,"timestamp":1700000000000}'
    err = error_from_response(401, body, url=URL, content_type="application/json")
    assert isinstance(err, AuthenticationError)
    assert err.message == "Token has expired"
    assert err.error_code == 11
    assert err.status == 401
    assert err.response["errorCode"] == 11


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError), (409, ConflictError),
     (429, RateLimitedError), (500, ServerError), (503, ServerError), (400, ApiError)],
)
def test_status_picks_the_subclass(status, cls):
    err = error_from_response(status, b"")
    assert type(err) is cls
    assert err.message  # never empty


def test_plain_text_telemetry_error_is_readable():
    err = error_from_response(404, b"Device with requested id wasn't found!", content_type="text/plain")
    assert isinstance(err, NotFoundError)
    assert err.message == "Device with requested id wasn't found!"
    assert err.error_code is None


def test_html_error_page_from_proxy_becomes_a_sentence():
    body = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    err = error_from_response(502, body, content_type="text/html")
    assert isinstance(err, ServerError)
    assert "<" not in err.message
    assert "502 Bad Gateway" in err.message


def test_truncated_json_says_so():
    err = error_from_response(500, b'{"status":500,"mess', content_type="application/json")
    assert "cut off" in err.message
    assert isinstance(err, ServerError)


def test_pocketbase_field_errors_are_listed():
    body = (
        b'{"status":400,"message":"Failed to create record.",'
        b'"data":{"name":{"code":"validation_required","message":"Cannot be blank."}}}'
    )
    err = error_from_response(400, body)
    assert "name: Cannot be blank." in err.message


def test_retry_after_is_parsed_on_429():
    err = error_from_response(429, b"", headers={"retry-after": "3"})
    assert isinstance(err, RateLimitedError)
    assert err.retry_after == 3.0


def test_tokens_never_appear_in_messages_or_urls():
    jwt = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJ0ZW5hbnRAdGhpbmdzYm9hcmQub3JnIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
    err = ApiError(f"bad header X-Authorization: Bearer {jwt}", url=f"http://h/api/ws?token={jwt}")
    assert jwt not in err.message and jwt not in err.url and jwt not in repr(err)
    assert "token=***" in err.url


def _all_httpx_exception_classes():
    for _, obj in inspect.getmembers(httpx):
        if inspect.isclass(obj) and issubclass(obj, httpx.HTTPError) and obj is not httpx.HTTPStatusError:
            yield obj


@pytest.mark.parametrize("exc_cls", list(_all_httpx_exception_classes()), ids=lambda c: c.__name__)
def test_every_httpx_exception_maps_to_a_readable_api_error(exc_cls):
    request = httpx.Request("GET", URL)
    try:
        exc = exc_cls("boom", request=request)
    except TypeError:
        exc = exc_cls("boom")
    err = error_from_transport(exc, URL)
    assert isinstance(err, ApiError)
    assert err.original_error is exc
    assert err.message and "Unexpected" not in err.message


def test_connection_refused_and_dns_messages():
    refused = error_from_transport(httpx.ConnectError("[Errno 111] Connection refused"), "http://127.0.0.1:9/")
    assert isinstance(refused, NetworkError) and "refused" in refused.message
    dns = error_from_transport(httpx.ConnectError("[Errno -2] Name or service not known"), "http://nohost.invalid/")
    assert "DNS" in dns.message and "nohost.invalid" in dns.message
    timeout = error_from_transport(httpx.ReadTimeout("timed out"), URL)
    assert isinstance(timeout, RequestTimeoutError) and isinstance(timeout, NetworkError)


def test_invalid_url_error_is_also_a_value_error():
    assert issubclass(InvalidUrlError, ValueError)


def test_aborted_error_is_abort():
    assert AbortedError().is_abort is True


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (NetworkError("x"), True),
        (RequestTimeoutError("x"), True),
        (RateLimitedError("x", status=429), True),
        (ServerError("x", status=503), True),
        (ServerError("x", status=501), False),
        (AuthenticationError("x", status=401), False),
        (NotFoundError("x", status=404), False),
        (AbortedError(), False),
        (ValueError("x"), False),
        (ConnectionResetError(), True),
    ],
)
def test_is_transient(error, transient):
    assert is_transient(error) is transient


def test_exported_members_match_all():
    public = {n for n, o in vars(errors).items() if inspect.isclass(o) and issubclass(o, Exception)}
    assert public <= set(errors.__all__)
    assert errors.__all__ == sorted(errors.__all__)


def test_websocket_handshake_failures_read_well():
    from websockets.datastructures import Headers
    from websockets.exceptions import ConnectionClosedError, InvalidMessage, InvalidStatus
    from websockets.frames import Close
    from websockets.http11 import Response

    url = "ws://tb.example.com:8080/api/ws"
    garbled = error_from_transport(InvalidMessage("did not receive a valid HTTP response"), url)
    assert isinstance(garbled, NetworkError) and "WebSocket" in garbled.message and "Unexpected" not in garbled.message

    body = b'{"status":401,"message":"Token has expired","errorCode":11}'
    refused = InvalidStatus(Response(401, "Unauthorized", Headers(), body))
    err = error_from_transport(refused, url)
    assert isinstance(err, AuthenticationError) and err.error_code == 11 and "Token has expired" in err.message

    closed = error_from_transport(ConnectionClosedError(Close(1008, "Max tenant sessions limit reached!"), None), url)
    assert isinstance(closed, NetworkError) and "Max tenant sessions" in closed.message
