"""Entity Data Query through the official client (§6): count, find, key filters, sorting, paging, visibility."""

from __future__ import annotations

from tb_ce_client.models.entity_count_query import EntityCountQuery
from tb_ce_client.models.entity_data_query import EntityDataQuery

from tests.tbserver.clients import CUSTOMER, official

ACTIVE_FILTER = {
    "key": {"type": "SERVER_ATTRIBUTE", "key": "active"},
    "valueType": "BOOLEAN",
    "predicate": {"type": "BOOLEAN", "operation": "EQUAL",
                  "value": {"defaultValue": True, "userValue": None, "dynamicValue": None}},
}
DEVICES = {"type": "entityType", "entityType": "DEVICE"}


def data_query(page: int, size: int, **extra) -> EntityDataQuery:
    body = {
        "entityFilter": DEVICES,
        "keyFilters": [ACTIVE_FILTER],
        "pageLink": {"page": page, "pageSize": size, "textSearch": None,
                     "sortOrder": {"key": {"type": "ENTITY_FIELD", "key": "name"}, "direction": "ASC"}},
        "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}, {"type": "ENTITY_FIELD", "key": "type"}],
        "latestValues": [{"type": "SERVER_ATTRIBUTE", "key": "active"}, {"type": "TIME_SERIES", "key": "temperature"},
                         {"type": "SHARED_ATTRIBUTE", "key": "nothing"}],
    }
    body.update(extra)
    return EntityDataQuery.from_dict(body)


def test_count_active_devices(tb_server, tenant):
    expected = tb_server.call(lambda: sum(tb_server.store.is_active(d) for d in tb_server.store.devices))
    query = EntityCountQuery.from_dict({"entityFilter": DEVICES, "keyFilters": [ACTIVE_FILTER]})
    assert tenant.count_entities_by_query(query) == expected
    everything = EntityCountQuery.from_dict({"entityFilter": DEVICES})
    assert tenant.count_entities_by_query(everything) == tb_server.call(lambda: len(tb_server.store.devices))


def test_find_pages_through_the_filtered_set_sorted_by_name(tenant):
    total = tenant.count_entities_by_query(EntityCountQuery.from_dict({"entityFilter": DEVICES,
                                                                       "keyFilters": [ACTIVE_FILTER]}))
    names, page = [], 0
    while True:
        result = tenant.find_entity_data_by_query(data_query(page, 40))
        assert result.total_elements == total and result.total_pages == -(-total // 40)
        for row in result.data:
            assert row.latest["SERVER_ATTRIBUTE"]["active"].value == "true"
            assert row.latest["SHARED_ATTRIBUTE"]["nothing"].ts == 0 and row.latest["SHARED_ATTRIBUTE"][
                "nothing"].value == ""
            float(row.latest["TIME_SERIES"]["temperature"].value)
            names.append(row.latest["ENTITY_FIELD"]["name"].value)
        if not result.has_next:
            break
        page += 1
    assert len(names) == total and names == sorted(names)


def test_name_and_type_filters_and_numeric_predicate(tenant):
    by_name = EntityCountQuery.from_dict({"entityFilter": {"type": "entityName", "entityType": "DEVICE",
                                                           "entityNameFilter": "thermostat t"}})
    assert tenant.count_entities_by_query(by_name) == 2
    by_type = EntityCountQuery.from_dict({"entityFilter": {"type": "deviceType", "deviceTypes": ["thermostat"],
                                                           "deviceNameFilter": ""}})
    thermostats = tenant.get_tenant_device_infos(page_size=1000, page=0, type="thermostat").total_elements
    assert tenant.count_entities_by_query(by_type) == thermostats
    threshold = EntityCountQuery.from_dict({
        "entityFilter": {"type": "deviceType", "deviceTypes": ["thermostat"]},
        "keyFilters": [{"key": {"type": "SERVER_ATTRIBUTE", "key": "temperatureAlarmThreshold"}, "valueType": "NUMERIC",
                        "predicate": {"type": "NUMERIC", "operation": "GREATER_OR_EQUAL",
                                      "value": {"defaultValue": 30}}}],
    })
    assert tenant.count_entities_by_query(threshold) == thermostats


def test_sort_by_time_series_descending(tenant):
    query = data_query(0, 20, keyFilters=[], pageLink={
        "page": 0, "pageSize": 20, "sortOrder": {"key": {"type": "TIME_SERIES", "key": "temperature"},
                                                 "direction": "DESC"}})
    temps = [float(r.latest["TIME_SERIES"]["temperature"].value) for r in tenant.find_entity_data_by_query(query).data]
    assert temps == sorted(temps, reverse=True) and len(temps) == 20


def test_customer_counts_only_its_devices(tb_server):
    client = official(tb_server.url, CUSTOMER)
    customer_id = str(client.get_user().customer_id.id)
    expected = tb_server.call(lambda: sum(d.customer_id == customer_id for d in tb_server.store.devices.values()))
    assert client.count_entities_by_query(EntityCountQuery.from_dict({"entityFilter": DEVICES})) == expected


def _count(client, key_filters, operation=None, entity_filter=None) -> int:
    body = {"entityFilter": entity_filter or DEVICES, "keyFilters": key_filters}
    if operation:
        body["keyFiltersOperation"] = operation
    return client.count_entities_by_query(EntityCountQuery.from_dict(body))


def _string(key_type, key, operation, value, ignore_case=False):
    return {"key": {"type": key_type, "key": key}, "valueType": "STRING",
            "predicate": {"type": "STRING", "operation": operation, "value": {"defaultValue": value},
                          "ignoreCase": ignore_case}}


def test_string_predicates(tenant):
    assert _count(tenant, [_string("ENTITY_FIELD", "name", "STARTS_WITH", "Thermostat T")]) == 2
    assert _count(tenant, [_string("ENTITY_FIELD", "name", "STARTS_WITH", "thermostat t")]) == 0
    assert _count(tenant, [_string("ENTITY_FIELD", "name", "STARTS_WITH", "thermostat t", True)]) == 2
    assert _count(tenant, [_string("ENTITY_FIELD", "name", "ENDS_WITH", "Device A1")]) == 1
    assert _count(tenant, [_string("ENTITY_FIELD", "name", "IN", 'Thermostat T1, "Test Device B1", nope')]) == 2
    total = _count(tenant, [])
    assert _count(tenant, [_string("ENTITY_FIELD", "name", "NOT_IN", "Thermostat T1,Thermostat T2")]) == total - 2
    # NOT_EQUAL also matches entities that lack the key entirely
    with_firmware = _count(tenant, [_string("CLIENT_ATTRIBUTE", "firmwareVersion", "CONTAINS", ".")])
    assert 0 < with_firmware < total
    assert _count(tenant, [_string("CLIENT_ATTRIBUTE", "firmwareVersion", "NOT_EQUAL", "none")]) == total
    assert _count(tenant, [_string("CLIENT_ATTRIBUTE", "firmwareVersion", "EQUAL", "none")]) == 0


def test_complex_predicates_and_or_operation(tenant):
    thermostat = _string("ENTITY_FIELD", "type", "EQUAL", "thermostat")
    gateway = _string("ENTITY_FIELD", "type", "EQUAL", "gateway")
    n_thermostat, n_gateway = _count(tenant, [thermostat]), _count(tenant, [gateway])
    assert _count(tenant, [thermostat, gateway]) == 0
    assert _count(tenant, [thermostat, gateway], operation="OR") == n_thermostat + n_gateway
    either = {"key": {"type": "ENTITY_FIELD", "key": "type"}, "valueType": "STRING",
              "predicate": {"type": "COMPLEX", "operation": "OR",
                            "predicates": [thermostat["predicate"], gateway["predicate"]]}}
    assert _count(tenant, [either]) == n_thermostat + n_gateway
    cool = {"key": {"type": "TIME_SERIES", "key": "temperature"}, "valueType": "NUMERIC",
            "predicate": {"type": "NUMERIC", "operation": "LESS", "value": {"defaultValue": 21.0}}}
    warm = {"key": {"type": "TIME_SERIES", "key": "temperature"}, "valueType": "NUMERIC",
            "predicate": {"type": "NUMERIC", "operation": "GREATER_OR_EQUAL", "value": {"defaultValue": 21.0}}}
    assert _count(tenant, [cool]) + _count(tenant, [warm]) == _count(tenant, [])


def test_single_entity_list_and_text_search(tb_server, tenant):
    ids = tb_server.call(lambda: [d.id for d in tb_server.store.devices.values() if d.name.startswith("Test Device")])
    single = EntityDataQuery.from_dict({
        "entityFilter": {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": ids[0]}},
        "pageLink": {"page": 0, "pageSize": 10},
        "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}]})
    rows = tenant.find_entity_data_by_query(single).data
    assert [str(r.entity_id.id) for r in rows] == [ids[0]]
    listed = EntityDataQuery.from_dict({
        "entityFilter": {"type": "entityList", "entityType": "DEVICE", "entityList": ids},
        "pageLink": {"page": 0, "pageSize": 10, "textSearch": "device b",
                     "sortOrder": {"key": {"type": "ENTITY_FIELD", "key": "name"}, "direction": "ASC"}},
        "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}]})
    result = tenant.find_entity_data_by_query(listed)
    assert [r.latest["ENTITY_FIELD"]["name"].value for r in result.data] == ["Test Device B1"]
    assert result.total_elements == 1 and result.has_next is False
