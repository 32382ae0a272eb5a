"""Models and query types: wire shapes both ways, tolerance to old/new servers, the public surface."""

from __future__ import annotations

import msgspec
import pytest

import console.thingsboard as tb_pkg
from console.thingsboard import (
    AttributeScope,
    BooleanFilterPredicate,
    BooleanOperation,
    ComplexFilterPredicate,
    DashboardInfo,
    Device,
    DeviceInfo,
    EntityCountQuery,
    EntityData,
    EntityDataPageLink,
    EntityDataQuery,
    EntityDataSortOrder,
    EntityDataSortOrderDirection,
    EntityId,
    EntityKey,
    EntityKeyType,
    EntityKeyValueType,
    EntityNameFilter,
    EntityType,
    EntityTypeFilter,
    FilterPredicateValue,
    KeyFilter,
    KeyFiltersOperation,
    PageData,
    PageLink,
    SortOrder,
)
from console.thingsboard.auth import decode_jwt_claims
from console.thingsboard.query import KeyFilterPredicate


def _isort_key(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def _is_ws_name(name: str) -> bool:
    module = getattr(getattr(tb_pkg, name), "__module__", "") or ""
    return module.startswith(("console.thingsboard.telemetry", "console.thingsboard.ws_"))


def test_all_is_sorted_unique_and_importable() -> None:
    names = list(tb_pkg.__all__)
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(tb_pkg, name), name
    # the REST names are sorted; the WebSocket names live in their own sorted block
    rest = [n for n in names if not _is_ws_name(n)]
    ws = [n for n in names if _is_ws_name(n)]
    assert rest == sorted(rest, key=_isort_key)
    assert ws == sorted(ws, key=_isort_key)
    public = {n for n in dir(tb_pkg) if not n.startswith("_")} - {
        "auth",
        "client",
        "config",
        "models",
        "paging",
        "query",
        "services",
        "telemetry",
    }
    missing = {n for n in public if not n.startswith("ws_") and n not in names}
    assert not missing, f"public but not in __all__: {sorted(missing)}"


def test_seed_names_are_public() -> None:
    for name in (
        "ThingsboardClient LoginRequest PageLink PageData Device DeviceInfo DashboardInfo EntityId EntityType "
        "AttributeScope EntityTypeFilter EntityNameFilter KeyFilter EntityKey EntityKeyType EntityKeyValueType "
        "BooleanFilterPredicate BooleanOperation FilterPredicateValue EntityCountQuery EntityDataQuery "
        "EntityDataPageLink EntityDataSortOrder EntityDataSortOrderDirection EntityData TsValue ApiError"
    ).split():
        assert name in tb_pkg.__all__, name


def test_page_link_params_and_next() -> None:
    link = PageLink(10, text_search="therm", sort_order=SortOrder("name", "DESC"))
    assert link.to_params() == {
        "pageSize": 10,
        "page": 0,
        "textSearch": "therm",
        "sortProperty": "name",
        "sortOrder": "DESC",
    }
    nxt = link.next_page_link()
    assert (nxt.page, link.page, nxt.text_search) == (1, 0, "therm")


def test_device_info_decodes_real_shape_and_tolerates_missing_and_extra_fields() -> None:
    full = (
        b'{"id":{"entityType":"DEVICE","id":"3f8d"},"createdTime":1700000000000,'
        b'"additionalInfo":{"gateway":false,"description":""},"tenantId":{"entityType":"TENANT","id":"1e0b"},'
        b'"customerId":{"entityType":"CUSTOMER","id":"13814000-1dd2-11b2-8080-808080808080"},'
        b'"name":"Thermostat T1","type":"thermostat","label":null,'
        b'"deviceProfileId":{"entityType":"DEVICE_PROFILE","id":"7b21"},'
        b'"deviceData":{"configuration":{"type":"DEFAULT"}},"firmwareId":null,"softwareId":null,"externalId":null,'
        b'"version":1,"customerTitle":null,"customerIsPublic":false,"deviceProfileName":"thermostat","active":false,'
        b'"someFieldFrom2030":{"x":1}}'
    )
    info = msgspec.json.decode(full, type=DeviceInfo)
    assert info.name == "Thermostat T1" and info.device_profile_name == "thermostat" and info.active is False
    assert info.customer_id is not None and info.customer_id.is_null
    old = msgspec.json.decode(b'{"id":{"entityType":"DEVICE","id":"a"},"name":"n","type":"default"}', type=DeviceInfo)
    assert old.active is None and old.version is None


def test_device_encodes_camel_case_without_nulls() -> None:
    device = Device("My test device", "default")
    device.additional_info = {"description": "My test device!"}
    wire = msgspec.json.decode(msgspec.json.encode(device))
    assert wire == {"name": "My test device", "type": "default", "additionalInfo": {"description": "My test device!"}}


def test_dashboard_info_reads_public_flag_and_null_assignments() -> None:
    body = (
        b'{"id":{"entityType":"DASHBOARD","id":"d"},"title":"T","assignedCustomers":'
        b'[{"customerId":{"entityType":"CUSTOMER","id":"c"},"title":"Public","public":true}]}'
    )
    info = msgspec.json.decode(body, type=DashboardInfo)
    assert info.assigned_customers is not None and info.assigned_customers[0].public
    none = msgspec.json.decode(
        b'{"id":{"entityType":"DASHBOARD","id":"d"},"title":"T","assignedCustomers":null}', type=DashboardInfo
    )
    assert none.assigned_customers is None


def test_page_data_generic() -> None:
    page = msgspec.json.decode(
        b'{"data":[{"name":"a","type":"t"}],"totalPages":3,"totalElements":25,"hasNext":true}', type=PageData[Device]
    )
    assert page.has_next and page.total_elements == 25 and page.data[0].name == "a"


def test_entity_query_wire_shape_matches_the_reference() -> None:
    query = EntityDataQuery(
        entity_filter=EntityTypeFilter(entity_type=EntityType.DEVICE),
        entity_fields=[EntityKey(type=EntityKeyType.ENTITY_FIELD, key="name")],
        latest_values=[EntityKey(type=EntityKeyType.ATTRIBUTE, key="active")],
        page_link=EntityDataPageLink(
            page_size=10,
            sort_order=EntityDataSortOrder(
                key=EntityKey(type=EntityKeyType.ENTITY_FIELD, key="createdTime"),
                direction=EntityDataSortOrderDirection.DESC,
            ),
        ),
    )
    query.key_filters = [
        KeyFilter(
            key=EntityKey(type=EntityKeyType.ATTRIBUTE, key="active"),
            value_type=EntityKeyValueType.BOOLEAN,
            predicate=BooleanFilterPredicate(operation=BooleanOperation.EQUAL, value=FilterPredicateValue(True)),
        )
    ]
    wire = msgspec.json.decode(msgspec.json.encode(query))
    assert wire["entityFilter"] == {"type": "entityType", "entityType": "DEVICE"}
    assert wire["keyFilters"][0]["predicate"] == {
        "type": "BOOLEAN",
        "operation": "EQUAL",
        "value": {"defaultValue": True, "userValue": None, "dynamicValue": None},
    }
    assert wire["pageLink"]["sortOrder"] == {"key": {"type": "ENTITY_FIELD", "key": "createdTime"}, "direction": "DESC"}
    assert "keyFiltersOperation" not in wire  # unknown to servers before 4.4
    assert msgspec.json.decode(msgspec.json.encode(query), type=EntityDataQuery) == query
    nxt = query.next()
    assert nxt.page_link.page == 1 and query.page_link.page == 0
    count = EntityCountQuery(
        entity_filter=EntityNameFilter(entity_type="DEVICE", entity_name_filter="Therm"),
        key_filters_operation=KeyFiltersOperation.OR,
    )
    assert msgspec.json.decode(msgspec.json.encode(count))["keyFiltersOperation"] == "OR"


def test_nested_complex_predicates_round_trip() -> None:
    raw = (
        b'{"type":"COMPLEX","operation":"OR","predicates":[{"type":"STRING","operation":"IN",'
        b'"value":{"defaultValue":"a,b"},"ignoreCase":true},{"type":"NUMERIC","operation":"GREATER",'
        b'"value":{"defaultValue":20}}]}'
    )
    predicate = msgspec.json.decode(raw, type=KeyFilterPredicate)
    assert isinstance(predicate, ComplexFilterPredicate) and len(predicate.predicates) == 2
    assert msgspec.json.decode(msgspec.json.encode(predicate), type=KeyFilterPredicate) == predicate


def test_entity_data_accessors_and_null_sections() -> None:
    raw = (
        b'{"entityId":{"entityType":"DEVICE","id":"x"},"latest":{"ENTITY_FIELD":{"name":{"ts":5,"value":"T1"},'
        b'"createdTime":{"ts":5,"value":"1699990000000"}},"SERVER_ATTRIBUTE":{"active":{"ts":3,"value":"true"}}},'
        b'"timeseries":null,"aggLatest":null}'
    )
    data = msgspec.json.decode(raw, type=EntityData)
    assert data.field("name") == "T1" and data.attribute("active") == "true"
    assert data.created_time == 1699990000000
    assert data.timeseries == {} and data.field("label") is None
    assert data.latest is not None and data.latest[EntityKeyType.ENTITY_FIELD]["name"].ts == 5
    bare = msgspec.json.decode(b'{"entityId":{"entityType":"DEVICE","id":"x"}}', type=EntityData)
    assert bare.latest == {} and bare.created_time is None


def test_attribute_scope_is_its_string() -> None:
    assert AttributeScope.SHARED_SCOPE == "SHARED_SCOPE"
    assert AttributeScope.SHARED_SCOPE.to_short_string() == "SHARED_SCOPE"
    assert EntityId("DEVICE", "x") == EntityId(entity_type=EntityType.DEVICE, id="x")


def test_jwt_claims() -> None:
    token = (
        "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJ0ZW5hbnRAdGhpbmdzYm9hcmQub3JnIiwidXNlcklkIjoidSIsInNjb3BlcyI6WyJURU5BTlRfQURN"
        "SU4iXSwiZXhwIjoyMDAsImlhdCI6MTAwLCJ0ZW5hbnRJZCI6InQiLCJjdXN0b21lcklkIjoiYyJ9.sig"
    )
    user = decode_jwt_claims(token)
    assert (user.sub, user.user_id, user.authority, user.tenant_id, user.customer_id) == (
        "tenant@thingsboard.org",
        "u",
        "TENANT_ADMIN",
        "t",
        "c",
    )
    with pytest.raises(ValueError):
        decode_jwt_claims("not-a-jwt")


def test_device_data_is_sent_back_unchanged() -> None:
    raw = (
        b'{"id":{"entityType":"DEVICE","id":"a"},"name":"n","type":"default",'
        b'"deviceData":{"configuration":{"type":"DEFAULT"},"transportConfiguration":{"type":"MQTT","x":[1,2]}}}'
    )
    device = msgspec.json.decode(raw, type=Device)
    wire = msgspec.json.decode(msgspec.json.encode(device))
    assert wire["deviceData"] == {
        "configuration": {"type": "DEFAULT"},
        "transportConfiguration": {"type": "MQTT", "x": [1, 2]},
    }
    assert msgspec.json.decode(device.device_data)["transportConfiguration"]["type"] == "MQTT"
    assert "deviceData" not in msgspec.json.decode(msgspec.json.encode(Device("n", "default")))
