"""The emulator's in-memory data: entities, sessions, attributes and time series. Pure Python, no aiohttp.

The store is owned by the server's event-loop thread; tests that mutate it go through `server.call(fn)`.
Failures are raised as `Failure` (JSON error body, §2.1) or `TextFailure` (the telemetry controller's plain text).
"""

from __future__ import annotations

import bisect
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import jwt
from .model import NULL_UUID, ApiKey, Customer, Dashboard, Device, DeviceProfile, Tenant, User
from .timeseries import SeriesGenerator

SCOPES = ("CLIENT_SCOPE", "SERVER_SCOPE", "SHARED_SCOPE")
Listener = Callable[[str, str, "str | None", dict[str, tuple[int, Any]], bool], None]


class Failure(Exception):
    """An error answered with ThingsBoard's JSON error body."""

    def __init__(self, status: int, message: str, error_code: int) -> None:
        super().__init__(message)
        self.status, self.message, self.error_code = status, message, error_code


class TextFailure(Exception):
    """An error answered with a plain-text body (telemetry controller, §2.2)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def not_found(kind: str, uuid_: str) -> Failure:
    return Failure(404, f"{kind} with id [{uuid_}] is not found", 32)


PERMISSION = "You don't have permission to perform this operation!"


@dataclass
class Options:
    """Server options (CLI flags / fixture arguments). `ws_session_limit` is for the WebSocket part."""

    devices: int = 300
    seed: int = 1
    access_token_ttl: int = 9000
    refresh_token_ttl: int = 604800
    rate_limit: float | None = None
    latency_ms: int = 0
    ws_session_limit: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class Store:
    """All server state. `generation` bumps on every device/customer change so sorted caches can be reused."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        self.clock_offset_s = 0.0  # tests move the server clock with `advance()`
        self.jwt_key = secrets.token_bytes(64)
        self.tenant = Tenant(NULL_UUID, "Tenant", 0)
        self.customers: dict[str, Customer] = {}
        self.users: dict[str, User] = {}
        self.profiles: dict[str, DeviceProfile] = {}
        self.devices: dict[str, Device] = {}
        self.device_names: dict[str, str] = {}
        self.dashboards: dict[str, Dashboard] = {}
        self.attributes: dict[str, dict[str, dict[str, tuple[int, Any]]]] = {s: {} for s in SCOPES}
        self.ts_latest: dict[str, dict[str, tuple[int, Any]]] = {}
        self.ts_history: dict[str, dict[str, list[tuple[int, Any]]]] = {}
        self.generator: SeriesGenerator | None = None
        self.ts_pending: dict[str, int] = {}  # device id → generator index, history not generated yet
        self.logged_out: dict[str, float] = {}  # sessionId → time of logout
        self.generation = 0
        self.sort_cache: dict[tuple[Any, ...], list[Any]] = {}
        self.counters: dict[str, int] = {"login": 0, "refresh": 0, "requests": 0}
        self.api_keys: dict[str, ApiKey] = {}  # key id → key (4.3+ API keys, §1.3)
        self.seed_api_keys: dict[str, str] = {}  # user email → the value of the key seeded for them
        self._listeners: list[Listener] = []

    # ---- clock and ids
    def now_s(self) -> float:
        return time.time() + self.clock_offset_s

    def now_ms(self) -> int:
        return int(self.now_s() * 1000)

    def advance(self, seconds: float) -> None:
        """Move the server clock forward (expire tokens without sleeping)."""
        self.clock_offset_s += seconds

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid1())

    def changed(self) -> None:
        self.generation += 1
        self.sort_cache.clear()

    # ---- listeners (WebSocket hook)
    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Register `callback(entity_id, kind, scope, values, deleted)`; returns a function that removes it."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def _notify(self, entity_id: str, kind: str, scope: str | None, values: dict[str, tuple[int, Any]], deleted: bool):
        for callback in list(self._listeners):
            callback(entity_id, kind, scope, values, deleted)

    # ---- auth
    def user_by_email(self, email: str) -> User | None:
        for user in self.users.values():
            if user.email.lower() == email.lower():
                return user
        return None

    def issue_tokens(self, user: User) -> dict[str, str]:
        """A fresh JwtPair (§1.2) with a new sessionId."""
        now = int(self.now_s())
        session = str(uuid.uuid4())
        access: dict[str, Any] = {
            "sub": user.email,
            "userId": user.id,
            "scopes": [user.authority],
            "sessionId": session,
            "exp": now + int(self.options.access_token_ttl),
            "iss": "thingsboard.io",
            "iat": now,
        }
        if user.first_name is not None:
            access["firstName"] = user.first_name
        if user.last_name is not None:
            access["lastName"] = user.last_name
        access.update(
            {"enabled": True, "isPublic": False, "tenantId": user.tenant_id, "customerId": user.customer_id}
        )
        refresh = {
            "sub": user.email,
            "userId": user.id,
            "scopes": ["REFRESH_TOKEN"],
            "sessionId": session,
            "exp": now + int(self.options.refresh_token_ttl),
            "iss": "thingsboard.io",
            "iat": now,
            "isPublic": False,
            "jti": str(uuid.uuid4()),
        }
        return {"token": jwt.encode(access, self.jwt_key), "refreshToken": jwt.encode(refresh, self.jwt_key)}

    def login(self, username: Any, password: Any) -> dict[str, str]:
        if not isinstance(username, str) or not username.strip() or not isinstance(password, str) or not password:
            raise Failure(401, "Authentication failed", 10)
        user = self.user_by_email(username.strip())
        if user is None or user.password != password:
            raise Failure(401, "Invalid username or password", 10)
        self.counters["login"] += 1
        return self.issue_tokens(user)

    def _claims(self, token: str) -> tuple[dict[str, Any], User]:
        claims = jwt.decode(token, self.jwt_key, self.now_s())
        user = self.users.get(str(claims.get("userId")))
        if user is None:
            raise jwt.TokenError("User not found", expired=False)
        return claims, user

    def _outdated(self, claims: dict[str, Any], user: User) -> bool:
        iat = claims.get("iat", 0)
        logout = self.logged_out.get(str(claims.get("sessionId")))
        return (logout is not None and iat <= logout) or iat < user.tokens_valid_since

    def user_for_token(self, token: str) -> tuple[User, dict[str, Any]]:
        """Validate an access token; returns (user, claims) or raises `Failure` 401 (code 11 expired, 10 invalid).

        This is the public check for the WebSocket part too (`authCmd.token`, `?token=`).
        """
        try:
            claims, user = self._claims(token)
        except jwt.TokenError as exc:
            if exc.expired:
                raise Failure(401, "Token has expired", 11) from exc
            raise Failure(401, "Invalid username or password", 10) from exc
        if claims.get("scopes") == ["REFRESH_TOKEN"]:
            raise Failure(401, "Invalid username or password", 10)
        if self._outdated(claims, user):
            raise Failure(401, "Token has expired", 11)
        return user, claims

    def refresh(self, refresh_token: Any) -> dict[str, str]:
        if not isinstance(refresh_token, str) or not refresh_token.strip():
            raise Failure(401, "Authentication failed", 10)
        try:
            claims, user = self._claims(refresh_token)
        except jwt.TokenError as exc:
            if exc.expired:
                raise Failure(401, "Token has expired", 11) from exc
            raise Failure(401, "Authentication failed", 10) from exc
        if claims.get("scopes") != ["REFRESH_TOKEN"]:
            raise Failure(401, "Invalid refresh token", 10)
        if self._outdated(claims, user):
            raise Failure(401, "Token is outdated", 10)
        self.counters["refresh"] += 1
        return self.issue_tokens(user)

    def logout(self, claims: dict[str, Any]) -> None:
        if claims.get("sessionId"):  # API-key requests have no session
            self.logged_out[str(claims["sessionId"])] = self.now_s()

    # ---- API keys (4.3+)
    def create_api_key(
        self, user: User, description: str, *, expiration_time: int = 0, enabled: bool = True, value: str | None = None
    ) -> ApiKey:
        """A new key for `user`; the value is "tb_" + a URL-safe random secret unless given (seeding)."""
        key = ApiKey(
            self.new_id(), value or "tb_" + secrets.token_urlsafe(48), user.id, user.tenant_id, self.now_ms(),
            description, expiration_time, enabled,
        )
        self.api_keys[key.id] = key
        return key

    def user_for_api_key(self, value: str) -> User:
        """The key's user, or 401/10 with the message ThingsBoard's error handler gives each failure.

        ApiKeyAuthenticationProvider: unknown/empty key → BadCredentialsException ("Invalid username or password"),
        disabled key → DisabledException ("User account is not active"), expired key → CredentialsExpiredException
        (the handler's fallback "Authentication failed"); all errorCode 10.
        """
        key = next((k for k in self.api_keys.values() if k.value == value), None) if value else None
        if key is None or key.user_id not in self.users:
            raise Failure(401, "Invalid username or password", 10)
        if not key.enabled:
            raise Failure(401, "User account is not active", 10)
        if key.is_expired(self.now_ms()):
            raise Failure(401, "Authentication failed", 10)
        return self.users[key.user_id]

    # ---- ownership
    def customer_title(self, customer_id: str) -> str | None:
        customer = self.customers.get(customer_id)
        return customer.title if customer else None

    def can_see_device(self, user: User, device: Device) -> bool:
        if user.authority == "TENANT_ADMIN":
            return True
        return user.authority == "CUSTOMER_USER" and device.customer_id == user.customer_id

    def device_for(self, user: User, device_id: str, *, write: bool = False) -> Device:
        """The device if `user` may see it; 403/20 for sysadmins and other customers' devices, 404/32 if absent."""
        if user.authority == "SYS_ADMIN":
            raise Failure(403, PERMISSION, 20)
        device = self.devices.get(device_id)
        if device is None:
            raise not_found("Device", device_id)
        if not self.can_see_device(user, device):
            raise Failure(403, PERMISSION, 20)
        return device

    # ---- devices
    def device_info(self, device: Device) -> dict[str, Any]:
        body = device.to_json(self.tenant.id)
        customer = self.customers.get(device.customer_id)
        body["customerTitle"] = customer.title if customer else None
        body["customerIsPublic"] = customer.is_public if customer else False
        profile = self.profiles.get(device.profile_id)
        body["deviceProfileName"] = profile.name if profile else device.type
        body["active"] = self.is_active(device.id)
        return body

    def is_active(self, device_id: str) -> bool:
        entry = self.attributes["SERVER_SCOPE"].get(device_id, {}).get("active")
        return bool(entry and entry[1] is True)

    def add_device(self, device: Device, credentials: str | None = None) -> Device:
        if device.name in self.device_names:
            raise Failure(400, "Device with such name already exists!", 31)
        if not device.credentials_id:
            device.credentials_id = credentials or secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")[:20]
        if not device.credentials_uuid:
            device.credentials_uuid = self.new_id()
        self.devices[device.id] = device
        self.device_names[device.name] = device.id
        self.changed()
        return device

    def rename_device(self, device: Device, name: str) -> None:
        if name != device.name:
            if name in self.device_names:
                raise Failure(400, "Device with such name already exists!", 31)
            del self.device_names[device.name]
            self.device_names[name] = device.id
            device.name = name

    def delete_device(self, device_id: str) -> None:
        device = self.devices.pop(device_id)
        self.device_names.pop(device.name, None)
        for scope in SCOPES:
            self.attributes[scope].pop(device_id, None)
        self.ts_latest.pop(device_id, None)
        self.ts_history.pop(device_id, None)
        self.ts_pending.pop(device_id, None)
        self.changed()

    def profile_by_name(self, name: str) -> DeviceProfile | None:
        for profile in self.profiles.values():
            if profile.name == name:
                return profile
        return None

    def default_profile(self) -> DeviceProfile:
        return next(p for p in self.profiles.values() if p.default)

    def sorted_cached(self, key: tuple[Any, ...], items: Callable[[], Iterable[Any]], sort_key: Callable) -> list[Any]:
        """Sort once per data generation; paging through 100k devices reuses the same list."""
        cached = self.sort_cache.get(key)
        if cached is None:
            cached = sorted(items(), key=sort_key, reverse=bool(key and key[-1] == "DESC"))
            self.cache_put(key, cached)
        return cached

    def cache_put(self, key: tuple[Any, ...], items: list[Any]) -> None:
        """Remember a sorted/filtered list for this data generation (bounded: a search box makes many)."""
        if len(self.sort_cache) >= 64:
            self.sort_cache.clear()
        self.sort_cache[key] = items

    # ---- attributes
    def entity_exists(self, entity_type: str, entity_id: str) -> bool:
        table = {
            "DEVICE": self.devices,
            "CUSTOMER": self.customers,
            "USER": self.users,
            "DASHBOARD": self.dashboards,
            "DEVICE_PROFILE": self.profiles,
        }.get(entity_type)
        if entity_type == "TENANT":
            return entity_id == self.tenant.id
        return table is not None and entity_id in table

    def get_attributes(self, entity_id: str, scope: str, keys: list[str] | None = None) -> list[tuple[str, int, Any]]:
        """(key, lastUpdateTs, value) in insertion order; unknown keys are skipped."""
        values = self.attributes[scope].get(entity_id, {})
        names = list(values) if keys is None else [k for k in keys if k in values]
        return [(k, values[k][0], values[k][1]) for k in names]

    def save_attributes(self, entity_id: str, scope: str, values: dict[str, Any], ts: int | None = None) -> None:
        ts = self.now_ms() if ts is None else ts
        target = self.attributes[scope].setdefault(entity_id, {})
        changed = {key: (ts, value) for key, value in values.items()}
        target.update(changed)
        if scope == "SERVER_SCOPE" and "active" in values:
            self.changed()
        self._notify(entity_id, "ATTRIBUTES", scope, changed, False)

    def delete_attributes(self, entity_id: str, scope: str, keys: list[str]) -> None:
        target = self.attributes[scope].get(entity_id, {})
        removed = {key: (0, "") for key in keys if target.pop(key, None) is not None}
        if removed:
            if scope == "SERVER_SCOPE" and "active" in removed:
                self.changed()
            self._notify(entity_id, "ATTRIBUTES", scope, removed, True)

    # ---- time series
    def _materialize(self, entity_id: str) -> None:
        index = self.ts_pending.pop(entity_id, None)
        if index is not None and self.generator is not None:
            history = self.generator.history(index)
            self.ts_history[entity_id] = history
            latest = self.ts_latest.setdefault(entity_id, {})
            for key, points in history.items():
                if points and key not in latest:
                    latest[key] = points[-1]

    def latest(self, entity_id: str) -> dict[str, tuple[int, Any]]:
        """Latest value per key. Generated devices answer without building their history."""
        index = self.ts_pending.get(entity_id)
        if index is not None and self.generator is not None:
            return self.generator.latest(index) | self.ts_latest.get(entity_id, {})
        return self.ts_latest.get(entity_id, {})

    def history(self, entity_id: str, key: str) -> list[tuple[int, Any]]:
        """All points of `key`, ascending by ts."""
        self._materialize(entity_id)
        return self.ts_history.get(entity_id, {}).get(key, [])

    def save_telemetry(self, entity_id: str, samples: list[tuple[int, dict[str, Any]]]) -> None:
        self._materialize(entity_id)
        series = self.ts_history.setdefault(entity_id, {})
        latest = self.ts_latest.setdefault(entity_id, {})
        for ts, values in samples:
            changed: dict[str, tuple[int, Any]] = {}
            for key, value in values.items():
                points = series.setdefault(key, [])
                position = bisect.bisect_left(points, ts, key=lambda p: p[0])
                if position < len(points) and points[position][0] == ts:
                    points[position] = (ts, value)
                else:
                    points.insert(position, (ts, value))
                if key not in latest or latest[key][0] <= ts:
                    latest[key] = (ts, value)
                changed[key] = (ts, value)
            if changed:
                self._notify(entity_id, "TIMESERIES", None, changed, False)

    def delete_telemetry(
        self, entity_id: str, keys: list[str], start_ts: int | None, end_ts: int | None, delete_all: bool,
        delete_latest: bool, rewrite_latest: bool,
    ) -> None:
        self._materialize(entity_id)
        series = self.ts_history.get(entity_id, {})
        latest = self.ts_latest.get(entity_id, {})
        removed: dict[str, tuple[int, Any]] = {}
        for key in keys:
            points = series.get(key, [])
            if delete_all:
                kept: list[tuple[int, Any]] = []
            else:
                assert start_ts is not None and end_ts is not None
                kept = [p for p in points if not start_ts <= p[0] < end_ts]
            if points:
                series[key] = kept
            current = latest.get(key)
            in_range = current is not None and (delete_all or start_ts <= current[0] < end_ts)  # type: ignore[operator]
            if current is not None and delete_latest and in_range:
                if rewrite_latest and kept:
                    latest[key] = kept[-1]
                else:
                    del latest[key]
                    removed[key] = (0, "")
            if not series.get(key):
                series.pop(key, None)
        if removed:
            self._notify(entity_id, "TIMESERIES", None, removed, True)
