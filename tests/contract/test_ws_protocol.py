"""The emulator's `/api/ws` frame by frame, with a raw websockets client (no SDK), against reference §7."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.tbserver.fixture import TbServer, start_server

WAIT = 15  # seconds: a hang guard, never an assertion about speed


@pytest.fixture(scope="module")
def server() -> Iterator[TbServer]:
    extra = {"ws_auth_timeout": 0.5, "ws_ping_interval": 0.5, "ws_refresh_interval": 0.3}
    started = start_server(devices=6, extra=extra)
    yield started
    started.stop()


def login(server: TbServer, username: str = "tenant@thingsboard.org", password: str = "tenant") -> str:
    answer = httpx.post(f"{server.url}/api/auth/login", json={"username": username, "password": password})
    answer.raise_for_status()
    return answer.json()["token"]


def ws_url(server: TbServer, path: str = "/api/ws") -> str:
    return server.url.replace("http://", "ws://") + path


def device_of(server: TbServer, index: int = 0) -> str:
    tenant_devices = sorted(server.store.devices.values(), key=lambda d: d.name)
    return tenant_devices[index].id


async def recv(ws: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), WAIT))


async def closed_with(ws: Any) -> tuple[int | None, str]:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT)
    rcvd = info.value.rcvd
    return (rcvd.code, rcvd.reason) if rcvd else (None, "")


def post_telemetry(server: TbServer, device_id: str, ts: int, values: dict[str, Any]) -> None:
    server.call(lambda: server.store.save_telemetry(device_id, [(ts, values)]))


async def test_auth_in_first_frame_then_timeseries_subscription_and_live_update(server):
    device = device_of(server)
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({
            "authCmd": {"cmdId": 0, "token": login(server)},
            "cmds": [{"type": "TIMESERIES", "cmdId": 3, "entityType": "DEVICE", "entityId": device,
                      "keys": "temperature,nosuchkey", "scope": "LATEST_TELEMETRY"}],
        }))
        first = await recv(ws)
        assert first["subscriptionId"] == 3 and first["errorCode"] == 0 and first["errorMsg"] is None
        assert list(first["data"]) == ["nosuchkey", "temperature"]  # keys sorted
        ts, value = first["data"]["temperature"][0]
        assert isinstance(ts, int) and isinstance(value, str)
        assert first["data"]["nosuchkey"][0][1] is None  # missing latest -> [now, null]
        await asyncio.to_thread(post_telemetry, server, device, ts + 1000, {"temperature": 21.5, "humidity": 40})
        update = await recv(ws)
        assert update["subscriptionId"] == 3
        assert update["data"] == {"temperature": [[ts + 1000, "21.5"]]}
        assert update["latestValues"] == {"temperature": ts + 1000}


async def test_first_frame_without_auth_closes_1008(server):
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"cmds": []}))
        code, reason = await closed_with(ws)
    assert code == 1008 and "Auth cmd is missing" in reason


async def test_bad_auth_token_closes_1007_and_bad_url_token_1011(server):
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": "not-a-jwt"}}))
        assert (await closed_with(ws))[0] == 1007
    async with websockets.connect(ws_url(server, "/api/ws/plugins/telemetry?token=bad")) as ws:
        assert (await closed_with(ws))[0] == 1011


async def test_auth_timeout_closes_1008(server):
    async with websockets.connect(ws_url(server)) as ws:
        assert (await closed_with(ws))[0] == 1008


async def test_legacy_endpoint_with_url_token(server):
    device = device_of(server, 1)
    async with websockets.connect(ws_url(server, f"/api/ws/plugins/telemetry?token={login(server)}")) as ws:
        await ws.send(json.dumps({"tsSubCmds": [{"entityType": "DEVICE", "entityId": device, "keys": "humidity",
                                                 "scope": "LATEST_TELEMETRY", "cmdId": 10}],
                                  "historyCmds": [], "attrSubCmds": []}))
        reply = await recv(ws)
        assert reply["subscriptionId"] == 10 and "humidity" in reply["data"]


async def test_legacy_arrays_on_new_endpoint_are_a_parse_error_with_fixed_id(server):
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)}}))
        await ws.send(json.dumps({"tsSubCmds": [{"cmdId": 5}]}))
        reply = await recv(ws)
        assert reply == {"subscriptionId": 1, "errorCode": 2, "errorMsg": "Failed to parse the payload",
                         "data": None, "latestValues": {}}
        await ws.send(json.dumps({"cmds": [{"type": "ATTRIBUTES", "cmdId": -1, "entityId": "x"}]}))
        negative = await recv(ws)
        assert negative["errorCode"] == 2 and "negative" in negative["errorMsg"]


async def test_unknown_entity_is_error_code_1(server):
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)}, "cmds": [
            {"type": "ATTRIBUTES", "cmdId": 4, "entityType": "DEVICE",
             "entityId": "00000000-0000-0000-0000-000000000000"}]}))
        reply = await recv(ws)
        assert reply["subscriptionId"] == 4 and reply["errorCode"] == 1
        assert reply["errorMsg"] == "Failed to fetch attributes!" and reply["data"] is None


async def test_attribute_subscription_updates_and_deletes(server):
    device = device_of(server, 2)
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)}, "cmds": [
            {"type": "ATTRIBUTES", "cmdId": 1, "entityType": "DEVICE", "entityId": device, "keys": "firmware",
             "scope": "SHARED_SCOPE"}]}))
        await recv(ws)
        await asyncio.to_thread(
            server.call, lambda: server.store.save_attributes(device, "SHARED_SCOPE", {"firmware": "2.1"}, ts=5000)
        )
        assert (await recv(ws))["data"] == {"firmware": [[5000, "2.1"]]}
        await asyncio.to_thread(
            server.call, lambda: server.store.delete_attributes(device, "SHARED_SCOPE", ["firmware"])
        )
        assert (await recv(ws))["data"] == {"firmware": [[0, ""]]}  # deletion marker (§7.5)
        # an unsubscribe with the entity id stops the updates; the next save sends nothing
        await ws.send(json.dumps({"cmds": [{"type": "ATTRIBUTES", "cmdId": 1, "entityType": "DEVICE",
                                            "entityId": device, "unsubscribe": True},
                                           {"type": "ATTRIBUTES", "cmdId": 2, "entityType": "DEVICE",
                                            "entityId": device, "keys": "other", "scope": "SERVER_SCOPE"}]}))
        assert (await recv(ws))["subscriptionId"] == 2
        await asyncio.to_thread(
            server.call, lambda: server.store.save_attributes(device, "SHARED_SCOPE", {"firmware": "2.2"}, ts=6000)
        )
        await asyncio.to_thread(
            server.call, lambda: server.store.save_attributes(device, "SERVER_SCOPE", {"other": 1}, ts=6000)
        )
        assert (await recv(ws))["subscriptionId"] == 2  # the firmware change did not arrive first


async def test_frame_over_32_kb_closes_1009(server):
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)}}))
        await ws.send(json.dumps({"cmds": [], "pad": "x" * 40_000}))
        assert (await closed_with(ws))[0] == 1009


async def test_session_limit_closes_1008(tb_server_factory):
    limited = await asyncio.to_thread(tb_server_factory, devices=2, ws_session_limit=1)
    token = login(limited)
    async with websockets.connect(ws_url(limited)) as first:
        await first.send(json.dumps({"authCmd": {"cmdId": 0, "token": token}}))
        await (await first.ping())  # a full round trip: the first session is registered
        async with websockets.connect(ws_url(limited)) as second:
            await second.send(json.dumps({"authCmd": {"cmdId": 0, "token": token}}))
            code, reason = await closed_with(second)
    assert code == 1008 and "limit" in reason


async def test_server_pings_and_closes_4500_without_pongs(server):
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(ws_url(server), autoping=False)
        await ws.send_str(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)}}))
        kinds = []
        while True:
            message = await asyncio.wait_for(ws.receive(), WAIT)
            kinds.append(message.type)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert aiohttp.WSMsgType.PING in kinds
        assert ws.close_code == 4500
        await ws.close()


async def test_pongs_keep_the_session_alive(server):
    device = device_of(server, 3)
    async with websockets.connect(ws_url(server)) as ws:  # websockets answers pings by itself
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)}}))
        await asyncio.sleep(2.0)  # past the 1.5 s (3 x 0.5 s ping interval) after which a silent client is closed
        await ws.send(json.dumps({"cmds": [{"type": "TIMESERIES", "cmdId": 1, "entityType": "DEVICE",
                                            "entityId": device, "keys": "temperature"}]}))
        assert (await recv(ws))["subscriptionId"] == 1


def single(device: str) -> dict[str, Any]:
    return {
        "entityFilter": {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": device}},
        "pageLink": {"pageSize": 1, "page": 0},
        "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}],
        "latestValues": [],
    }


async def test_entity_data_page_then_latest_timeseries_history_and_unsubscribe(server):
    device = device_of(server, 4)
    now = server.call(server.store.now_ms)
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)}, "cmds": [{
            "type": "ENTITY_DATA", "cmdId": 1, "query": single(device),
            "latestCmd": {"keys": [{"type": "TIME_SERIES", "key": "temperature"},
                                   {"type": "SERVER_ATTRIBUTE", "key": "active"}]},
            "tsCmd": {"keys": ["temperature"], "startTs": now - 86_400_000, "timeWindow": 86_400_000 + 60_000,
                      "interval": 1000, "limit": 5, "agg": "NONE"},
        }]}))
        first = await recv(ws)
        assert first["cmdId"] == 1 and first["cmdUpdateType"] == "ENTITY_DATA" and first["errorCode"] == 0
        assert first["update"] is None and first["allowedEntities"] > 0
        assert first["data"]["totalElements"] == 1 and first["data"]["hasNext"] is False
        row = first["data"]["data"][0]
        assert row["entityId"] == {"entityType": "DEVICE", "id": device}
        assert isinstance(row["latest"]["ENTITY_FIELD"]["name"]["value"], str)
        assert isinstance(row["latest"]["TIME_SERIES"]["temperature"]["value"], str)
        assert row["latest"]["SERVER_ATTRIBUTE"]["active"]["value"] in ("true", "false")
        window = [point["ts"] for point in row["timeseries"]["temperature"]]
        assert 0 < len(window) <= 5 and window == sorted(window, reverse=True)  # raw data: newest first, limited

        await asyncio.to_thread(post_telemetry, server, device, now + 1000, {"temperature": 30})
        live = await recv(ws)
        assert live["data"] is None
        (change,) = live["update"]
        assert change["latest"] == {"TIME_SERIES": {"temperature": {"ts": now + 1000, "value": "30"}}}
        assert change["timeseries"] == {"temperature": [{"ts": now + 1000, "value": "30"}]}

        await asyncio.to_thread(
            server.call, lambda: server.store.save_attributes(device, "SERVER_SCOPE", {"active": False}, ts=now + 5)
        )
        flipped = (await recv(ws))["update"][0]
        assert flipped["latest"] == {"SERVER_ATTRIBUTE": {"active": {"ts": now + 5, "value": "false"}}}
        assert flipped["timeseries"] is None

        # the same cmdId again with only a historyCmd: no second page, an update with the history (§7.6)
        await ws.send(json.dumps({"cmds": [{"type": "ENTITY_DATA", "cmdId": 1, "historyCmd": {
            "keys": ["temperature"], "startTs": now, "endTs": now + 2000, "interval": 1000, "limit": 100,
            "agg": "NONE"}}]}))
        history = await recv(ws)
        assert history["data"] is None
        assert history["update"][0]["timeseries"] == {"temperature": [{"ts": now + 1000, "value": "30"}]}

        await ws.send(json.dumps({"cmds": [{"type": "ENTITY_DATA_UNSUBSCRIBE", "cmdId": 1}]}))
        await (await ws.ping())  # the pong comes after the server has handled the unsubscribe
        await asyncio.to_thread(post_telemetry, server, device, now + 2000, {"temperature": 31})
        await ws.send(json.dumps({"cmds": [{"type": "ENTITY_COUNT", "cmdId": 2, "query": {
            "entityFilter": {"type": "entityType", "entityType": "DEVICE"}}}]}))
        assert (await recv(ws))["cmdUpdateType"] == "COUNT_DATA"  # nothing came for the unsubscribed cmdId 1


async def test_entity_data_errors_query_empty_and_subcommand_before_query(server):
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)},
                                  "cmds": [{"type": "ENTITY_DATA", "cmdId": 3}]}))
        reply = await recv(ws)
        assert reply["subscriptionId"] == 3 and reply["errorCode"] == 2 and reply["errorMsg"] == "Query is empty!"
        await ws.send(json.dumps({"cmds": [{"type": "ENTITY_DATA", "cmdId": 4, "latestCmd": {"keys": []}}]}))
        assert (await closed_with(ws))[0] == 1012  # pitfall 29


async def test_entity_count_is_pushed_again_when_it_changes(server):
    device = device_of(server, 5)
    active_query = {
        "entityFilter": {"type": "entityType", "entityType": "DEVICE"},
        "keyFilters": [{"key": {"type": "SERVER_ATTRIBUTE", "key": "active"}, "valueType": "BOOLEAN",
                        "predicate": {"type": "BOOLEAN", "operation": "EQUAL",
                                      "value": {"defaultValue": True, "userValue": None, "dynamicValue": None}}}],
    }
    async with websockets.connect(ws_url(server)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(server)},
                                  "cmds": [{"type": "ENTITY_COUNT", "cmdId": 9, "query": active_query}]}))
        first = await recv(ws)
        assert first == {"cmdId": 9, "errorCode": 0, "errorMsg": None, "cmdUpdateType": "COUNT_DATA",
                         "count": first["count"]}
        was_active = server.call(lambda: server.store.is_active(device))
        await asyncio.to_thread(server.call, lambda: server.store.save_attributes(
            device, "SERVER_SCOPE", {"active": not was_active}))
        second = await recv(ws)
        assert second["cmdId"] == 9 and second["count"] == first["count"] + (-1 if was_active else 1)


async def test_outbound_queue_overflow_closes_1008(tb_server_factory):
    small = await asyncio.to_thread(tb_server_factory, devices=2, extra={"ws_max_pending": 5})
    device = device_of(small)
    async with websockets.connect(ws_url(small)) as ws:
        await ws.send(json.dumps({"authCmd": {"cmdId": 0, "token": login(small)}, "cmds": [
            {"type": "TIMESERIES", "cmdId": 1, "entityType": "DEVICE", "entityId": device, "keys": "t"}]}))
        await recv(ws)

        def burst() -> None:  # one synchronous burst: the session cannot drain its queue in between
            for i in range(20):
                small.store.save_telemetry(device, [(1000 + i, {"t": i})])

        await asyncio.to_thread(small.call, burst)
        code, reason = await closed_with(ws)
    assert code == 1008 and reason == "Max pending updates limit reached!"
