"""Entity Data Query types (reference §6): plain mutable objects, encodable to the wire JSON and decodable from it.

They are mutable on purpose, as in the seed: `query.key_filters = [...]` then query again. The WebSocket
module builds its commands from the same types, so they stay free of any transport code.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from console.thingsboard.models import EntityId

__all__ = [
    "AssetTypeFilter",
    "BooleanFilterPredicate",
    "BooleanOperation",
    "ComplexFilterPredicate",
    "ComplexOperation",
    "DeviceTypeFilter",
    "DynamicValue",
    "EntityCountQuery",
    "EntityData",
    "EntityDataPageLink",
    "EntityDataQuery",
    "EntityDataSortOrder",
    "EntityDataSortOrderDirection",
    "EntityFilter",
    "EntityKey",
    "EntityKeyType",
    "EntityKeyValueType",
    "EntityListFilter",
    "EntityNameFilter",
    "EntityTypeFilter",
    "FilterPredicateValue",
    "KeyFilter",
    "KeyFilterPredicate",
    "KeyFiltersOperation",
    "NumericFilterPredicate",
    "NumericOperation",
    "SingleEntityFilter",
    "StringFilterPredicate",
    "StringOperation",
    "TsValue",
]


class EntityKeyType(enum.StrEnum):
    ATTRIBUTE = "ATTRIBUTE"
    CLIENT_ATTRIBUTE = "CLIENT_ATTRIBUTE"
    SHARED_ATTRIBUTE = "SHARED_ATTRIBUTE"
    SERVER_ATTRIBUTE = "SERVER_ATTRIBUTE"
    TIME_SERIES = "TIME_SERIES"
    ENTITY_FIELD = "ENTITY_FIELD"
    ALARM_FIELD = "ALARM_FIELD"
    CONSTANT = "CONSTANT"


class EntityKeyValueType(enum.StrEnum):
    STRING = "STRING"
    NUMERIC = "NUMERIC"
    BOOLEAN = "BOOLEAN"
    DATE_TIME = "DATE_TIME"


class EntityDataSortOrderDirection(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class StringOperation(enum.StrEnum):
    EQUAL = "EQUAL"
    NOT_EQUAL = "NOT_EQUAL"
    STARTS_WITH = "STARTS_WITH"
    ENDS_WITH = "ENDS_WITH"
    CONTAINS = "CONTAINS"
    NOT_CONTAINS = "NOT_CONTAINS"
    IN = "IN"
    NOT_IN = "NOT_IN"


class NumericOperation(enum.StrEnum):
    EQUAL = "EQUAL"
    NOT_EQUAL = "NOT_EQUAL"
    GREATER = "GREATER"
    LESS = "LESS"
    GREATER_OR_EQUAL = "GREATER_OR_EQUAL"
    LESS_OR_EQUAL = "LESS_OR_EQUAL"


class BooleanOperation(enum.StrEnum):
    EQUAL = "EQUAL"
    NOT_EQUAL = "NOT_EQUAL"


class ComplexOperation(enum.StrEnum):
    AND = "AND"
    OR = "OR"


class KeyFiltersOperation(enum.StrEnum):
    """How several key filters combine (ThingsBoard 4.4+; older servers always AND them)."""

    AND = "AND"
    OR = "OR"


class _Query(msgspec.Struct, rename="camel", kw_only=True):
    """Base for query types: camelCase on the wire, keyword construction, mutable."""


# --- keys and values ------------------------------------------------------------------------------


class EntityKey(_Query, kw_only=True):
    type: EntityKeyType
    key: str


class TsValue(msgspec.Struct, frozen=True, omit_defaults=True, gc=False):
    """One sample: `ts` in ms and the server's value (a string in query results); `count` only for aggregates."""

    ts: int
    value: Any = None
    count: int | None = None


class DynamicValue(_Query, kw_only=True):
    source_type: str
    source_attribute: str
    inherit: bool = False


class FilterPredicateValue(msgspec.Struct, rename="camel"):
    """`FilterPredicateValue(True)`: the default value, optionally overridden by a user or dynamic value."""

    default_value: Any
    user_value: Any = None
    dynamic_value: DynamicValue | None = None


# --- predicates (tagged by "type") ----------------------------------------------------------------


class StringFilterPredicate(_Query, kw_only=True, tag_field="type", tag="STRING"):
    operation: StringOperation
    value: FilterPredicateValue
    ignore_case: bool = False


class NumericFilterPredicate(_Query, kw_only=True, tag_field="type", tag="NUMERIC"):
    operation: NumericOperation
    value: FilterPredicateValue


class BooleanFilterPredicate(_Query, kw_only=True, tag_field="type", tag="BOOLEAN"):
    operation: BooleanOperation
    value: FilterPredicateValue


class ComplexFilterPredicate(_Query, kw_only=True, tag_field="type", tag="COMPLEX"):
    operation: ComplexOperation
    predicates: list[KeyFilterPredicate] = []


KeyFilterPredicate = StringFilterPredicate | NumericFilterPredicate | BooleanFilterPredicate | ComplexFilterPredicate


class KeyFilter(_Query, kw_only=True):
    key: EntityKey
    value_type: EntityKeyValueType
    predicate: KeyFilterPredicate


# --- entity filters (tagged by "type") ------------------------------------------------------------


class SingleEntityFilter(_Query, kw_only=True, tag_field="type", tag="singleEntity"):
    single_entity: EntityId


class EntityListFilter(_Query, kw_only=True, tag_field="type", tag="entityList"):
    entity_type: str
    entity_list: list[str] = []


class EntityNameFilter(_Query, kw_only=True, tag_field="type", tag="entityName"):
    """Name *starts with* `entity_name_filter` (case-insensitive), unless it begins or ends with `%`."""

    entity_type: str
    entity_name_filter: str


class EntityTypeFilter(_Query, kw_only=True, tag_field="type", tag="entityType"):
    entity_type: str


class DeviceTypeFilter(_Query, kw_only=True, tag_field="type", tag="deviceType"):
    device_types: list[str] = []
    device_name_filter: str | None = None


class AssetTypeFilter(_Query, kw_only=True, tag_field="type", tag="assetType"):
    asset_types: list[str] = []
    asset_name_filter: str | None = None


EntityFilter = (
    SingleEntityFilter | EntityListFilter | EntityNameFilter | EntityTypeFilter | DeviceTypeFilter | AssetTypeFilter
)


# --- queries --------------------------------------------------------------------------------------


class EntityDataSortOrder(_Query, kw_only=True):
    key: EntityKey
    direction: EntityDataSortOrderDirection = EntityDataSortOrderDirection.ASC


class EntityDataPageLink(_Query, kw_only=True):
    page_size: int
    page: int = 0
    text_search: str | None = None
    sort_order: EntityDataSortOrder | None = None
    dynamic: bool = False

    def next_page_link(self) -> EntityDataPageLink:
        return msgspec.structs.replace(self, page=self.page + 1)


class EntityCountQuery(_Query, kw_only=True):
    entity_filter: EntityFilter
    key_filters: list[KeyFilter] = []
    # Unset (omitted on the wire) unless chosen: servers before 4.4 do not know the field.
    key_filters_operation: KeyFiltersOperation | msgspec.UnsetType = msgspec.UNSET


class EntityDataQuery(EntityCountQuery, kw_only=True):
    page_link: EntityDataPageLink
    entity_fields: list[EntityKey] = []
    latest_values: list[EntityKey] = []

    def next(self) -> EntityDataQuery:
        """The same query for the following page (the original is left untouched)."""
        return msgspec.structs.replace(self, page_link=self.page_link.next_page_link())


# --- results --------------------------------------------------------------------------------------

_ATTRIBUTE_TYPES = (
    EntityKeyType.ATTRIBUTE,
    EntityKeyType.SERVER_ATTRIBUTE,
    EntityKeyType.SHARED_ATTRIBUTE,
    EntityKeyType.CLIENT_ATTRIBUTE,
)


class EntityData(msgspec.Struct, rename="camel", kw_only=True, gc=False):
    """One entity of a query result. `latest` is keyed by EntityKeyType name, then by key; values are strings.

    WebSocket updates may carry `latest`/`timeseries` as null: they are normalised to empty dicts.
    """

    entity_id: EntityId
    latest: dict[str, dict[str, TsValue]] | None = None
    timeseries: dict[str, list[TsValue]] | None = None
    agg_latest: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.latest is None:
            self.latest = {}
        if self.timeseries is None:
            self.timeseries = {}

    def field(self, name: str) -> str | None:
        """An ENTITY_FIELD value (`name`, `type`, `createdTime`, ...) or None when not requested."""
        entry = (self.latest or {}).get(EntityKeyType.ENTITY_FIELD, {}).get(name)
        return None if entry is None else entry.value

    def attribute(self, name: str) -> str | None:
        """An attribute value from whichever attribute key type the query used."""
        latest = self.latest or {}
        for key_type in _ATTRIBUTE_TYPES:
            entry = latest.get(key_type, {}).get(name)
            if entry is not None:
                return entry.value
        return None

    def latest_value(self, key_type: EntityKeyType | str, name: str) -> TsValue | None:
        return (self.latest or {}).get(key_type, {}).get(name)

    @property
    def created_time(self) -> int | None:
        raw = self.field("createdTime")
        try:
            return int(raw) if raw not in (None, "") else None
        except (TypeError, ValueError):
            return None
