"""Saved connection profiles (JSON in the platform's config folder) and their secrets (the OS keyring only).

A `Profile` holds everything needed to reach a server except the secret. Passwords, API keys and session tokens go
to the OS keyring through `SecretStore` (every keyring call runs in a worker thread: a backend may pop up an OS
prompt). When no keyring backend exists, `SecretStore` raises `SecretStoreUnavailable` and `keyring_status()` says
so, so the UI can offer "don't save the secret" or, only if the user explicitly opts in, an insecure file store.

    config_dir/profiles.json          {"version": 1, "last_used": "name", "profiles": [{...}, ...]}
    config_dir/insecure-secrets.json  only when the user opted in (mode 0600); never the profiles file
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

__all__ = [
    "APP_NAME",
    "AuthKind",
    "BackendKind",
    "InsecureFileSecrets",
    "KeyringStatus",
    "Profile",
    "ProfileError",
    "ProfileStore",
    "SecretKind",
    "SecretStore",
    "SecretStoreUnavailable",
    "SessionTokenSaver",
    "default_config_dir",
    "keyring_status",
    "mask_proxy",
    "read_saved_secret",
    "split_proxy_secret",
    "with_proxy_secret",
]

APP_NAME = "thingscope"
KEYRING_SERVICE = "thingscope"
_PROFILES_FILE = "profiles.json"
_INSECURE_FILE = "insecure-secrets.json"
_FORMAT_VERSION = 1

log = logging.getLogger(__name__)


class BackendKind(enum.StrEnum):
    THINGSBOARD = "thingsboard"
    POCKETBASE = "pocketbase"


class AuthKind(enum.StrEnum):
    PASSWORD = "password"
    API_KEY = "api_key"


class SecretKind(enum.StrEnum):
    """What a stored secret is: the credential the user typed, or a session token the app saved."""

    CREDENTIAL = "credential"  # the password or the API key, per `Profile.auth`
    TOKEN = "token"  # a refresh/session token, so a restart need not ask again
    PROXY = "proxy"  # the proxy's password (the profile keeps the proxy URL without it)


class ProfileError(ValueError):
    """A profile is invalid or unknown; `str()` is a sentence the UI can show."""


class SecretStoreUnavailable(RuntimeError):
    """No usable OS keyring backend: the UI should offer "don't save" or an explicit insecure file store."""


class Profile(msgspec.Struct, frozen=True, kw_only=True):
    """One saved connection. Holds no secret by construction: the secret lives in `SecretStore`."""

    name: str
    kind: BackendKind
    url: str
    user: str = ""
    auth: AuthKind = AuthKind.PASSWORD
    ca_bundle: str = ""  # path to a PEM bundle; empty = the OS trust store
    verify_tls: bool = True
    proxy: str = ""  # e.g. "http://proxy.corp:3128"; empty = the environment's proxy settings
    auth_collection: str = ""  # PocketBase: the auth collection to sign in to; empty = "_superusers"

    def __repr__(self) -> str:
        # The proxy URL may carry user:password; nothing else here is secret.
        return (
            f"Profile(name={self.name!r}, kind={self.kind.value!r}, url={self.url!r}, user={self.user!r}, "
            f"auth={self.auth.value!r}, verify_tls={self.verify_tls}, proxy={mask_proxy(self.proxy)!r})"
        )

    __str__ = __repr__

    def validate(self) -> None:
        """Raise `ProfileError` with a readable reason when the profile cannot be used."""
        if not self.name.strip():
            raise ProfileError("A profile needs a name.")
        if not self.url.strip():
            raise ProfileError("A profile needs the server address.")
        if not self.url.lower().startswith(("http://", "https://")):
            raise ProfileError("The server address must start with http:// or https://.")
        if self.auth is AuthKind.PASSWORD and not self.user.strip():
            raise ProfileError("Password sign-in needs a user name (e-mail).")
        if self.proxy and not self.proxy.lower().startswith(("http://", "https://", "socks5://", "socks5h://")):
            raise ProfileError("The proxy must be an http://, https:// or socks5:// address.")

    @property
    def secret_account(self) -> str:
        """The keyring account name: the server and the identity, not the profile's name (renames keep it)."""
        return f"{self.kind.value}|{self.auth.value}|{self.url.rstrip('/').lower()}|{self.user.strip().lower()}"


def split_proxy_secret(proxy: str) -> tuple[str, str | None]:
    """("http://alice@proxy:3128", "pw") from "http://alice:pw@proxy:3128": the URL to save, the password to keep
    in the keyring (`SecretKind.PROXY`). A proxy without a password comes back unchanged with None."""
    if "@" not in proxy or "://" not in proxy:
        return proxy, None
    scheme, rest = proxy.split("://", 1)
    userinfo, host = rest.rsplit("@", 1)
    if ":" not in userinfo:
        return proxy, None
    user, password = userinfo.split(":", 1)
    return f"{scheme}://{user}@{host}", password


def with_proxy_secret(proxy: str, password: str | None) -> str:
    """The proxy URL with its password put back (for the HTTP client only; never saved or shown)."""
    if not password or "@" not in proxy or "://" not in proxy:
        return proxy
    scheme, rest = proxy.split("://", 1)
    user, host = rest.rsplit("@", 1)
    return f"{scheme}://{user.split(':', 1)[0]}:{password}@{host}"


def mask_proxy(proxy: str) -> str:
    """The proxy URL with any password replaced by ***."""
    if "@" not in proxy or "://" not in proxy:
        return proxy
    scheme, rest = proxy.split("://", 1)
    userinfo, host = rest.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in userinfo else proxy


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


class _File(msgspec.Struct, kw_only=True):
    version: int = _FORMAT_VERSION
    last_used: str | None = None
    profiles: list[Profile] = []


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_File)


def _atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
    try:
        if private:
            os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class ProfileStore:
    """The saved profiles and the last one used, in `config_dir/profiles.json` (small: read and written whole)."""

    def __init__(self, config_dir: Path | str | None = None) -> None:
        self.config_dir = Path(config_dir) if config_dir is not None else default_config_dir()
        self.path = self.config_dir / _PROFILES_FILE

    def _load(self) -> _File:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return _File()
        try:
            return _decoder.decode(raw)
        except msgspec.DecodeError as exc:
            # A damaged file must not lock the user out; keep a copy for them and start again.
            backup = self.path.with_suffix(".json.bad")
            with contextlib.suppress(OSError):
                os.replace(self.path, backup)
            log.warning("Saved profiles were unreadable (%s); moved to %s", exc, backup)
            return _File()

    def _store(self, state: _File) -> None:
        _atomic_write(self.path, msgspec.json.format(_encoder.encode(state), indent=2))

    def list(self) -> list[Profile]:
        return sorted(self._load().profiles, key=lambda p: p.name.lower())

    def get(self, name: str) -> Profile:
        for profile in self._load().profiles:
            if profile.name == name:
                return profile
        raise ProfileError(f"No saved profile is called {name!r}.")

    def save(self, profile: Profile, *, previous_name: str | None = None) -> None:
        """Add or replace a profile; `previous_name` renames one (and keeps "last used" pointing at it).

        A password inside the proxy URL is never written: save it first with
        `SecretStore.set(profile, password, SecretKind.PROXY)` (`split_proxy_secret` takes it out of the URL).
        """
        profile.validate()
        proxy, _password = split_proxy_secret(profile.proxy)
        if proxy != profile.proxy:
            profile = msgspec.structs.replace(profile, proxy=proxy)
        state = self._load()
        old = previous_name if previous_name is not None else profile.name
        if old != profile.name and any(p.name == profile.name for p in state.profiles):
            raise ProfileError(f"A profile called {profile.name!r} already exists.")
        state.profiles = [p for p in state.profiles if p.name != old]
        state.profiles.append(profile)
        if state.last_used == old:
            state.last_used = profile.name
        self._store(state)

    def delete(self, name: str) -> None:
        state = self._load()
        state.profiles = [p for p in state.profiles if p.name != name]
        if state.last_used == name:
            state.last_used = None
        self._store(state)

    @property
    def last_used(self) -> Profile | None:
        state = self._load()
        for profile in state.profiles:
            if profile.name == state.last_used:
                return profile
        return None

    def set_last_used(self, name: str | None) -> None:
        state = self._load()
        if name is not None and not any(p.name == name for p in state.profiles):
            raise ProfileError(f"No saved profile is called {name!r}.")
        state.last_used = name
        self._store(state)


# --- secrets --------------------------------------------------------------------------------------------------


class KeyringStatus(msgspec.Struct, frozen=True, kw_only=True):
    available: bool
    backend: str  # the backend's class name, for the "about" box and bug reports
    reason: str = ""  # why not, in a sentence, when unavailable


def _keyring_status_sync() -> KeyringStatus:
    import keyring
    from keyring.backends import fail

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken backend configuration
        return KeyringStatus(available=False, backend="", reason=f"The OS keyring could not be loaded: {exc}")
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        return KeyringStatus(
            available=False, backend=name, reason="No OS keyring (credential store) is available on this system."
        )
    try:
        priority = float(backend.priority)
    except Exception:
        priority = 1.0
    if priority <= 0:
        return KeyringStatus(available=False, backend=name, reason="The only keyring backend available is unusable.")
    return KeyringStatus(available=True, backend=name)


async def keyring_status() -> KeyringStatus:
    """Whether secrets can be saved in the OS keyring (checked in a worker thread)."""
    return await asyncio.to_thread(_keyring_status_sync)


class InsecureFileSecrets:
    """Plain-text secrets in a 0600 file next to the profiles: only ever used when the user opts in explicitly."""

    def __init__(self, config_dir: Path | str | None = None) -> None:
        self.path = (Path(config_dir) if config_dir is not None else default_config_dir()) / _INSECURE_FILE

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, account: str) -> str | None:
        return self._read().get(account)

    def set(self, account: str, secret: str) -> None:
        data = self._read()
        data[account] = secret
        _atomic_write(self.path, json.dumps(data).encode(), private=True)

    def delete(self, account: str) -> None:
        data = self._read()
        if data.pop(account, None) is not None:
            _atomic_write(self.path, json.dumps(data).encode(), private=True)

    def __repr__(self) -> str:
        return f"InsecureFileSecrets({str(self.path)!r})"


class SecretStore:
    """Secrets for profiles: the OS keyring, or an `InsecureFileSecrets` the user explicitly chose.

    Every call is a coroutine; keyring work runs in `asyncio.to_thread`. Secrets are never logged.
    """

    def __init__(self, *, insecure_file: InsecureFileSecrets | None = None, service: str = KEYRING_SERVICE) -> None:
        self.service = service
        self.insecure_file = insecure_file

    def __repr__(self) -> str:
        where = "insecure file" if self.insecure_file is not None else "keyring"
        return f"SecretStore(service={self.service!r}, where={where})"

    @staticmethod
    def _account(profile: Profile, what: SecretKind) -> str:
        return f"{profile.secret_account}|{what.value}"

    async def _call(self, name: str, *args: str) -> Any:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError

        def run() -> Any:
            return getattr(keyring, name)(self.service, *args)

        try:
            return await asyncio.to_thread(run)
        except NoKeyringError as exc:
            raise SecretStoreUnavailable("No OS keyring (credential store) is available on this system.") from exc
        except KeyringError as exc:
            if name == "delete_password":
                return None  # nothing stored: deleting is idempotent
            raise SecretStoreUnavailable(f"The OS keyring refused the request ({type(exc).__name__}).") from exc

    async def get(self, profile: Profile, what: SecretKind = SecretKind.CREDENTIAL) -> str | None:
        account = self._account(profile, what)
        if self.insecure_file is not None:
            return await asyncio.to_thread(self.insecure_file.get, account)
        return await self._call("get_password", account)

    async def set(self, profile: Profile, secret: str, what: SecretKind = SecretKind.CREDENTIAL) -> None:
        account = self._account(profile, what)
        if self.insecure_file is not None:
            await asyncio.to_thread(self.insecure_file.set, account, secret)
            return
        await self._call("set_password", account, secret)

    async def delete(self, profile: Profile, what: SecretKind | None = None) -> None:
        """Forget one secret, or both (credential and token) when `what` is None."""
        kinds = [what] if what is not None else list(SecretKind)
        for kind in kinds:
            account = self._account(profile, kind)
            if self.insecure_file is not None:
                await asyncio.to_thread(self.insecure_file.delete, account)
            else:
                await self._call("delete_password", account)


async def read_saved_secret(
    profile: Profile, config_dir: Path | str | None = None, what: SecretKind = SecretKind.CREDENTIAL
) -> tuple[str | None, bool]:
    """A profile's saved secret and whether it came from the plain-text file: the OS keyring first, then the file
    the user explicitly opted in to on an earlier run when there was no keyring (it was written but never read)."""
    try:
        secret = await SecretStore().get(profile, what)
    except SecretStoreUnavailable:
        secret = None
    if secret:
        return secret, False
    secret = await SecretStore(insecure_file=InsecureFileSecrets(config_dir)).get(profile, what)
    return (secret, True) if secret else (None, False)


class SessionTokenSaver:
    """Keeps a profile's session token in the keyring while an SDK auth store changes it.

        saver = SessionTokenSaver(secrets, profile)
        token = await saver.load()                     # restore a session at start
        pb.auth_store.on_change(saver.on_change)       # then every new token (or "" on sign-out) is saved

    Writes run in the background, one after another in the order the tokens came; `flush()` awaits them.
    A keyring failure is logged once (without the token) and never breaks the session.
    """

    def __init__(self, secrets: SecretStore, profile: Profile) -> None:
        self.secrets = secrets
        self.profile = profile
        self._pending: asyncio.Task[None] | None = None
        self._warned = False

    def __repr__(self) -> str:
        return f"SessionTokenSaver(profile={self.profile.name!r})"

    async def load(self) -> str | None:
        try:
            return await self.secrets.get(self.profile, SecretKind.TOKEN)
        except SecretStoreUnavailable:
            return None

    def on_change(self, token: str, *_record: Any) -> None:
        """An auth-store listener: save `token` (forget it when empty). Must be called on the event loop."""
        previous = self._pending
        self._pending = asyncio.get_running_loop().create_task(self._write(previous, token or ""))

    async def _write(self, previous: asyncio.Task[None] | None, token: str) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        try:
            if token:
                await self.secrets.set(self.profile, token, SecretKind.TOKEN)
            else:
                await self.secrets.delete(self.profile, SecretKind.TOKEN)
        except SecretStoreUnavailable as exc:
            if not self._warned:
                self._warned = True
                log.warning("The session could not be kept in the keyring: %s", exc)

    async def flush(self) -> None:
        """Wait until every token handed to `on_change` so far is written."""
        while self._pending is not None and not self._pending.done():
            await self._pending
