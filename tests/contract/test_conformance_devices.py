"""Devices through the official client: paging, search, sort, filters, CRUD, credentials, assignment (§3, §4.2)."""

from __future__ import annotations

import pytest
from tb_ce_client.exceptions import ApiException
from tb_ce_client.models.device import Device

from tests.tbserver.clients import CUSTOMER, official, page_all
from tests.tbserver.model import NULL_UUID


def _store_devices(server):
    return server.call(lambda: list(server.store.devices.values()))


def test_paging_all_device_infos_sees_every_device_once(tb_server, tenant):
    total = len(_store_devices(tb_server))  # 300 seeded, unless another suite added some to the shared server
    assert total >= 300
    pages = list(page_all(tenant.get_tenant_device_infos, page_size=37))
    infos = [d for p in pages for d in p.data]
    assert len(pages) == pages[0].total_pages == -(-total // 37)
    assert len(infos) == pages[0].total_elements == total
    assert len({d.id.id for d in infos}) == total
    by_name = {d.name: d for d in infos}
    assert by_name["Test Device A1"].customer_title == "Customer A"
    assert by_name["Thermostat T1"].device_profile_name == "thermostat"
    assert str(by_name["Thermostat T1"].customer_id.id) == NULL_UUID
    assert {d.active for d in infos} == {True, False}


def test_sort_by_name_descending_holds_across_pages(tb_server, tenant):
    names = [d.name for p in page_all(tenant.get_tenant_device_infos, page_size=50, sort_property="name",
                                      sort_order="DESC") for d in p.data]
    assert names == sorted(names, reverse=True) and len(names) == len(_store_devices(tb_server))


def test_text_search_is_a_case_insensitive_substring(tenant):
    found = [d for p in page_all(tenant.get_tenant_device_infos, text_search="THERMO") for d in p.data]
    assert found and all("thermo" in (d.name + (d.label or "") + d.type).lower() for d in found)
    customer_hits = [d for p in page_all(tenant.get_tenant_device_infos, text_search="customer b") for d in p.data]
    assert customer_hits and all(d.customer_title == "Customer B" for d in customer_hits)


def test_device_info_filters_match_the_data(tb_server, tenant):
    devices = _store_devices(tb_server)
    actives = tb_server.call(lambda: {d.id for d in devices if tb_server.store.is_active(d.id)})
    active = tenant.get_tenant_device_infos(page_size=1000, page=0, active=True)
    assert {str(d.id.id) for d in active.data} == actives
    sensors = tenant.get_tenant_device_infos(page_size=1000, page=0, type="sensor")
    assert sensors.total_elements == sum(d.type == "sensor" for d in devices)
    profile = next(p for p in tenant.get_device_profile_infos(page_size=10, page=0).data if p.name == "gateway")
    gateways = tenant.get_tenant_device_infos(page_size=1000, page=0, device_profile_id=str(profile.id.id))
    assert gateways.total_elements == sum(d.type == "gateway" for d in devices) > 0
    assert all(d.device_profile_name == "gateway" for d in gateways.data)


def test_customer_sees_only_its_devices(tb_server):
    client = official(tb_server.url, CUSTOMER)
    me = client.get_user()
    customer_id = str(me.customer_id.id)
    infos = [d for p in page_all(client.get_customer_device_infos, customer_id=customer_id, page_size=20)
             for d in p.data]
    expected = sum(d.customer_id == customer_id for d in _store_devices(tb_server))
    assert len(infos) == expected > 3
    assert all(str(d.customer_id.id) == customer_id for d in infos)
    plain = [d for p in page_all(client.get_customer_devices, customer_id=customer_id, page_size=20) for d in p.data]
    assert {d.id.id for d in plain} == {d.id.id for d in infos}
    other = tb_server.call(lambda: next(c.id for c in tb_server.store.customers.values() if c.title == "Customer B"))
    with pytest.raises(ApiException) as info:
        client.get_customer_device_infos(other, page_size=10, page=0)
    assert info.value.status == 403


def test_create_read_assign_and_delete_a_device(tb_server, tenant):
    created = tenant.save_device(Device(name="conformance-device-1", type="sensor", label="Lab"),
                                 access_token="CONFORMANCE_TOKEN_1")
    device_id = str(created.id.id)
    assert created.version == 1 and created.type == "sensor" and str(created.customer_id.id) == NULL_UUID
    assert tenant.get_device_by_id(device_id).label == "Lab"
    assert tenant.get_device_credentials_by_device_id(device_id).credentials_id == "CONFORMANCE_TOKEN_1"
    customer_b = next(c for c in tenant.get_customers(page_size=10, page=0).data if c.title == "Customer B")
    assigned = tenant.assign_device_to_customer(str(customer_b.id.id), device_id)
    assert assigned.customer_id.id == customer_b.id.id
    assert tenant.get_device_info_by_id(device_id).customer_title == "Customer B"
    assert str(tenant.unassign_device_from_customer(device_id).customer_id.id) == NULL_UUID
    tenant.delete_device(device_id)
    with pytest.raises(ApiException) as info:
        tenant.get_device_by_id(device_id)
    assert info.value.status == 404


def test_update_bumps_version_and_stale_version_conflicts(tenant):
    created = tenant.save_device(Device(name="conformance-device-2", type="default"))
    created.label = "renamed"
    updated = tenant.save_device(created)
    assert updated.version == 2 and updated.label == "renamed"
    created.label = "stale"
    with pytest.raises(ApiException) as info:
        tenant.save_device(created)  # still carries version 1
    assert info.value.status == 409
    tenant.delete_device(str(created.id.id))


def test_duplicate_device_name_is_rejected(tenant):
    with pytest.raises(ApiException) as info:
        tenant.save_device(Device(name="Test Device A1", type="default"))
    assert info.value.status == 400


def test_device_profile_infos_and_tenant_device_by_name(tenant):
    profiles = tenant.get_device_profile_infos(page_size=10, page=0, sort_property="name")
    assert [p.name for p in profiles.data] == ["default", "gateway", "sensor", "thermostat"]
    default = tenant.get_default_device_profile_info()
    assert default.name == "default" and default.type.value == "DEFAULT"
    device = tenant.get_tenant_device_by_name(device_name="Thermostat T2")
    assert device.type == "thermostat"


def test_update_credentials_and_make_public(tenant):
    created = tenant.save_device(Device(name="conformance-device-3", type="default"))
    device_id = str(created.id.id)
    credentials = tenant.get_device_credentials_by_device_id(device_id)
    assert len(credentials.credentials_id) == 20 and credentials.credentials_type.value == "ACCESS_TOKEN"
    credentials.credentials_id = "CONFORMANCE_TOKEN_3"
    assert tenant.update_device_credentials(credentials).credentials_id == "CONFORMANCE_TOKEN_3"
    assert tenant.get_device_credentials_by_device_id(device_id).credentials_id == "CONFORMANCE_TOKEN_3"
    public = tenant.assign_device_to_public_customer(device_id)
    info = tenant.get_device_info_by_id(device_id)
    assert info.customer_is_public is True and info.customer_title == "Public"
    assert public.customer_id.id == info.customer_id.id
    tenant.delete_device(device_id)
