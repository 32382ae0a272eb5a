"""Raw-HTTP checks of wire details the official client hides (reference §2, §3.2, §5, §6.5, §10, §12)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.tbserver.clients import raw_client

T0 = 1_700_000_000_000
TELEMETRY = "/api/plugins/telemetry"


@pytest.fixture(scope="module")
def http(tb_server):
    with raw_client(tb_server.url) as client:
        yield client


@pytest.fixture
def device(http):
    response = http.post("/api/device", json={"name": f"quirk-{uuid.uuid4()}", "type": "default"})
    response.raise_for_status()
    device_id = response.json()["id"]["id"]
    yield device_id
    http.delete(f"/api/device/{device_id}")


def test_error_json_has_exactly_the_four_fields_in_order(http):
    missing = str(uuid.uuid4())
    response = http.get(f"/api/device/{missing}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["status", "message", "errorCode", "timestamp"]
    assert body["status"] == 404 and body["errorCode"] == 32 and isinstance(body["timestamp"], int)


def test_no_token_and_malformed_token(tb_server):
    assert httpx.get(f"{tb_server.url}/api/auth/user").json()["errorCode"] == 10
    bad = httpx.get(f"{tb_server.url}/api/auth/user", headers={"X-Authorization": "Bearer nonsense"})
    assert bad.status_code == 401 and bad.json() == bad.json() | {"errorCode": 10,
                                                                    "message": "Invalid username or password"}


def test_telemetry_errors_are_plain_text(http, device):
    missing = str(uuid.uuid4())
    not_found = http.get(f"{TELEMETRY}/DEVICE/{missing}/values/timeseries")
    assert not_found.status_code == 404 and not_found.text == "Device with requested id wasn't found!"
    assert not_found.headers["content-type"].startswith("text/plain")
    scope = http.post(f"{TELEMETRY}/DEVICE/{device}/attributes/CLIENT_SCOPE", content=b'{"a":1}')
    assert (scope.status_code, scope.text) == (400, "Invalid scope: CLIENT_SCOPE")
    garbage = http.post(f"{TELEMETRY}/DEVICE/{device}/timeseries/ANY", content=b"{not json")
    assert (garbage.status_code, garbage.text) == (400, "Unable to parse time series payload: Invalid JSON body!")
    empty = http.post(f"{TELEMETRY}/DEVICE/{device}/timeseries/ANY", content=b"{}")
    assert (empty.status_code, empty.text) == (400, "No time series data found in request body!")
    no_keys = http.delete(f"{TELEMETRY}/DEVICE/{device}/SERVER_SCOPE")
    assert (no_keys.status_code, no_keys.text) == (400, "Empty keys: []")
    # A bad entity type is rejected before the telemetry controller: JSON 400/31.
    bad_type = http.get(f"{TELEMETRY}/device/{device}/values/timeseries")
    assert bad_type.status_code == 400 and bad_type.json()["errorCode"] == 31


def test_saves_answer_200_with_an_empty_body(http, device):
    response = http.post(f"{TELEMETRY}/DEVICE/{device}/timeseries/ANY", json={"t": 1})
    assert response.status_code == 200 and response.content == b""
    response = http.post(f"{TELEMETRY}/DEVICE/{device}/SERVER_SCOPE", json={"a": "25", "b": "1.50", "c": "x"})
    assert response.status_code == 200 and response.content == b""
    values = {a["key"]: a["value"] for a in http.get(f"{TELEMETRY}/DEVICE/{device}/values/attributes").json()}
    assert values == {"a": 25, "b": 1.5, "c": "x"}


def test_missing_latest_key_has_value_null_and_a_current_ts(http, device):
    http.post(f"{TELEMETRY}/DEVICE/{device}/timeseries/ANY", json={"ts": T0, "values": {"t": 21.0}})
    latest = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries", params={"keys": "t,ghost"}).json()
    assert latest["t"] == [{"ts": T0, "value": "21.0"}]
    assert latest["ghost"][0]["value"] is None and latest["ghost"][0]["ts"] > T0


def test_history_range_is_end_exclusive_and_default_limit_is_100(http, device):
    body = [{"ts": T0 + i, "values": {"v": i}} for i in range(150)]
    http.post(f"{TELEMETRY}/DEVICE/{device}/timeseries/ANY", json=body).raise_for_status()
    exclusive = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries",
                         params={"keys": "v", "startTs": T0, "endTs": T0 + 10, "orderBy": "ASC"}).json()
    assert [p["ts"] - T0 for p in exclusive["v"]] == list(range(10))
    default = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries",
                       params={"keys": "v", "startTs": T0, "endTs": T0 + 1000}).json()
    assert len(default["v"]) == 100 and default["v"][0]["ts"] == T0 + 149  # DESC by default
    empty = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries",
                     params={"keys": "v,ghost", "startTs": T0 - 10, "endTs": T0}).json()
    assert empty == {}


def test_aggregation_points_sit_at_bucket_midpoints(http, device):
    body = [{"ts": T0 + i * 1000, "values": {"v": i}} for i in range(7)]
    http.post(f"{TELEMETRY}/DEVICE/{device}/timeseries/ANY", json=body).raise_for_status()
    params = {"keys": "v", "startTs": T0, "endTs": T0 + 7000, "interval": 3000, "agg": "SUM", "orderBy": "ASC"}
    summed = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries", params=params).json()["v"]
    # buckets [0,3000) [3000,6000) [6000,7000): the last one is cut at endTs, so its midpoint is 6500
    assert summed == [{"ts": T0 + 1500, "value": "3"}, {"ts": T0 + 4500, "value": "12"},
                      {"ts": T0 + 6500, "value": "6"}]
    disabled = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries", params=params | {"interval": 0}).json()
    assert len(disabled["v"]) == 7  # interval=0 silently disables aggregation
    bad = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries", params=params | {"agg": "avg"})
    assert bad.status_code == 400


def test_page_data_math(http):
    total = http.get("/api/tenant/deviceInfos", params={"pageSize": 1, "page": 0}).json()["totalElements"]
    size = 7
    last = (total - 1) // size
    page = http.get("/api/tenant/deviceInfos", params={"pageSize": size, "page": last}).json()
    assert page["totalPages"] == -(-total // size) and page["hasNext"] is False
    assert len(page["data"]) == total - last * size
    assert http.get("/api/tenant/deviceInfos", params={"pageSize": size, "page": 0}).json()["hasNext"] is True
    past = http.get("/api/tenant/deviceInfos", params={"pageSize": size, "page": last + 5}).json()
    assert past == {"data": [], "totalPages": page["totalPages"], "totalElements": total, "hasNext": False}
    missing = http.get("/api/tenant/deviceInfos", params={"page": 0})
    assert missing.status_code == 500 and missing.json()["errorCode"] == 2
    bad_order = http.get("/api/tenant/deviceInfos", params={"pageSize": 5, "page": 0, "sortProperty": "name",
                                                            "sortOrder": "UP"})
    assert bad_order.status_code == 400 and bad_order.json()["errorCode"] == 31


def test_device_info_json_shape(http):
    info = http.get("/api/tenant/deviceInfos", params={"pageSize": 1, "page": 0}).json()["data"][0]
    assert list(info) == ["id", "createdTime", "additionalInfo", "tenantId", "customerId", "name", "type", "label",
                          "deviceProfileId", "deviceData", "firmwareId", "softwareId", "externalId", "version",
                          "customerTitle", "customerIsPublic", "deviceProfileName", "active"]
    assert list(info["id"]) == ["entityType", "id"]


def test_entity_query_values_are_strings_and_count_is_a_bare_number(http):
    query = {"entityFilter": {"type": "entityName", "entityType": "DEVICE", "entityNameFilter": "Thermostat T1"},
             "pageLink": {"page": 0, "pageSize": 10},
             "entityFields": [{"type": "ENTITY_FIELD", "key": "createdTime"},
                              {"type": "ENTITY_FIELD", "key": "label"}],
             "latestValues": [{"type": "SERVER_ATTRIBUTE", "key": "temperatureAlarmThreshold"},
                              {"type": "TIME_SERIES", "key": "nothing"}]}
    found = http.post("/api/entitiesQuery/find", json=query).json()
    row = found["data"][0]
    assert row["latest"]["ENTITY_FIELD"]["createdTime"]["value"].isdigit()
    assert row["latest"]["ENTITY_FIELD"]["label"]["value"] == ""
    assert row["latest"]["SERVER_ATTRIBUTE"]["temperatureAlarmThreshold"]["value"] == "30"
    assert row["latest"]["TIME_SERIES"]["nothing"] == {"ts": 0, "value": ""}
    assert row["timeseries"] == {} and row["aggLatest"] == {}
    count = http.post("/api/entitiesQuery/count", json={"entityFilter": query["entityFilter"]})
    assert count.text == "1"


def test_rate_limit_answers_429_code_33(tb_server_factory):
    server = tb_server_factory(devices=5, rate_limit=2)
    with raw_client(server.url) as client:
        statuses = [client.get("/api/auth/user") for _ in range(12)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, "twelve back-to-back requests never hit a limit of two per second"
    assert limited[0].json()["errorCode"] == 33
    assert limited[0].json()["message"] == "Too many requests for current tenant!"


def test_fault_injection_then_normal_service(tb_server_factory):
    server = tb_server_factory(devices=5)
    with raw_client(server.url) as client:
        server.faults.add("GET", r"/api/auth/user$", 503, times=1)
        server.faults.add("*", r"/api/device/", 500, body="boom", times=1)
        assert client.get("/api/auth/user").json()["errorCode"] == 2
        assert client.get("/api/auth/user").status_code == 200
        broken = client.get(f"/api/device/{uuid.uuid4()}")
        assert (broken.status_code, broken.text) == (500, "boom")


def test_store_listeners_see_saves_and_deletes(tb_server_factory):
    server = tb_server_factory(devices=5)
    events: list[tuple] = []
    remove = server.call(lambda: server.store.add_listener(lambda *event: events.append(event)))
    with raw_client(server.url) as client:
        device = client.get("/api/tenant/deviceInfos", params={"pageSize": 1, "page": 0}).json()["data"][0]["id"]["id"]
        client.post(f"{TELEMETRY}/DEVICE/{device}/SHARED_SCOPE", json={"mode": "eco"}).raise_for_status()
        client.post(f"{TELEMETRY}/DEVICE/{device}/timeseries/ANY", json={"ts": T0, "values": {"t": "7"}})
        client.delete(f"{TELEMETRY}/DEVICE/{device}/SHARED_SCOPE", params={"keys": "mode"}).raise_for_status()
        server.call(remove)
        client.post(f"{TELEMETRY}/DEVICE/{device}/SHARED_SCOPE", json={"after": 1}).raise_for_status()
    shared = [e for e in events if e[1] == "ATTRIBUTES"]
    assert shared[0][0] == device and shared[0][2] == "SHARED_SCOPE" and shared[0][3]["mode"][1] == "eco"
    assert shared[0][4] is False
    assert shared[1][3] == {"mode": (0, "")} and shared[1][4] is True
    assert [e[3] for e in events if e[1] == "TIMESERIES"] == [{"t": (T0, 7)}]
    assert len(events) == 3  # nothing after the remover ran


def test_numbers_are_printed_like_java(http, device):
    body = {"ts": T0, "values": {"big": 12345678.9, "small": 0.00001, "whole": 26.0, "long": 10_000_000_000,
                                 "text": "007x", "flag": True, "json": {"a": [1, 2]}}}
    http.post(f"{TELEMETRY}/DEVICE/{device}/timeseries/ANY", json=body).raise_for_status()
    latest = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries").json()
    printed = {key: points[0]["value"] for key, points in latest.items()}
    assert printed == {"big": "1.23456789E7", "small": "1.0E-5", "whole": "26.0", "long": "10000000000",
                       "text": "007x", "flag": "true", "json": '{"a":[1,2]}'}
    strict = http.get(f"{TELEMETRY}/DEVICE/{device}/values/timeseries", params={"useStrictDataTypes": "true"}).json()
    assert strict["whole"][0]["value"] == 26.0 and strict["json"][0]["value"] == {"a": [1, 2]}
