"""The emulator's entities and their JSON shapes (reference §4), kept apart from the store's bookkeeping.

Every `to_json` returns a plain dict in ThingsBoard's field order; nulls are written as null, not omitted.
"""

from __future__ import annotations

from typing import Any

NULL_UUID = "13814000-1dd2-11b2-8080-808080808080"
DEVICE_DATA = {"configuration": {"type": "DEFAULT"}, "transportConfiguration": {"type": "DEFAULT"}}
CUSTOMER_FIELDS = ("country", "state", "city", "address", "address2", "zip", "phone", "email")


def eid(entity_type: str, uuid: str) -> dict[str, str]:
    """An EntityId object: `{"entityType", "id"}` (entityType first)."""
    return {"entityType": entity_type, "id": uuid}


class Tenant:
    __slots__ = ("created_time", "id", "title")

    def __init__(self, id: str, title: str, created_time: int) -> None:
        self.id, self.title, self.created_time = id, title, created_time


class Customer:
    __slots__ = ("additional_info", "created_time", "extra", "id", "title", "version")

    def __init__(self, id: str, title: str, created_time: int, additional_info: Any = None) -> None:
        self.id, self.title, self.created_time = id, title, created_time
        self.additional_info = additional_info
        self.extra: dict[str, Any] = dict.fromkeys(CUSTOMER_FIELDS)
        self.version = 1

    @property
    def is_public(self) -> bool:
        return isinstance(self.additional_info, dict) and bool(self.additional_info.get("isPublic"))

    def to_json(self, tenant_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": eid("CUSTOMER", self.id),
            "createdTime": self.created_time,
            "additionalInfo": self.additional_info,
        }
        body.update(self.extra)
        body.update(
            {
                "title": self.title,
                "tenantId": eid("TENANT", tenant_id),
                "externalId": None,
                "version": self.version,
                "name": self.title,
            }
        )
        return body


class User:
    __slots__ = (
        "additional_info",
        "authority",
        "created_time",
        "customer_id",
        "email",
        "first_name",
        "id",
        "last_name",
        "password",
        "phone",
        "tenant_id",
        "tokens_valid_since",
        "version",
    )

    def __init__(
        self,
        id: str,
        email: str,
        password: str,
        authority: str,
        tenant_id: str,
        customer_id: str,
        created_time: int,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> None:
        self.id, self.email, self.password, self.authority = id, email, password, authority
        self.tenant_id, self.customer_id, self.created_time = tenant_id, customer_id, created_time
        self.first_name, self.last_name, self.phone = first_name, last_name, None
        self.additional_info: Any = {"userCredentialsEnabled": True, "failedLoginAttempts": 0, "lang": "en_US"}
        self.version = 1
        self.tokens_valid_since = 0  # seconds; tokens issued earlier are outdated (password change)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": eid("USER", self.id),
            "createdTime": self.created_time,
            "additionalInfo": self.additional_info,
            "tenantId": eid("TENANT", self.tenant_id),
            "customerId": eid("CUSTOMER", self.customer_id),
            "email": self.email,
            "authority": self.authority,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "phone": self.phone,
            "version": self.version,
            "name": self.email,
        }


class DeviceProfile:
    __slots__ = ("created_time", "default", "description", "id", "image", "name", "transport_type")

    def __init__(self, id: str, name: str, created_time: int, *, default: bool = False, transport: str = "DEFAULT"):
        self.id, self.name, self.created_time, self.default = id, name, created_time, default
        self.transport_type = transport
        self.description: str | None = f"{name} devices"
        self.image: str | None = None

    def to_info(self, tenant_id: str) -> dict[str, Any]:
        return {
            "id": eid("DEVICE_PROFILE", self.id),
            "name": self.name,
            "image": self.image,
            "defaultDashboardId": None,
            "type": "DEFAULT",
            "transportType": self.transport_type,
            "tenantId": eid("TENANT", tenant_id),
        }

    def to_json(self, tenant_id: str) -> dict[str, Any]:
        return {
            "id": eid("DEVICE_PROFILE", self.id),
            "createdTime": self.created_time,
            "tenantId": eid("TENANT", tenant_id),
            "name": self.name,
            "description": self.description,
            "image": self.image,
            "type": "DEFAULT",
            "transportType": self.transport_type,
            "provisionType": "DISABLED",
            "defaultRuleChainId": None,
            "defaultDashboardId": None,
            "defaultQueueName": None,
            "profileData": {
                "configuration": {"type": "DEFAULT"},
                "transportConfiguration": {"type": self.transport_type},
                "provisionConfiguration": {"type": "DISABLED", "provisionDeviceSecret": None},
                "alarms": None,
            },
            "provisionDeviceKey": None,
            "firmwareId": None,
            "softwareId": None,
            "defaultEdgeRuleChainId": None,
            "externalId": None,
            "version": 1,
            "default": self.default,
        }


class Device:
    __slots__ = (
        "additional_info",
        "created_time",
        "credentials_id",
        "credentials_uuid",
        "customer_id",
        "id",
        "label",
        "name",
        "profile_id",
        "type",
        "version",
    )

    def __init__(
        self,
        id: str,
        name: str,
        type: str,
        profile_id: str,
        created_time: int,
        *,
        label: str | None = None,
        customer_id: str = NULL_UUID,
        credentials_id: str = "",
        credentials_uuid: str = "",
    ) -> None:
        self.id, self.name, self.type, self.profile_id = id, name, type, profile_id
        self.created_time, self.label, self.customer_id = created_time, label, customer_id
        self.additional_info: Any = {"gateway": False, "overwriteActivityTime": False, "description": ""}
        self.version = 1
        self.credentials_id, self.credentials_uuid = credentials_id, credentials_uuid

    def to_json(self, tenant_id: str) -> dict[str, Any]:
        return {
            "id": eid("DEVICE", self.id),
            "createdTime": self.created_time,
            "additionalInfo": self.additional_info,
            "tenantId": eid("TENANT", tenant_id),
            "customerId": eid("CUSTOMER", self.customer_id),
            "name": self.name,
            "type": self.type,
            "label": self.label,
            "deviceProfileId": eid("DEVICE_PROFILE", self.profile_id),
            "deviceData": DEVICE_DATA,
            "firmwareId": None,
            "softwareId": None,
            "externalId": None,
            "version": self.version,
        }


class Dashboard:
    __slots__ = ("assigned", "configuration", "created_time", "id", "image", "mobile_hide", "mobile_order", "title",
                 "version")

    def __init__(self, id: str, title: str, created_time: int, configuration: Any = None) -> None:
        self.id, self.title, self.created_time = id, title, created_time
        self.configuration = configuration
        self.image: str | None = None
        self.mobile_hide = False
        self.mobile_order: int | None = None
        self.assigned: list[str] | None = None  # customer ids; None = never assigned
        self.version = 1

    def to_info(self, tenant_id: str, customers: dict[str, Customer]) -> dict[str, Any]:
        assigned = None
        if self.assigned is not None:
            assigned = [
                {"customerId": eid("CUSTOMER", cid), "title": customers[cid].title, "public": customers[cid].is_public}
                for cid in self.assigned
                if cid in customers
            ]
        return {
            "id": eid("DASHBOARD", self.id),
            "createdTime": self.created_time,
            "tenantId": eid("TENANT", tenant_id),
            "title": self.title,
            "name": self.title,
            "image": self.image,
            "mobileHide": self.mobile_hide,
            "mobileOrder": self.mobile_order,
            "assignedCustomers": assigned,
            "version": self.version,
        }

    def to_json(self, tenant_id: str, customers: dict[str, Customer]) -> dict[str, Any]:
        body = self.to_info(tenant_id, customers)
        version = body.pop("version")
        body["configuration"] = self.configuration
        body["externalId"] = None
        body["resources"] = None
        body["version"] = version
        return body
