"""ThingsboardClient: the one send path (`_request`) and the session (login, single-flight refresh, logout).

Services never touch httpx: they call `_request`, which builds the URL, adds the token, refreshes it
once for any number of concurrent callers, waits out 429s, decodes with msgspec and maps every
failure to the `console.errors` family.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from pathlib import Path
from typing import Any, Final

import httpx
import msgspec

from console.errors import ApiError, AuthenticationError, error_from_response, error_from_transport
from console.thingsboard.auth import AuthUser, LoginRequest, TokenState
from console.thingsboard.config import DEFAULT_TIMEOUT, RetryPolicy, build_ssl_context, validate_base_url
from console.thingsboard.services import ServiceProperties

__all__ = ["ThingsboardClient"]

log = logging.getLogger(__name__)

JWT_TOKEN_EXPIRED: Final = 11


class _JwtPair(msgspec.Struct, rename="camel"):
    token: str
    refresh_token: str | None = None
    scope: str | None = None


_JWT_PAIR = msgspec.json.Decoder(_JwtPair)
_ERROR_CODE = msgspec.json.Decoder(msgspec.defstruct("_Err", [("errorCode", "int | None", None)]))


class ThingsboardClient(ServiceProperties):
    """`async with ThingsboardClient(url) as tb:` — a ThingsBoard REST session on one httpx.AsyncClient."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        verify: bool = True,
        ca_bundle: str | Path | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        retry: RetryPolicy = RetryPolicy(),
        max_connections: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url: httpx.URL = validate_base_url(url)
        self.api_key = api_key
        self.proxy = proxy
        self.trust_env = trust_env
        self.retry = retry
        self.ssl_context: ssl.SSLContext | None = (
            build_ssl_context(verify=verify, ca_bundle=ca_bundle) if self.base_url.scheme == "https" else None
        )
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            verify=self.ssl_context or True,
            proxy=proxy,
            trust_env=trust_env,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self._tokens: TokenState | None = None
        self._login: LoginRequest | None = None
        self._refresh_future: asyncio.Future[None] | None = None
        self._services: dict[str, Any] = {}
        self.refresh_count = 0  # how many refresh/re-login round trips happened (diagnostics)

    # --- lifecycle --------------------------------------------------------------------------------

    async def __aenter__(self) -> ThingsboardClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the live socket if one was opened, then release the connection pool.

        The session itself stays valid on the server.
        """
        telemetry = self._services.get("telemetry")
        if telemetry is not None:
            await telemetry.close()
        await self._http.aclose()

    def __repr__(self) -> str:
        who = self._tokens.user.sub if self._tokens else ("api key" if self.api_key else "anonymous")
        return f"ThingsboardClient({str(self.base_url)!r}, {who})"

    # --- session ----------------------------------------------------------------------------------

    async def login(self, request: LoginRequest, *, keep_password: bool = True) -> AuthUser:
        """Log in; with `keep_password` the password stays in memory so a dead refresh token can re-login."""
        pair = await self._request("POST", "/api/auth/login", json=request, decoder=_JWT_PAIR, auth=False)
        self._accept(pair)
        self._login = request if keep_password else None
        assert self._tokens is not None
        return self._tokens.user

    async def logout(self) -> None:
        """End the server session (errors ignored: we forget the tokens either way)."""
        if self._tokens is not None:
            try:
                await self._request("POST", "/api/auth/logout", retry_auth=False)
            except ApiError as exc:
                log.info("logout failed, forgetting the session anyway: %s", exc.message)
        self._tokens = None
        self._login = None

    def is_authenticated(self) -> bool:
        return self.api_key is not None or self._tokens is not None

    @property
    def auth_user(self) -> AuthUser | None:
        return self._tokens.user if self._tokens else None

    def get_auth_user(self) -> AuthUser | None:
        return self.auth_user

    @property
    def token(self) -> str | None:
        return self._tokens.token if self._tokens else None

    def set_tokens(self, token: str, refresh_token: str | None = None) -> None:
        """Adopt a token pair obtained elsewhere (e.g. restored from the keyring)."""
        self._tokens = TokenState(token, refresh_token)

    async def ensure_token(self) -> str | None:
        """A valid access token (refreshed single-flight when near expiry); None in API-key mode."""
        if self.api_key is not None:
            return None
        tokens = self._tokens
        if tokens is None:
            if self._login is None:
                raise AuthenticationError("Not logged in: call login() first.", url=str(self.base_url))
            await self._refresh(None)
        elif tokens.needs_refresh(self.retry.refresh_margin):
            await self._refresh(tokens.token)
        assert self._tokens is not None
        return self._tokens.token

    async def force_refresh(self) -> None:
        """Refresh now, single-flight, even if the token looks valid (the server rejected it, e.g. on a socket)."""
        if self.api_key is None:
            await self._refresh(self.token)

    def _accept(self, pair: _JwtPair) -> None:
        if pair.scope and not pair.refresh_token:
            raise AuthenticationError(
                "This account uses two-factor authentication, which Thingscope does not support yet.",
                url=str(self.base_url),
            )
        try:
            self._tokens = TokenState(pair.token, pair.refresh_token)
        except (ValueError, msgspec.DecodeError) as exc:
            raise AuthenticationError(
                "The server's login answer did not contain a readable token.", url=str(self.base_url)
            ) from exc

    async def _refresh(self, stale_token: str | None) -> None:
        """Single flight: whoever comes first refreshes; everyone else awaits the same future."""
        current = self._tokens
        if current is not None and current.token != stale_token and not current.needs_refresh(0):
            return  # someone refreshed while we were waiting
        if self._refresh_future is None:
            future = asyncio.ensure_future(self._do_refresh())
            self._refresh_future = future
            future.add_done_callback(self._refresh_done)
        await asyncio.shield(self._refresh_future)

    def _refresh_done(self, future: asyncio.Future[None]) -> None:
        if self._refresh_future is future:
            self._refresh_future = None
        if not future.cancelled():
            future.exception()  # retrieved here so an unawaited failure is not logged as lost

    async def _do_refresh(self) -> None:
        self.refresh_count += 1
        tokens = self._tokens
        if tokens is not None and tokens.refresh_token_alive():
            try:
                pair = await self._request(
                    "POST",
                    "/api/auth/token",
                    json={"refreshToken": tokens.refresh_token},
                    decoder=_JWT_PAIR,
                    auth=False,
                )
            except AuthenticationError:
                log.info("refresh token refused; trying a fresh login")
            else:
                self._accept(pair)
                return
        if self._login is None:
            self._tokens = None
            raise AuthenticationError("The session has expired: please log in again.", url=str(self.base_url))
        pair = await self._request("POST", "/api/auth/login", json=self._login, decoder=_JWT_PAIR, auth=False)
        self._accept(pair)

    # --- the one send path ------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        decoder: msgspec.json.Decoder[Any] | None = None,
        auth: bool = True,
        retry_auth: bool = True,
        raw: bool = False,
    ) -> Any:
        """Send one API call. Returns the decoded body, the raw bytes (`raw`), or None for an empty body."""
        content = msgspec.json.encode(json) if json is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        url = str(self.base_url.join(path.lstrip("/")))
        rate_limited = 0
        refreshed = False
        while True:
            token = await self._auth_headers(headers) if auth else None
            try:
                response = await self._http.request(method, path, params=params, content=content, headers=headers)
            except (httpx.HTTPError, OSError) as exc:
                raise error_from_transport(exc, url) from exc
            status = response.status_code
            if status < 400:
                return self._decode(response, decoder, raw, url)
            if status == 429 and rate_limited < self.retry.max_retries:
                rate_limited += 1
                await asyncio.sleep(self._backoff(rate_limited, response.headers.get("retry-after")))
                continue
            if (
                status == 401
                and auth
                and retry_auth
                and not refreshed
                and self.api_key is None
                and _is_token_expired(response.content)
            ):
                refreshed = True
                await self._refresh(token)
                continue
            raise error_from_response(
                status,
                response.content,
                url=url,
                content_type=response.headers.get("content-type", ""),
                headers=response.headers,
            )

    async def _auth_headers(self, headers: dict[str, str]) -> str | None:
        if self.api_key is not None:
            headers["X-Authorization"] = f"ApiKey {self.api_key}"
            return None
        token = await self.ensure_token()
        headers["X-Authorization"] = f"Bearer {token}"
        return token

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        policy = self.retry
        if retry_after:
            try:
                return min(max(0.0, float(retry_after)), policy.max_delay)
            except ValueError:
                pass
        delay = min(policy.base_delay * 2 ** (attempt - 1), policy.max_delay)
        return delay * random.uniform(0.8, 1.2)

    @staticmethod
    def _decode(response: httpx.Response, decoder: msgspec.json.Decoder[Any] | None, raw: bool, url: str) -> Any:
        body = response.content
        if raw:
            return body
        if not body.strip():
            return None
        if decoder is None:
            return None
        try:
            return decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise ApiError(
                f"The server's answer could not be read ({exc}).",
                url=url,
                status=response.status_code,
                response=body[:500].decode("utf-8", "replace"),
                original_error=exc,
            ) from exc


def _is_token_expired(body: bytes) -> bool:
    """Only a JSON 401 with errorCode 11 is a token problem (plain-text 401s from telemetry are not)."""
    try:
        return _ERROR_CODE.decode(body).errorCode == JWT_TOKEN_EXPIRED
    except (msgspec.DecodeError, msgspec.ValidationError):
        return False
