"""Attributes in the three scopes through the official client (§5.1, §5.2, §5.4, §5.5)."""

from __future__ import annotations

import json
import uuid

import pytest
from tb_ce_client.exceptions import ApiException
from tb_ce_client.models.attribute_data import AttributeData
from tb_ce_client.models.device import Device

from tests.tbserver.clients import CUSTOMER, official


@pytest.fixture
def device_id(tenant):
    created = tenant.save_device(Device(name=f"attr-device-{uuid.uuid4()}", type="default"))
    yield str(created.id.id)
    tenant.delete_device(str(created.id.id))


def read(client, device_id, scope=None, keys=None) -> dict:
    """Read attributes; the official client has no 200 model for this call, so decode its raw body with its model."""
    if scope is None:
        raw = client.get_attributes_with_http_info("DEVICE", device_id, keys=keys).raw_data
    else:
        raw = client.get_attributes_by_scope_with_http_info("DEVICE", device_id, scope, keys=keys).raw_data
    return {a.key: a.value for a in (AttributeData.from_dict(x) for x in json.loads(raw))}


def test_save_v2_and_v1_then_read_by_scope(tenant, device_id):
    tenant.save_entity_attributes_v2("DEVICE", device_id, "SERVER_SCOPE",
                                     json.dumps({"floor": 3, "ratio": 0.5, "on": True, "meta": {"a": [1]}}))
    tenant.save_entity_attributes_v1("DEVICE", device_id, "SHARED_SCOPE", json.dumps({"target": "25", "mode": "eco"}))
    assert read(tenant, device_id, "SERVER_SCOPE") == {"floor": 3, "ratio": 0.5, "on": True, "meta": {"a": [1]}}
    assert read(tenant, device_id, "SHARED_SCOPE") == {"target": 25, "mode": "eco"}  # "25" is stored as a number
    assert read(tenant, device_id, "SHARED_SCOPE", keys="mode,absent") == {"mode": "eco"}
    assert read(tenant, device_id) == read(tenant, device_id, "SERVER_SCOPE") | read(tenant, device_id, "SHARED_SCOPE")
    keys = tenant.get_attribute_keys_by_scope("DEVICE", device_id, "SERVER_SCOPE")
    assert sorted(keys) == ["floor", "meta", "on", "ratio"]


def test_client_scope_is_read_only_and_seeded(tb_server, tenant):
    seeded = tb_server.call(lambda: next(iter(tb_server.store.attributes["CLIENT_SCOPE"])))
    assert "firmwareVersion" in read(tenant, seeded, "CLIENT_SCOPE")
    with pytest.raises(ApiException) as info:
        tenant.save_entity_attributes_v2("DEVICE", seeded, "CLIENT_SCOPE", json.dumps({"x": 1}))
    assert info.value.status == 400 and info.value.body == "Invalid scope: CLIENT_SCOPE"


def test_server_attributes_active_and_last_activity_are_seeded(tb_server, tenant):
    device = tenant.get_tenant_device_infos(page_size=1, page=0).data[0]
    values = read(tenant, str(device.id.id), "SERVER_SCOPE")
    assert isinstance(values["active"], bool) and values["active"] == device.active
    assert isinstance(values["lastActivityTime"], int)


def test_delete_attributes(tenant, device_id):
    tenant.save_entity_attributes_v2("DEVICE", device_id, "SHARED_SCOPE", json.dumps({"a": 1, "b": 2}))
    tenant.delete_entity_attributes("DEVICE", device_id, "SHARED_SCOPE", keys="a,unknown")
    assert read(tenant, device_id, "SHARED_SCOPE") == {"b": 2}


def test_customer_writes_own_devices_only(tb_server):
    client = official(tb_server.url, CUSTOMER)
    mine = client.get_customer_device_infos(str(client.get_user().customer_id.id), page_size=1, page=0).data[0]
    client.save_entity_attributes_v2("DEVICE", str(mine.id.id), "SHARED_SCOPE", json.dumps({"customerNote": "hi"}))
    assert read(client, str(mine.id.id), "SHARED_SCOPE")["customerNote"] == "hi"
    foreign = tb_server.call(lambda: next(d.id for d in tb_server.store.devices.values()
                                          if d.customer_id != str(mine.customer_id.id)))
    with pytest.raises(ApiException) as info:
        client.save_entity_attributes_v2("DEVICE", foreign, "SHARED_SCOPE", json.dumps({"x": 1}))
    assert info.value.status == 403
