"""Device profiles (reference §4.3)."""

from __future__ import annotations

import msgspec

from console.thingsboard.models import DeviceProfile, DeviceProfileInfo, EntityId, PageData, PageLink
from console.thingsboard.services._base import Service, params_of, uuid_of

__all__ = ["DeviceProfileService"]

_INFO = msgspec.json.Decoder(DeviceProfileInfo)
_INFO_PAGE = msgspec.json.Decoder(PageData[DeviceProfileInfo])
_PROFILE = msgspec.json.Decoder(DeviceProfile)
_PROFILE_PAGE = msgspec.json.Decoder(PageData[DeviceProfile])


class DeviceProfileService(Service):
    """`tb.device_profiles`."""

    async def get_device_profile_infos(
        self, page_link: PageLink, *, transport_type: str | None = None
    ) -> PageData[DeviceProfileInfo]:
        params = page_link.to_params() | params_of(transportType=transport_type)
        return await self._call("GET", "/api/deviceProfileInfos", params=params, decoder=_INFO_PAGE)

    async def get_device_profile_info(self, profile_id: str | EntityId) -> DeviceProfileInfo:
        return await self._call("GET", f"/api/deviceProfileInfo/{uuid_of(profile_id)}", decoder=_INFO)

    async def get_default_device_profile_info(self) -> DeviceProfileInfo:
        return await self._call("GET", "/api/deviceProfileInfo/default", decoder=_INFO)

    async def get_device_profiles(self, page_link: PageLink) -> PageData[DeviceProfile]:
        return await self._call("GET", "/api/deviceProfiles", params=page_link.to_params(), decoder=_PROFILE_PAGE)

    async def get_device_profile(self, profile_id: str | EntityId) -> DeviceProfile:
        return await self._call("GET", f"/api/deviceProfile/{uuid_of(profile_id)}", decoder=_PROFILE)
