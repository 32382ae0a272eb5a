"""The auth store: validity from the token's exp, superuser detection, change notifications."""

from __future__ import annotations

import base64
import json
import time

from console.pocketbase import AuthStore, RecordModel, decode_token_payload


def _token(**claims: object) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.signature"


def test_is_valid_follows_exp() -> None:
    store = AuthStore()
    assert not store.is_valid
    store.save(_token(exp=time.time() + 60, type="auth"))
    assert store.is_valid
    store.save(_token(exp=time.time() - 1, type="auth"))
    assert not store.is_valid
    store.save("not-a-jwt")
    assert not store.is_valid and decode_token_payload("not-a-jwt") == {}


def test_is_superuser() -> None:
    superuser = RecordModel({"id": "1", "collectionName": "_superusers"})
    user = RecordModel({"id": "2", "collectionName": "users"})
    assert AuthStore(_token(exp=time.time() + 60, type="auth"), superuser).is_superuser
    assert not AuthStore(_token(exp=time.time() + 60, type="auth"), user).is_superuser
    assert not AuthStore(_token(exp=time.time() + 60, type="file"), superuser).is_superuser


def test_on_change_notifies_and_can_be_removed() -> None:
    store = AuthStore()
    seen: list[tuple[str, RecordModel | None]] = []
    remove = store.on_change(lambda token, record: seen.append((token, record)), fire_immediately=True)
    assert seen == [("", None)]
    record = RecordModel({"id": "1"})
    store.save("t1", record)
    store.clear()
    assert seen[1:] == [("t1", record), ("", None)]
    remove()
    remove()  # removing twice is harmless
    store.save("t2")
    assert len(seen) == 3


def test_a_failing_listener_does_not_stop_the_others() -> None:
    store = AuthStore()
    seen: list[str] = []

    def broken(token: str, record: RecordModel | None) -> None:
        raise RuntimeError("boom")

    store.on_change(broken)
    store.on_change(lambda token, record: seen.append(token))
    store.save("t")
    assert seen == ["t"] and store.token == "t"


def test_repr_never_shows_the_token() -> None:
    token = _token(exp=time.time() + 60, type="auth")
    assert token not in repr(AuthStore(token))
