"""Time series through the official client (§5.2–§5.5): save, latest, history, aggregation, keys, delete."""

from __future__ import annotations

import json
import uuid

import pytest
from tb_ce_client.models.device import Device

T0 = 1_700_000_000_000


@pytest.fixture
def device_id(tenant):
    created = tenant.save_device(Device(name=f"ts-device-{uuid.uuid4()}", type="sensor"))
    yield str(created.id.id)
    tenant.delete_device(str(created.id.id))


def values(series):
    return [(p.ts, p.value) for p in series]


def test_save_then_read_latest_as_strings(tenant, device_id):
    tenant.save_entity_telemetry("DEVICE", device_id, "ANY", json.dumps({"temperature": 26, "humidity": 40.5}))
    tenant.save_entity_telemetry("DEVICE", device_id, "TELEMETRY",
                                 json.dumps({"ts": T0, "values": {"temperature": 1, "status": "ok"}}))
    latest = tenant.get_latest_timeseries("DEVICE", device_id, keys="temperature,humidity,status,missing")
    assert latest["temperature"][0].value == "26"  # the older ts=T0 point does not replace the latest
    assert latest["humidity"][0].value == "40.5"
    assert latest["status"][0].value == "ok" and latest["status"][0].ts == T0
    assert latest["missing"][0].value is None
    strict = tenant.get_latest_timeseries("DEVICE", device_id, keys="temperature", use_strict_data_types=True)
    assert strict["temperature"][0].value == 26
    assert sorted(tenant.get_timeseries_keys("DEVICE", device_id)) == ["humidity", "status", "temperature"]


def test_history_limit_order_and_range(tenant, device_id):
    body = [{"ts": T0 + i * 1000, "values": {"v": i}} for i in range(10)]
    tenant.save_entity_telemetry("DEVICE", device_id, "ANY", json.dumps(body))
    desc = tenant.get_timeseries_history("DEVICE", device_id, start_ts=T0, end_ts=T0 + 9000, keys="v")
    assert values(desc["v"]) == [(T0 + i * 1000, str(i)) for i in range(8, -1, -1)]  # endTs is exclusive
    asc = tenant.get_timeseries_history("DEVICE", device_id, start_ts=T0, end_ts=T0 + 10_000, keys="v",
                                        limit="3", order_by="ASC")
    assert values(asc["v"]) == [(T0, "0"), (T0 + 1000, "1"), (T0 + 2000, "2")]


def test_history_aggregation(tenant, device_id):
    body = [{"ts": T0 + i * 1000, "values": {"v": i}} for i in range(10)]
    tenant.save_entity_telemetry("DEVICE", device_id, "ANY", json.dumps(body))
    avg = tenant.get_timeseries_history("DEVICE", device_id, start_ts=T0, end_ts=T0 + 10_000, keys="v",
                                        interval=5000, agg="AVG", order_by="ASC")
    assert values(avg["v"]) == [(T0 + 2500, "2.0"), (T0 + 7500, "7.0")]
    count = tenant.get_timeseries_history("DEVICE", device_id, start_ts=T0, end_ts=T0 + 10_000, keys="v",
                                          interval=4000, agg="COUNT", order_by="ASC")
    assert values(count["v"]) == [(T0 + 2000, "4"), (T0 + 6000, "4"), (T0 + 9000, "2")]


def test_seeded_history_is_there(tb_server, tenant):
    device = tenant.get_tenant_device_infos(page_size=1, page=0, text_search="Sensor-").data[0]
    latest = tenant.get_latest_timeseries("DEVICE", str(device.id.id), keys="temperature,humidity,rssi")
    end = latest["temperature"][0].ts
    day = tenant.get_timeseries_history("DEVICE", str(device.id.id), start_ts=end - 3_600_000, end_ts=end + 1,
                                        keys="temperature", limit="1000")
    assert len(day["temperature"]) == 61 and day["temperature"][0].ts == end
    assert day["temperature"][0].value == latest["temperature"][0].value


def test_delete_time_series(tenant, device_id):
    body = [{"ts": T0 + i * 1000, "values": {"v": i}} for i in range(5)]
    tenant.save_entity_telemetry("DEVICE", device_id, "ANY", json.dumps(body))
    tenant.delete_entity_timeseries("DEVICE", device_id, keys="v", start_ts=T0 + 3000, end_ts=T0 + 10_000,
                                    rewrite_latest_if_deleted=True)
    history = tenant.get_timeseries_history("DEVICE", device_id, start_ts=T0, end_ts=T0 + 10_000, keys="v",
                                            order_by="ASC")
    assert [p.value for p in history["v"]] == ["0", "1", "2"]
    assert tenant.get_latest_timeseries("DEVICE", device_id, keys="v")["v"][0].value == "2"
    tenant.delete_entity_timeseries("DEVICE", device_id, keys="v", delete_all_data_for_keys=True)
    assert tenant.get_latest_timeseries("DEVICE", device_id, keys="v")["v"][0].value is None
