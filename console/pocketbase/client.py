"""`PocketBase`: the client, its services and the one send path every request goes through.

`send` builds the URL, adds the `Authorization` and `Accept-Language` headers, maps every failure into the
`console.errors` family and supports `request_key`: a newer request with the same key aborts the pending one
(which raises `AbortedError`), the way a search box typing ahead needs it. Cancelling the calling task still
propagates `asyncio.CancelledError`.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol, TypeVar

import httpx
import msgspec

from console.errors import AbortedError, InvalidUrlError, error_from_response, error_from_transport
from console.pocketbase.auth_store import AuthStore
from console.pocketbase.filter import build_filter
from console.pocketbase.models import enc_hook
from console.pocketbase.realtime import RealtimeService
from console.pocketbase.records import RecordService
from console.pocketbase.services import (
    BatchRequest,
    CollectionService,
    FileService,
    HealthService,
    LogService,
    SettingsService,
)

__all__ = ["DEFAULT_TIMEOUT", "FileTuple", "PocketBase"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=8)
DEFAULT_LANG = "en-US"

# ("field", ("name.txt", b"bytes" | file object, "content/type")) — the httpx multipart shape
FileTuple = tuple[str, Any]

_encoder = msgspec.json.Encoder(enc_hook=enc_hook)


class _Decoder(Protocol[T_co]):
    """A `msgspec.json.Decoder` or anything decoding the same way (e.g. `RecordPageDecoder`)."""

    def decode(self, buf: bytes, /) -> T_co: ...


class PocketBase:
    """An async PocketBase client: `async with PocketBase(url) as pb: await pb.collection("x").get_list()`."""

    def __init__(
        self,
        base_url: str,
        *,
        auth_store: AuthStore | None = None,
        lang: str = DEFAULT_LANG,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        verify: ssl.SSLContext | str | bool = True,
        proxy: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        url = base_url.strip().rstrip("/")
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise InvalidUrlError(f"The server address {base_url!r} is not a valid URL.", url=base_url) from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise InvalidUrlError(
                f"The server address {base_url!r} must start with http:// or https:// and name a host.", url=base_url
            )
        self.base_url = url
        self.lang = lang
        self.auth_store = auth_store if auth_store is not None else AuthStore()
        self._http = httpx.AsyncClient(
            timeout=timeout,
            limits=DEFAULT_LIMITS,
            verify=_tls_verify(verify, parsed.scheme, proxy),
            proxy=proxy,
            transport=transport,
        )
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._superseded: set[asyncio.Future[Any]] = set()
        self._collections: dict[str, RecordService] = {}
        self._closed = False

        self.collections = CollectionService(self)
        self.files = FileService(self)
        self.logs = LogService(self)
        self.settings = SettingsService(self)
        self.health = HealthService(self)
        self.realtime = RealtimeService(self)

    def __repr__(self) -> str:
        return f"PocketBase({self.base_url!r})"

    # --- services -------------------------------------------------------------------------------

    def collection(self, id_or_name: str) -> RecordService:
        """The record service of one collection (created once and cached)."""
        service = self._collections.get(id_or_name)
        if service is None:
            service = self._collections[id_or_name] = RecordService(self, id_or_name)
        return service

    def create_batch(self) -> BatchRequest:
        """A transactional batch (`pb.create_batch().collection("x").create({...}); await batch.send()`)."""
        return BatchRequest(self)

    @staticmethod
    def filter(expression: str, params: Mapping[str, Any] | None = None, /, **kwargs: Any) -> str:
        """`pb.filter("status = {:s} && created >= {:d}", s=True, d=when)`: bound, safely quoted values."""
        return build_filter(expression, params, **kwargs)

    # --- lifecycle ------------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop realtime, abort pending requests and release the connection pool."""
        if self._closed:
            return
        self._closed = True
        await self.realtime.close()
        self.cancel_all_requests()
        await self._http.aclose()

    async def __aenter__(self) -> PocketBase:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # --- the send path --------------------------------------------------------------------------

    def build_url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = self.base_url + ("" if path.startswith("/") else "/") + path
        clean = _clean_params(params)
        if clean:
            url += "?" + str(httpx.QueryParams(clean))
        return url

    def cancel_request(self, request_key: str) -> None:
        """Abort the pending request with this key (its caller gets `AbortedError`)."""
        future = self._pending.pop(request_key, None)
        if future is not None and not future.done():
            self._superseded.add(future)
            future.cancel()

    def cancel_all_requests(self) -> None:
        for key in list(self._pending):
            self.cancel_request(key)

    async def send(
        self,
        path: str,
        *,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        files: Sequence[FileTuple] | None = None,
        headers: Mapping[str, str] | None = None,
        request_key: str | None = None,
    ) -> httpx.Response:
        """Send one request; returns the successful response or raises an `ApiError` subclass."""
        if self._closed:
            raise AbortedError("The PocketBase client was closed.", url=self.base_url + path)
        if request_key is None:
            return await self._send_once(path, method, params, body, files, headers)
        self.cancel_request(request_key)
        inner = asyncio.ensure_future(self._send_once(path, method, params, body, files, headers))
        self._pending[request_key] = inner
        try:
            return await inner
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if inner in self._superseded and not (task is not None and task.cancelling()):
                raise AbortedError(
                    "The request was replaced by a newer one.", url=self.base_url + path
                ) from None
            raise
        finally:
            self._superseded.discard(inner)
            if self._pending.get(request_key) is inner:
                del self._pending[request_key]

    async def send_decoded(self, decoder: _Decoder[T], path: str, **kwargs: Any) -> T:
        """`send`, then decode the body with a msgspec decoder (a malformed answer is a readable error)."""
        response = await self.send(path, **kwargs)
        try:
            return decoder.decode(response.content)
        except msgspec.DecodeError as exc:
            raise error_from_transport(
                httpx.DecodingError(f"unexpected answer: {exc}"), str(response.request.url)
            ) from exc

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {"Accept-Language": self.lang}
        if self.auth_store.token:
            headers["Authorization"] = self.auth_store.token
        if extra:
            headers.update(extra)
        return headers

    async def _send_once(
        self,
        path: str,
        method: str,
        params: Mapping[str, Any] | None,
        body: Any,
        files: Sequence[FileTuple] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        url = self.base_url + path
        request_headers = self._headers(headers)
        kwargs: dict[str, Any] = {"params": _clean_params(params)}
        if files:
            # multipart: the regular fields travel as one JSON part so types (numbers, bools, JSON) survive
            data = {"@jsonPayload": json.dumps(body, default=_json_default)} if body else {}
            kwargs["data"] = data
            kwargs["files"] = list(files)
        elif body is not None:
            kwargs["content"] = _encoder.encode(body)
            request_headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(method, url, headers=request_headers, **kwargs)
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, url) from exc
        except OSError as exc:
            raise error_from_transport(exc, url) from exc
        if response.status_code >= 400:
            raise error_from_response(
                response.status_code,
                response.content,
                url=str(response.request.url),
                content_type=response.headers.get("content-type", ""),
                headers=response.headers,
            )
        return response


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Drop None values and spell booleans the way the server parses them."""
    if not params:
        return {}
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        clean[key] = value
    return clean


def _json_default(obj: Any) -> Any:
    return msgspec.to_builtins(obj, enc_hook=enc_hook)


def _tls_verify(verify: ssl.SSLContext | str | bool, scheme: str, proxy: str | None) -> ssl.SSLContext | str | bool:
    """TLS through the OS certificate store (truststore) unless the caller gave a CA bundle or a context.

    A plain-HTTP server without a proxy never does TLS (redirects are not followed), so no CA bundle is loaded
    for it at all: that is ~1.3 MB of resident memory the local demo server does not need.
    """
    if scheme == "http" and proxy is None and verify is True:
        return False
    if verify is not True:
        return verify
    try:
        import truststore
    except ImportError:  # pragma: no cover - a declared dependency
        return True
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)

