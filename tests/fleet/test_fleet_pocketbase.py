"""PocketBase-only behaviour of the fleet: token sign-in, the admin-UI link, large live subscriptions."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import msgspec
import pytest

from console.demo import data
from console.demo.seeding import device_id
from console.fleet import AuthenticationError, DeviceQuery
from console.fleet.open import open_fleet
from console.fleet.pocketbase import PocketBaseFleet
from console.pocketbase.client import PocketBase
from console.profiles import AuthKind, BackendKind, Profile, ProfileError
from tests.fleet.conftest import SMALL_DEMO, unique_key, wait_for


async def superuser_token(server) -> str:
    async with PocketBase(server.url) as pb:
        result = await pb.collection("_superusers").auth_with_password(
            server.superuser_email, server.superuser_password
        )
        return result.token


@pytest.fixture
async def fleet(pb_demo_server) -> AsyncIterator[PocketBaseFleet]:
    """A fleet signed in to the demo server as the superuser, closed after the test."""
    fleet = PocketBaseFleet(
        pb_demo_server.url, identity=pb_demo_server.superuser_email, password=pb_demo_server.superuser_password
    )
    await fleet.connect()
    try:
        yield fleet
    finally:
        await fleet.close()


async def test_a_saved_token_signs_in_and_a_bad_one_is_refused(pb_demo_server):
    token = await superuser_token(pb_demo_server)
    profile = Profile(name="pb", kind=BackendKind.POCKETBASE, url=pb_demo_server.url, auth=AuthKind.API_KEY)
    fleet = open_fleet(profile, token)
    assert isinstance(fleet, PocketBaseFleet)
    await fleet.connect()
    try:
        assert (await fleet.device_counts()).total == SMALL_DEMO.devices
        assert fleet.identity == pb_demo_server.superuser_email
    finally:
        await fleet.close()
    bad = open_fleet(profile, token[:-4] + "AAAA")
    with pytest.raises(AuthenticationError):
        await bad.connect()
    await bad.close()


async def test_open_fleet_with_a_password_profile(pb_demo_server):
    profile = Profile(
        name="pb", kind=BackendKind.POCKETBASE, url=pb_demo_server.url, user=pb_demo_server.superuser_email
    )
    with pytest.raises(ProfileError):
        open_fleet(profile, "")
    with pytest.raises(ProfileError, match="CA bundle"):
        open_fleet(msgspec.structs.replace(profile, ca_bundle="/no/such/bundle.pem"), "pw")
    fleet = open_fleet(profile, pb_demo_server.superuser_password)
    await fleet.connect()
    try:
        page = await fleet.list_devices(DeviceQuery(), 0, 5)
        assert len(page.rows) == 5 and page.has_next
        assert fleet.dashboard_url("abc") == f"{pb_demo_server.url}/_/#/collections?collection=dashboards&recordId=abc"
    finally:
        await fleet.close()


async def test_live_telemetry_for_more_devices_than_one_filter_holds(fleet):
    devices = [device_id(d.name) for d in data.make_devices(SMALL_DEMO, 0)]
    assert len(devices) > 50  # the fleet splits the realtime filter into several subscriptions
    key = unique_key("many")
    got = []
    subscription = await fleet.subscribe_telemetry(devices, [key], lambda d, k, points: got.append(d))
    try:
        now = int(time.time() * 1000)
        for device in (devices[0], devices[-1]):
            await fleet.pb.collection("telemetry").create({"device": device, "key": key, "ts": now, "value": 1})
        await fleet.pb.collection("telemetry").create({"device": devices[1], "key": "other", "ts": now, "value": 1})
        await wait_for(lambda: len(got) >= 2)
    finally:
        await subscription.close()
    assert got == [devices[0], devices[-1]]


async def test_points_missed_while_the_server_was_down_are_backfilled_once_in_order(pb_server_factory):
    from console.demo.schema import TELEMETRY
    from console.demo.seeding import enable_batch, ensure_schema

    server = pb_server_factory()
    fleet = PocketBaseFleet(server.url, identity=server.superuser_email, password=server.superuser_password)
    states = []
    fleet.on_state(lambda state, detail: states.append(state.value))
    await fleet.connect()
    await enable_batch(fleet.pb)
    await ensure_schema(fleet.pb)
    got = []
    try:
        feed = await fleet.subscribe_telemetry(["dev000000000001"], ["t"], lambda d, k, points: got.extend(points))

        async def post(ts: int) -> None:
            async with PocketBase(server.url) as writer:
                await writer.collection("_superusers").auth_with_password(
                    server.superuser_email, server.superuser_password
                )
                point = {"device": "dev000000000001", "key": "t", "ts": ts, "value": ts}
                await writer.collection(TELEMETRY).create(point)

        base = int(time.time() * 1000)
        for i in range(3):
            await post(base + i)
        await wait_for(lambda: len(got) == 3)
        server.restart()  # same port and data: the realtime stream drops and reconnects
        for i in range(3, 8):  # posted while our stream is (most likely) still reconnecting
            await post(base + i)
        await wait_for(lambda: len(got) >= 8)
        await wait_for(lambda: feed.backfill_task is None)
        await post(base + 8)
        await wait_for(lambda: len(got) >= 9)
        assert [p.ts for p in got] == [base + i for i in range(9)]
        assert feed.backfills >= 1
        assert "reconnecting" in states and states[-1] == "connected"
        await feed.close()
    finally:
        await fleet.close()


async def test_collections_page_lists_the_demo_collections_with_counts(fleet):
    from console.demo.schema import COLLECTIONS

    rows = {row.name: row for row in await fleet.collections()}
    assert set(COLLECTIONS) <= set(rows)
    assert "_superusers" not in rows
    assert rows["devices"].records == SMALL_DEMO.devices and rows["devices"].type == "base"
    assert {"name", "profile", "active"} <= set(rows["devices"].fields)


async def test_text_that_looks_like_json_stays_text(fleet):
    """PocketBase parses a string sent to a JSON field as JSON when it can ("1.0" would come back as the number 1):
    an engineer who types the text "1.0" or "true" must read back exactly that text."""
    device = (await fleet.list_devices(DeviceQuery(), 0, 1)).rows[0].id
    prefix = unique_key("text")
    values = {f"{prefix}_{i}": text for i, text in enumerate(["1.0", "true", "null", '{"a": 1}', '"quoted"', ""])}
    values[f"{prefix}_number"] = 1.5
    await fleet.save_attributes(device, "SHARED_SCOPE", values)
    read = {a.key: a.value for a in await fleet.attributes(device, "SHARED_SCOPE")}
    assert {key: read.get(key) for key in values} == values
    assert type(read[f"{prefix}_number"]) is float
    await fleet.delete_attributes(device, "SHARED_SCOPE", list(values))
