"""ThingsBoard entity models (reference §3, §4): msgspec Structs decoded straight from response bytes.

camelCase on the wire, snake_case in Python. Every field a server may drop has a default and unknown
fields are ignored, so older and newer servers (reference §8) decode alike. Fields that are `None`
are left out when a model is sent back (ThingsBoard treats absent and null alike on save).
"""

from __future__ import annotations

import enum
from typing import Any, Generic, TypeVar

import msgspec

__all__ = [
    "NULL_UUID",
    "AttributeData",
    "AttributeScope",
    "Customer",
    "Dashboard",
    "DashboardInfo",
    "Device",
    "DeviceCredentials",
    "DeviceInfo",
    "DeviceProfile",
    "DeviceProfileInfo",
    "Direction",
    "EntityId",
    "EntityType",
    "PageData",
    "PageLink",
    "ShortCustomerInfo",
    "SortOrder",
    "User",
]

NULL_UUID = "13814000-1dd2-11b2-8080-808080808080"
T = TypeVar("T")


class EntityType(enum.StrEnum):
    TENANT = "TENANT"
    CUSTOMER = "CUSTOMER"
    USER = "USER"
    DASHBOARD = "DASHBOARD"
    ASSET = "ASSET"
    DEVICE = "DEVICE"
    ALARM = "ALARM"
    ENTITY_VIEW = "ENTITY_VIEW"
    DEVICE_PROFILE = "DEVICE_PROFILE"
    ASSET_PROFILE = "ASSET_PROFILE"
    RULE_CHAIN = "RULE_CHAIN"
    EDGE = "EDGE"
    TENANT_PROFILE = "TENANT_PROFILE"
    API_USAGE_STATE = "API_USAGE_STATE"
    OTA_PACKAGE = "OTA_PACKAGE"


class AttributeScope(enum.StrEnum):
    CLIENT_SCOPE = "CLIENT_SCOPE"
    SERVER_SCOPE = "SERVER_SCOPE"
    SHARED_SCOPE = "SHARED_SCOPE"

    def to_short_string(self) -> str:
        """The seed's `toShortString()`: the wire name."""
        return self.value


class Direction(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class EntityId(msgspec.Struct, frozen=True, rename="camel", gc=False):
    """`{"entityType": "DEVICE", "id": "<uuid>"}`. The type stays a plain string so unknown types still decode."""

    entity_type: str
    id: str

    @property
    def is_null(self) -> bool:
        """ThingsBoard's "no owner" marker (reference §12.6)."""
        return self.id == NULL_UUID


# --- paging ---------------------------------------------------------------------------------------


class SortOrder(msgspec.Struct, frozen=True):
    property: str
    direction: Direction = Direction.ASC


class PageLink(msgspec.Struct, frozen=True):
    """`PageLink(page_size, page=0, text_search=None, sort_order=None)`; pages are 0-based."""

    page_size: int
    page: int = 0
    text_search: str | None = None
    sort_order: SortOrder | None = None

    def next_page_link(self) -> PageLink:
        return msgspec.structs.replace(self, page=self.page + 1)

    def with_page(self, page: int) -> PageLink:
        return msgspec.structs.replace(self, page=page)

    def to_params(self) -> dict[str, str | int]:
        params: dict[str, str | int] = {"pageSize": self.page_size, "page": self.page}
        if self.text_search:
            params["textSearch"] = self.text_search
        if self.sort_order is not None:
            params["sortProperty"] = self.sort_order.property
            params["sortOrder"] = str(self.sort_order.direction)
        return params


class PageData(msgspec.Struct, Generic[T], rename="camel", kw_only=True, gc=False):
    data: list[T] = []
    total_pages: int = 0
    total_elements: int = 0
    has_next: bool = False


# --- entities -------------------------------------------------------------------------------------


class _Entity(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True, gc=False):
    """Common base: ids and timestamps every ThingsBoard entity carries.

    `gc=False`: decoded pages hold 100k of these, and tracking them made the cyclic GC the main cost of a
    decode (5x). Entities only hold server data, so they never sit in a reference cycle.
    """

    id: EntityId | None = None
    created_time: int | None = None


class Device(_Entity, kw_only=False):
    """`Device(name, type)`; `type` is the device profile name."""

    name: str
    type: str
    label: str | None = None
    additional_info: dict[str, Any] | None = None
    tenant_id: EntityId | None = None
    customer_id: EntityId | None = None
    device_profile_id: EntityId | None = None
    # Kept as the server's raw JSON: rarely read, sent back unchanged on save, and cheap to skip (decode cost).
    device_data: msgspec.Raw = msgspec.Raw(b"null")
    firmware_id: EntityId | None = None
    software_id: EntityId | None = None
    external_id: EntityId | None = None
    version: int | None = None


class DeviceInfo(Device, kw_only=True):
    customer_title: str | None = None
    customer_is_public: bool = False
    device_profile_name: str | None = None
    active: bool | None = None


class DeviceCredentials(msgspec.Struct, gc=False, rename="camel", omit_defaults=True, kw_only=True):
    id: dict[str, Any] | None = None  # a bare {"id": uuid}, not an EntityId (reference §4.1)
    created_time: int | None = None
    device_id: EntityId | None = None
    credentials_type: str = "ACCESS_TOKEN"
    credentials_id: str | None = None
    credentials_value: str | None = None
    version: int | None = None


class DeviceProfileInfo(msgspec.Struct, gc=False, rename="camel", kw_only=True):
    id: EntityId
    name: str = ""
    image: str | None = None
    default_dashboard_id: EntityId | None = None
    type: str = "DEFAULT"
    transport_type: str = "DEFAULT"
    tenant_id: EntityId | None = None


class DeviceProfile(_Entity, kw_only=True):
    name: str = ""
    tenant_id: EntityId | None = None
    description: str | None = None
    image: str | None = None
    type: str = "DEFAULT"
    transport_type: str = "DEFAULT"
    provision_type: str | None = None
    default_rule_chain_id: EntityId | None = None
    default_dashboard_id: EntityId | None = None
    default_queue_name: str | None = None
    profile_data: dict[str, Any] | None = None
    provision_device_key: str | None = None
    firmware_id: EntityId | None = None
    software_id: EntityId | None = None
    external_id: EntityId | None = None
    version: int | None = None
    default: bool = False


class ShortCustomerInfo(msgspec.Struct, gc=False, rename="camel", kw_only=True):
    """Dashboard assignment entry; the server names the flag `public` (the shortInfo endpoint says `isPublic`)."""

    customer_id: EntityId | None = None
    title: str | None = None
    public: bool = False
    is_public: bool = False


class DashboardInfo(_Entity, kw_only=True):
    title: str = ""
    tenant_id: EntityId | None = None
    name: str | None = None
    image: str | None = None
    assigned_customers: list[ShortCustomerInfo] | None = None
    mobile_hide: bool = False
    mobile_order: int | None = None
    version: int | None = None


class Dashboard(DashboardInfo, kw_only=True):
    configuration: Any = None
    external_id: EntityId | None = None
    resources: Any = None


class Customer(_Entity, kw_only=True):
    title: str = ""
    tenant_id: EntityId | None = None
    name: str | None = None
    additional_info: dict[str, Any] | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    address: str | None = None
    address2: str | None = None
    zip: str | None = None
    phone: str | None = None
    email: str | None = None
    external_id: EntityId | None = None
    version: int | None = None


class User(_Entity, kw_only=True):
    email: str = ""
    authority: str = ""
    tenant_id: EntityId | None = None
    customer_id: EntityId | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    name: str | None = None
    additional_info: dict[str, Any] | None = None
    version: int | None = None


class AttributeData(msgspec.Struct, gc=False, rename="camel", kw_only=True):
    """One attribute as REST returns it: values keep their JSON type."""

    key: str
    value: Any = None
    last_update_ts: int = 0
