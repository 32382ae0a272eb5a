"""Auth collections and the auth store against a real PocketBase."""

from __future__ import annotations

import pytest

from console.errors import ApiError, AuthenticationError, PermissionDeniedError
from console.pocketbase import AuthStore, PocketBase, RecordModel
from tests.pocketbase.conftest import unique
from tests.pocketbase.smtp_sink import SmtpSink

PASSWORD = "correct-horse-battery"


async def _make_user(pb: PocketBase) -> RecordModel:
    email = f"{unique('user')}@example.com"
    return await pb.collection("users").create(
        {"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD, "name": "Field Engineer"}
    )


async def test_superuser_login_fills_the_store_and_notifies(pb_server) -> None:
    async with PocketBase(pb_server.url) as pb:
        changes: list[tuple[str, RecordModel | None]] = []
        remove = pb.auth_store.on_change(lambda token, record: changes.append((token, record)))
        assert not pb.auth_store.is_valid
        answer = await pb.collection("_superusers").auth_with_password(
            pb_server.superuser_email, pb_server.superuser_password
        )
        assert pb.auth_store.token == answer.token and pb.auth_store.is_valid and pb.auth_store.is_superuser
        assert pb.auth_store.record is not None and pb.auth_store.record.get("email") == pb_server.superuser_email
        assert changes == [(answer.token, answer.record)]
        # the token is what authorizes superuser-only calls
        assert (await pb.collections.get_list(1, 1)).total_items > 0
        pb.auth_store.clear()
        assert changes[-1] == ("", None) and not pb.auth_store.is_valid
        remove()
        pb.auth_store.save(answer.token, answer.record)
        assert len(changes) == 2
        assert answer.token not in repr(pb.auth_store)


async def test_wrong_password_is_a_readable_error(pb_server) -> None:
    async with PocketBase(pb_server.url) as pb:
        with pytest.raises(AuthenticationError) as caught:
            await pb.collection("_superusers").auth_with_password(pb_server.superuser_email, "wrong-password")
    assert caught.value.status == 400 and "authenticate" in caught.value.message.lower()
    assert not pb.auth_store.token


async def test_user_login_refresh_and_limits(pb_server, pb) -> None:
    user = await _make_user(pb)
    async with PocketBase(pb_server.url) as client:
        methods = await client.collection("users").list_auth_methods()
        assert methods.password.get("enabled") is True
        answer = await client.collection("users").auth_with_password(user.get_string_value("email"), PASSWORD)
        assert client.auth_store.is_valid and not client.auth_store.is_superuser
        assert answer.record.id == user.id
        refreshed = await client.collection("users").auth_refresh()
        assert refreshed.record.id == user.id and client.auth_store.token == refreshed.token
        with pytest.raises(PermissionDeniedError):
            await client.collections.get_list()
        # updating the signed-in record updates the store's copy
        await client.collection("users").update(user.id, {"name": "Renamed"})
        assert client.auth_store.record is not None
        assert client.auth_store.record.get_string_value("name") == "Renamed"
        # deleting it signs out
        await client.collection("users").delete(user.id)
        assert client.auth_store.token == "" and client.auth_store.record is None


async def test_refresh_without_token_is_authentication_error(pb_server) -> None:
    async with PocketBase(pb_server.url) as pb:
        with pytest.raises(AuthenticationError):
            await pb.collection("users").auth_refresh()


async def test_email_flows_end_to_end_with_a_local_mailbox(pb_server_factory) -> None:
    """Verification, password reset and email change, with the tokens read from the emails PocketBase sends."""
    server = pb_server_factory()
    sink = await SmtpSink().start()
    try:
        async with PocketBase(server.url) as admin:
            await admin.collection("_superusers").auth_with_password(server.superuser_email, server.superuser_password)
            await admin.settings.update({"smtp": {"enabled": True, "host": "127.0.0.1", "port": sink.port}})
            user = await _make_user(admin)
        email = user.get_string_value("email")
        users_of = lambda client: client.collection("users")  # noqa: E731

        async with PocketBase(server.url) as client:
            await users_of(client).request_verification(email)
            to, token = await sink.next_token()
            assert email in to
            await users_of(client).confirm_verification(token)
            with pytest.raises(ApiError) as caught:
                await users_of(client).confirm_verification("not-a-token")
            assert caught.value.status == 400

            await users_of(client).request_password_reset(email)
            _, token = await sink.next_token()
            await users_of(client).confirm_password_reset(token, "brand-new-password", "brand-new-password")
            answer = await users_of(client).auth_with_password(email, "brand-new-password")
            assert answer.record.get_bool_value("verified") is True

            new_email = f"{unique('moved')}@example.com"
            await users_of(client).request_email_change(new_email)
            to, token = await sink.next_token()
            assert new_email in to
            await users_of(client).confirm_email_change(token, "brand-new-password")
            client.auth_store.clear()
            answer = await users_of(client).auth_with_password(new_email, "brand-new-password")
            assert answer.record.id == user.id
    finally:
        await sink.stop()


async def test_impersonate_gives_a_token_for_another_record(pb_server, pb) -> None:
    user = await _make_user(pb)
    answer = await pb.collection("users").impersonate(user.id, 60)
    assert answer.record.id == user.id
    async with PocketBase(pb_server.url, auth_store=AuthStore(answer.token, answer.record)) as client:
        assert client.auth_store.is_valid
        me = await client.collection("users").get_one(user.id)
        assert me.get_string_value("email") == user.get_string_value("email")
