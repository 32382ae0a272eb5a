"""Devices: lists, CRUD, credentials and customer assignment (reference §4.2)."""

from __future__ import annotations

from typing import Any

import msgspec

from console.errors import NotFoundError
from console.thingsboard.models import Device, DeviceCredentials, DeviceInfo, EntityId, PageData, PageLink
from console.thingsboard.services._base import Service, params_of, uuid_of

__all__ = ["DeviceService"]

_DEVICE = msgspec.json.Decoder(Device)
_DEVICE_INFO = msgspec.json.Decoder(DeviceInfo)
_DEVICE_PAGE = msgspec.json.Decoder(PageData[Device])
_DEVICE_INFO_PAGE = msgspec.json.Decoder(PageData[DeviceInfo])
_CREDENTIALS = msgspec.json.Decoder(DeviceCredentials)
_DEVICES = msgspec.json.Decoder(list[Device])


def _info_params(
    page_link: PageLink, type: str | None, device_profile_id: str | EntityId | None, active: bool | None
) -> dict[str, Any]:
    """Query of the tenant and customer deviceInfos lists: the page link plus the optional filters."""
    return page_link.to_params() | params_of(
        type=type, deviceProfileId=uuid_of(device_profile_id) if device_profile_id else None, active=active
    )


class DeviceService(Service):
    """`tb.devices`."""

    async def get_tenant_device_infos(
        self,
        page_link: PageLink,
        *,
        type: str | None = None,
        device_profile_id: str | EntityId | None = None,
        active: bool | None = None,
    ) -> PageData[DeviceInfo]:
        params = _info_params(page_link, type, device_profile_id, active)
        return await self._call("GET", "/api/tenant/deviceInfos", params=params, decoder=_DEVICE_INFO_PAGE)

    async def get_customer_device_infos(
        self,
        customer_id: str | EntityId,
        page_link: PageLink,
        *,
        type: str | None = None,
        device_profile_id: str | EntityId | None = None,
        active: bool | None = None,
    ) -> PageData[DeviceInfo]:
        params = _info_params(page_link, type, device_profile_id, active)
        path = f"/api/customer/{uuid_of(customer_id)}/deviceInfos"
        return await self._call("GET", path, params=params, decoder=_DEVICE_INFO_PAGE)

    async def get_tenant_devices(self, page_link: PageLink, *, type: str | None = None) -> PageData[Device]:
        params = page_link.to_params() | params_of(type=type)
        return await self._call("GET", "/api/tenant/devices", params=params, decoder=_DEVICE_PAGE)

    async def get_customer_devices(
        self, customer_id: str | EntityId, page_link: PageLink, *, type: str | None = None
    ) -> PageData[Device]:
        params = page_link.to_params() | params_of(type=type)
        path = f"/api/customer/{uuid_of(customer_id)}/devices"
        return await self._call("GET", path, params=params, decoder=_DEVICE_PAGE)

    async def get_tenant_device(self, device_name: str) -> Device | None:
        """The tenant's device with this exact name, or None."""
        try:
            return await self._call("GET", "/api/tenant/devices", params={"deviceName": device_name}, decoder=_DEVICE)
        except NotFoundError:
            return None

    async def get_devices_by_ids(self, device_ids: list[str | EntityId]) -> list[Device]:
        ids = ",".join(uuid_of(i) for i in device_ids)
        return await self._call("GET", "/api/devices", params={"deviceIds": ids}, decoder=_DEVICES)

    async def get_device(self, device_id: str | EntityId) -> Device:
        return await self._call("GET", f"/api/device/{uuid_of(device_id)}", decoder=_DEVICE)

    async def get_device_info(self, device_id: str | EntityId) -> DeviceInfo:
        return await self._call("GET", f"/api/device/info/{uuid_of(device_id)}", decoder=_DEVICE_INFO)

    async def save_device(self, device: Device, *, access_token: str | None = None) -> Device:
        """Create (no id) or update a device; `access_token` sets the credentials of a new one."""
        params = params_of(accessToken=access_token)
        return await self._call("POST", "/api/device", params=params, json=device, decoder=_DEVICE)

    async def delete_device(self, device_id: str | EntityId) -> None:
        await self._call("DELETE", f"/api/device/{uuid_of(device_id)}")

    async def get_device_credentials_by_device_id(self, device_id: str | EntityId) -> DeviceCredentials:
        return await self._call("GET", f"/api/device/{uuid_of(device_id)}/credentials", decoder=_CREDENTIALS)

    async def save_device_credentials(self, credentials: DeviceCredentials) -> DeviceCredentials:
        return await self._call("POST", "/api/device/credentials", json=credentials, decoder=_CREDENTIALS)

    async def assign_device_to_customer(self, customer_id: str | EntityId, device_id: str | EntityId) -> Device:
        path = f"/api/customer/{uuid_of(customer_id)}/device/{uuid_of(device_id)}"
        return await self._call("POST", path, decoder=_DEVICE)

    async def unassign_device_from_customer(self, device_id: str | EntityId) -> Device:
        return await self._call("DELETE", f"/api/customer/device/{uuid_of(device_id)}", decoder=_DEVICE)

    async def assign_device_to_public_customer(self, device_id: str | EntityId) -> Device:
        return await self._call("POST", f"/api/customer/public/device/{uuid_of(device_id)}", decoder=_DEVICE)
