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


class ApiKey:
    """A 4.3+ API key (`org.thingsboard.server.common.data.pat.ApiKey`); `value` is shown only on creation."""

    __slots__ = ("created_time", "description", "enabled", "expiration_time", "id", "tenant_id", "user_id", "value")

    def __init__(
        self,
        id: str,
        value: str,
        user_id: str,
        tenant_id: str,
        created_time: int,
        description: str,
        expiration_time: int = 0,
        enabled: bool = True,
    ) -> None:
        self.id, self.value, self.user_id, self.tenant_id = id, value, user_id, tenant_id
        self.created_time, self.description = created_time, description
        self.expiration_time, self.enabled = expiration_time, enabled

    def is_expired(self, now_ms: int) -> bool:
        """expirationTime 0 means "never expires" (the server compares with its clock in ms)."""
        return self.expiration_time != 0 and self.expiration_time < now_ms

    def to_json(self, now_ms: int) -> dict[str, Any]:
        """ApiKeyInfo (no secret) — field order as in the Java DTO."""
        return {
            "id": eid("API_KEY", self.id),
            "createdTime": self.created_time,
            "tenantId": eid("TENANT", self.tenant_id),
            "userId": eid("USER", self.user_id),
            "expirationTime": self.expiration_time,
            "description": self.description,
            "enabled": self.enabled,
            "expired": self.is_expired(now_ms),
        }

    def to_key_json(self, now_ms: int, *, show_value: bool) -> dict[str, Any]:
        """ApiKey: ApiKeyInfo plus `value` (the secret on creation only; null when an existing key is saved)."""
        body = self.to_json(now_ms)
        expired = body.pop("expired")
        body["value"] = self.value if show_value else None
        body["expired"] = expired
        return body
