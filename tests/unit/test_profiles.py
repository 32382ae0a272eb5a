"""Connection profiles: JSON without secrets, secrets only in the (fake) OS keyring, a clear "no keyring" signal."""

from __future__ import annotations

import logging
import stat
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from console.profiles import (
    AuthKind,
    BackendKind,
    InsecureFileSecrets,
    Profile,
    ProfileError,
    ProfileStore,
    SecretKind,
    SecretStore,
    SecretStoreUnavailable,
    keyring_status,
    split_proxy_secret,
    with_proxy_secret,
)


class MemoryKeyring(KeyringBackend):
    """A keyring backend in a dict, so tests never touch the machine's real credential store."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def tb_profile(**changes) -> Profile:
    values = dict(
        name="Plant A",
        kind=BackendKind.THINGSBOARD,
        url="https://tb.example.com",
        user="tenant@thingsboard.org",
        proxy="http://alice:pr0xyPass@proxy.corp:3128",
    )
    values.update(changes)
    return Profile(**values)


def test_profiles_round_trip_through_json(tmp_path: Path):
    store = ProfileStore(tmp_path)
    pb = Profile(name="Lab", kind=BackendKind.POCKETBASE, url="http://127.0.0.1:8090", user="a@b.c", verify_tls=False)
    store.save(tb_profile(ca_bundle="/etc/ssl/corp.pem"))
    store.save(pb)

    again = ProfileStore(tmp_path)
    assert [p.name for p in again.list()] == ["Lab", "Plant A"]
    assert again.get("Plant A").ca_bundle == "/etc/ssl/corp.pem"
    assert again.get("Lab") == pb
    assert again.get("Lab").verify_tls is False


def test_last_used_is_remembered_and_follows_renames(tmp_path: Path):
    store = ProfileStore(tmp_path)
    assert store.last_used is None
    store.save(tb_profile())
    store.set_last_used("Plant A")
    assert ProfileStore(tmp_path).last_used.name == "Plant A"

    store.save(tb_profile(name="Plant A (prod)"), previous_name="Plant A")
    assert [p.name for p in store.list()] == ["Plant A (prod)"]
    assert store.last_used.name == "Plant A (prod)"

    store.delete("Plant A (prod)")
    assert store.last_used is None
    assert store.list() == []


def test_invalid_profiles_are_refused_with_a_reason(tmp_path: Path):
    store = ProfileStore(tmp_path)
    with pytest.raises(ProfileError, match="http"):
        store.save(tb_profile(url="tb.example.com"))
    with pytest.raises(ProfileError, match="user"):
        store.save(tb_profile(user=""))
    store.save(tb_profile(user="", auth=AuthKind.API_KEY))  # API keys need no user name
    with pytest.raises(ProfileError, match="No saved profile"):
        store.get("nope")
    store.save(tb_profile(name="Other"))
    with pytest.raises(ProfileError, match="already exists"):
        store.save(tb_profile(name="Other"), previous_name="Plant A")


def test_a_damaged_file_does_not_lock_the_user_out(tmp_path: Path):
    (tmp_path / "profiles.json").write_text("{not json")
    store = ProfileStore(tmp_path)
    assert store.list() == []
    store.save(tb_profile())
    assert store.get("Plant A").url == "https://tb.example.com"
    assert (tmp_path / "profiles.json.bad").exists()


async def test_secrets_live_in_the_keyring_never_in_the_json(tmp_path: Path, memory_keyring: MemoryKeyring):
    store = ProfileStore(tmp_path)
    profile = tb_profile()
    store.save(profile)
    secrets = SecretStore()
    await secrets.set(profile, "s3cret-Password!")
    await secrets.set(profile, "refresh-token-value", SecretKind.TOKEN)

    assert await secrets.get(profile) == "s3cret-Password!"
    assert await secrets.get(profile, SecretKind.TOKEN) == "refresh-token-value"
    text = (tmp_path / "profiles.json").read_text()
    assert "s3cret-Password!" not in text and "refresh-token-value" not in text
    assert set(memory_keyring.items.values()) == {"s3cret-Password!", "refresh-token-value"}

    # a renamed profile keeps its secret: the keyring account is the server and identity, not the name
    assert await secrets.get(tb_profile(name="Renamed")) == "s3cret-Password!"

    await secrets.delete(profile)
    assert await secrets.get(profile) is None
    assert memory_keyring.items == {}
    await secrets.delete(profile)  # deleting twice is fine


def test_proxy_password_never_shows_in_reprs():
    profile = tb_profile()
    for text in (repr(profile), str(profile), repr(SecretStore())):
        assert "pr0xyPass" not in text
    assert "alice:***@proxy.corp:3128" in repr(profile)


async def test_no_keyring_backend_is_a_clear_signal(no_keyring, tmp_path: Path):
    status = await keyring_status()
    assert status.available is False
    assert "keyring" in status.reason.lower()
    with pytest.raises(SecretStoreUnavailable, match="keyring"):
        await SecretStore().set(tb_profile(), "pw")
    with pytest.raises(SecretStoreUnavailable):
        await SecretStore().get(tb_profile())


async def test_keyring_status_reports_a_working_backend(memory_keyring):
    status = await keyring_status()
    assert status.available is True
    assert status.backend.endswith("MemoryKeyring")


async def test_insecure_file_store_only_when_chosen(no_keyring, tmp_path: Path):
    secrets = SecretStore(insecure_file=InsecureFileSecrets(tmp_path))
    profile = tb_profile()
    ProfileStore(tmp_path).save(profile)
    await secrets.set(profile, "pw-in-file")
    assert await secrets.get(profile) == "pw-in-file"
    assert "pw-in-file" not in (tmp_path / "profiles.json").read_text()
    secret_file = tmp_path / "insecure-secrets.json"
    if sys.platform != "win32":
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    await secrets.delete(profile)
    assert await secrets.get(profile) is None


async def test_secrets_do_not_reach_the_log(memory_keyring, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    secrets = SecretStore()
    await secrets.set(tb_profile(), "never-logged-pw")
    await secrets.get(tb_profile())
    assert "never-logged-pw" not in caplog.text


async def test_a_proxy_password_goes_to_the_keyring_not_the_json(tmp_path: Path, memory_keyring: MemoryKeyring):
    profile = tb_profile()  # proxy http://alice:pr0xyPass@proxy.corp:3128
    url, password = split_proxy_secret(profile.proxy)
    assert (url, password) == ("http://alice@proxy.corp:3128", "pr0xyPass")
    await SecretStore().set(profile, password, SecretKind.PROXY)
    ProfileStore(tmp_path).save(profile)
    assert "pr0xyPass" not in (tmp_path / "profiles.json").read_text()
    saved = ProfileStore(tmp_path).get("Plant A")
    assert saved.proxy == "http://alice@proxy.corp:3128"
    restored = with_proxy_secret(saved.proxy, await SecretStore().get(saved, SecretKind.PROXY))
    assert restored == "http://alice:pr0xyPass@proxy.corp:3128"
    assert split_proxy_secret("http://proxy:3128") == ("http://proxy:3128", None)
    assert with_proxy_secret("http://proxy:3128", None) == "http://proxy:3128"


async def test_session_tokens_follow_the_auth_store_into_the_keyring(memory_keyring: MemoryKeyring):
    from console.pocketbase.auth_store import AuthStore
    from console.profiles import SessionTokenSaver

    profile = tb_profile()
    saver = SessionTokenSaver(SecretStore(), profile)
    assert await saver.load() is None
    store = AuthStore()
    store.on_change(saver.on_change)
    store.save("token-one")
    store.save("token-two")
    await saver.flush()
    assert await saver.load() == "token-two"  # written in order: the newest wins
    assert "token-two" not in repr(saver)
    store.clear()
    await saver.flush()
    assert await saver.load() is None and memory_keyring.items == {}


async def test_a_missing_keyring_does_not_break_the_session(no_keyring, caplog: pytest.LogCaptureFixture):
    from console.profiles import SessionTokenSaver

    saver = SessionTokenSaver(SecretStore(), tb_profile())
    saver.on_change("secret-session-token")
    saver.on_change("secret-session-token-2")
    await saver.flush()
    assert await saver.load() is None
    assert len([r for r in caplog.records if "keyring" in r.getMessage()]) == 1
    assert "secret-session-token" not in caplog.text
