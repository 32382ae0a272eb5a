"""Devices, device credentials, customer assignment and device profiles (reference §4.2, §4.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .http import (
    STORE_KEY,
    body_entity_id,
    bool_param,
    check_uuid,
    check_version,
    empty_ok,
    json_response,
    page_data,
    page_link,
    read_json,
    read_object,
    require,
    sort_key_for,
)
from .model import NULL_UUID, Customer, Device, DeviceProfile, eid
from .store import PERMISSION, Failure, Store, not_found

ADMIN = ("TENANT_ADMIN",)
READERS = ("TENANT_ADMIN", "CUSTOMER_USER")


def _device_getters(store: Store) -> dict[str, Callable[[Device], Any]]:
    def profile_name(d: Device) -> str:
        profile = store.profiles.get(d.profile_id)
        return profile.name if profile else d.type

    return {
        "createdTime": lambda d: d.created_time,
        "name": lambda d: d.name,
        "type": lambda d: d.type,
        "label": lambda d: d.label,
        "customerTitle": lambda d: store.customer_title(d.customer_id),
        "deviceProfileName": profile_name,
        "id": lambda d: d.id,
    }


def _list_devices(request: web.Request, customer_id: str | None, infos: bool) -> web.Response:
    store = request.app[STORE_KEY]
    link = page_link(request)
    getters = _device_getters(store)
    prop = link.sort_property if link.sort_property in getters else None
    ordered = store.sorted_cached(
        ("DEVICE", prop, link.sort_order), lambda: store.devices.values(), sort_key_for(getters, prop)
    )
    filters: list[Callable[[Device], bool]] = []
    if customer_id is not None:
        filters.append(lambda d: d.customer_id == customer_id)
    device_type = request.query.get("type") or None
    profile_id = request.query.get("deviceProfileId") or None
    if device_type:
        filters.append(lambda d: d.type == device_type)
    elif infos and profile_id:
        filters.append(lambda d: d.profile_id == profile_id)
    active = bool_param(request, "active") if infos else None
    if active is not None:
        filters.append(lambda d: store.is_active(d.id) == active)
    text = link.text_search
    if text:
        if infos:
            def haystack(d: Device) -> str:
                return " ".join((d.name, d.label or "", d.type, store.customer_title(d.customer_id) or "\x00"))
        else:
            def haystack(d: Device) -> str:
                return d.name + "\x00" + (d.label or "")
        filters.append(lambda d: text in haystack(d).lower())
    if filters:  # cached per data generation, so paging a filtered list scans the devices once
        cache_key = ("DEVICE-FILTERED", prop, customer_id, device_type, profile_id if infos else None, active, text,
                     infos, link.sort_order)
        items = store.sort_cache.get(cache_key)
        if items is None:
            items = [d for d in ordered if all(f(d) for f in filters)]
            store.cache_put(cache_key, items)
    else:
        items = ordered
    render = store.device_info if infos else (lambda d: d.to_json(store.tenant.id))
    return json_response(page_data(items, link.page_size, link.page, render))


async def tenant_devices(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *ADMIN)
    name = request.query.get("deviceName")
    if name is not None:
        device_id = store.device_names.get(name)
        if device_id is None:
            raise Failure(404, "Requested item wasn't found!", 32)
        return json_response(store.devices[device_id].to_json(store.tenant.id))
    return _list_devices(request, None, infos=False)


async def tenant_device_infos(request: web.Request) -> web.Response:
    require(request, *ADMIN)
    return _list_devices(request, None, infos=True)


def _customer_scope(request: web.Request) -> str:
    store = request.app[STORE_KEY]
    user = require(request, *READERS)
    customer_id = check_uuid(request.match_info["customerId"])
    if user.authority == "CUSTOMER_USER" and user.customer_id != customer_id:
        raise Failure(403, PERMISSION, 20)
    if customer_id not in store.customers:
        raise not_found("Customer", customer_id)
    return customer_id


async def customer_devices(request: web.Request) -> web.Response:
    return _list_devices(request, _customer_scope(request), infos=False)


async def customer_device_infos(request: web.Request) -> web.Response:
    return _list_devices(request, _customer_scope(request), infos=True)


async def get_device(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *READERS)
    device = store.device_for(user, check_uuid(request.match_info["deviceId"]))
    return json_response(device.to_json(store.tenant.id))


async def get_device_info(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *READERS)
    return json_response(store.device_info(store.device_for(user, check_uuid(request.match_info["deviceId"]))))


def _resolve_profile(store: Store, body: dict[str, Any]) -> DeviceProfile:
    profile_ref = body.get("deviceProfileId")
    if isinstance(profile_ref, dict) and profile_ref.get("id"):
        profile = store.profiles.get(str(profile_ref["id"]))
        if profile is None:
            raise Failure(400, "Device profile is non-existent!", 31)
        return profile
    type_name = body.get("type")
    if isinstance(type_name, str) and type_name.strip():
        profile = store.profile_by_name(type_name.strip())
        if profile is None:  # ThingsBoard creates a profile for an unknown type on the fly
            profile = DeviceProfile(store.new_id(), type_name.strip(), store.now_ms())
            store.profiles[profile.id] = profile
        return profile
    return store.default_profile()


async def save_device(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *READERS)
    body = await read_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Failure(400, "Device name should be specified!", 31)
    device_id = body_entity_id(body)
    label = body.get("label")
    if device_id is not None:
        device = store.device_for(user, device_id)
        check_version(body, device.version, "Device")
        profile = _resolve_profile(store, body)
        store.rename_device(device, name)
        device.label = label if isinstance(label, str) else None
        device.profile_id, device.type = profile.id, profile.name
        if "additionalInfo" in body:
            device.additional_info = body["additionalInfo"]
        device.version += 1
        store.changed()
        return json_response(device.to_json(store.tenant.id))
    if user.authority != "TENANT_ADMIN":
        raise Failure(403, PERMISSION, 20)
    profile = _resolve_profile(store, body)
    device = Device(store.new_id(), name, profile.name, profile.id, store.now_ms(),
                    label=label if isinstance(label, str) else None)
    if "additionalInfo" in body:
        device.additional_info = body["additionalInfo"]
    store.add_device(device, request.query.get("accessToken") or None)
    return json_response(device.to_json(store.tenant.id))


async def delete_device(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *ADMIN)
    device = store.device_for(user, check_uuid(request.match_info["deviceId"]))
    store.delete_device(device.id)
    return empty_ok()


async def device_credentials(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *READERS)
    device = store.device_for(user, check_uuid(request.match_info["deviceId"]))
    return json_response(_credentials_json(store, device))


def _credentials_json(store: Store, device: Device) -> dict[str, Any]:
    if not device.credentials_uuid:
        device.credentials_uuid = store.new_id()
    return {
        "id": {"id": device.credentials_uuid},
        "createdTime": device.created_time,
        "deviceId": eid("DEVICE", device.id),
        "credentialsType": "ACCESS_TOKEN",
        "credentialsId": device.credentials_id,
        "credentialsValue": None,
        "version": 1,
    }


async def update_credentials(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *ADMIN)
    body = await read_json(request)
    ref = body.get("deviceId") if isinstance(body, dict) else None
    if not isinstance(ref, dict) or not ref.get("id"):
        raise Failure(400, "Device credentials should be assigned to device!", 31)
    device = store.device_for(user, check_uuid(str(ref["id"])))
    if body.get("credentialsType", "ACCESS_TOKEN") != "ACCESS_TOKEN":
        raise Failure(400, "The emulator supports ACCESS_TOKEN credentials only", 31)
    token = body.get("credentialsId")
    if not isinstance(token, str) or not token.strip():
        raise Failure(400, "Device credentials id should be specified!", 31)
    if any(d.credentials_id == token and d is not device for d in store.devices.values()):
        raise Failure(400, "Device credentials are already assigned to another device!", 31)
    device.credentials_id = token
    return json_response(_credentials_json(store, device))


def _assigned(store: Store, device: Device, customer_id: str) -> web.Response:
    """Move the device to `customer_id` (NULL_UUID: back to the tenant) as a new version; answers the device."""
    device.customer_id = customer_id
    device.version += 1
    store.changed()
    return json_response(device.to_json(store.tenant.id))


async def assign_device_public(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *ADMIN)
    device = store.device_for(user, check_uuid(request.match_info["deviceId"]))
    public = next((c for c in store.customers.values() if c.is_public), None)
    if public is None:  # ThingsBoard creates the "Public" customer on first use
        public = Customer(store.new_id(), "Public", store.now_ms(), {"isPublic": True})
        store.customers[public.id] = public
    return _assigned(store, device, public.id)


async def assign_device(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *ADMIN)
    customer_id = check_uuid(request.match_info["customerId"])
    device = store.device_for(user, check_uuid(request.match_info["deviceId"]))
    if customer_id not in store.customers:
        raise not_found("Customer", customer_id)
    return _assigned(store, device, customer_id)


async def unassign_device(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *ADMIN)
    device = store.device_for(user, check_uuid(request.match_info["deviceId"]))
    if device.customer_id == NULL_UUID:
        raise Failure(400, "Device isn't assigned to any customer!", 31)
    return _assigned(store, device, NULL_UUID)


async def devices_by_ids(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *READERS)
    wanted = [check_uuid(x) for x in (request.query.get("deviceIds") or "").split(",") if x]
    found = [store.devices[i] for i in wanted if i in store.devices and store.can_see_device(user, store.devices[i])]
    return json_response([d.to_json(store.tenant.id) for d in found])


async def device_types(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *READERS)
    names = sorted({d.type for d in store.devices.values()})
    return json_response([{"tenantId": eid("TENANT", store.tenant.id), "entityType": "DEVICE", "type": n}
                          for n in names])


def _profiles_page(request: web.Request, render: Callable[[DeviceProfile], Any]) -> web.Response:
    store = request.app[STORE_KEY]
    link = page_link(request)
    getters: dict[str, Callable[[DeviceProfile], Any]] = {
        "createdTime": lambda p: p.created_time, "name": lambda p: p.name, "type": lambda p: "DEFAULT",
        "transportType": lambda p: p.transport_type, "description": lambda p: p.description,
        "isDefault": lambda p: p.default,
    }
    transport = request.query.get("transportType") or None
    items = [p for p in store.profiles.values()
             if (not link.text_search or link.text_search in p.name.lower())
             and (transport is None or p.transport_type == transport)]
    items.sort(key=sort_key_for(getters, link.sort_property), reverse=link.sort_order == "DESC")
    return json_response(page_data(items, link.page_size, link.page, render))


async def profile_infos(request: web.Request) -> web.Response:
    require(request, *READERS)
    store = request.app[STORE_KEY]
    return _profiles_page(request, lambda p: p.to_info(store.tenant.id))


async def profiles(request: web.Request) -> web.Response:
    require(request, *ADMIN)
    store = request.app[STORE_KEY]
    return _profiles_page(request, lambda p: p.to_json(store.tenant.id))


def _profile(request: web.Request) -> DeviceProfile:
    store = request.app[STORE_KEY]
    raw = request.match_info["profileId"]
    if raw == "default":
        return store.default_profile()
    profile = store.profiles.get(check_uuid(raw))
    if profile is None:
        raise not_found("Device profile", raw)
    return profile


async def profile_info(request: web.Request) -> web.Response:
    require(request, *READERS)
    return json_response(_profile(request).to_info(request.app[STORE_KEY].tenant.id))


async def profile(request: web.Request) -> web.Response:
    require(request, *ADMIN)
    return json_response(_profile(request).to_json(request.app[STORE_KEY].tenant.id))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/tenant/devices", tenant_devices)
    r.add_get("/api/tenant/device", tenant_devices)
    r.add_get("/api/tenant/deviceInfos", tenant_device_infos)
    r.add_get("/api/customer/{customerId}/devices", customer_devices)
    r.add_get("/api/customer/{customerId}/deviceInfos", customer_device_infos)
    r.add_get("/api/device/types", device_types)
    r.add_get("/api/device/info/{deviceId}", get_device_info)
    r.add_get("/api/device/{deviceId}/credentials", device_credentials)
    r.add_get("/api/device/{deviceId}", get_device)
    r.add_post("/api/device", save_device)
    r.add_delete("/api/device/{deviceId}", delete_device)
    r.add_post("/api/device/credentials", update_credentials)
    r.add_post("/api/customer/public/device/{deviceId}", assign_device_public)
    r.add_post("/api/customer/{customerId}/device/{deviceId}", assign_device)
    r.add_delete("/api/customer/device/{deviceId}", unassign_device)
    r.add_get("/api/devices", devices_by_ids)
    r.add_get("/api/deviceProfileInfos", profile_infos)
    r.add_get("/api/deviceProfiles", profiles)
    r.add_get("/api/deviceProfileInfo/{profileId}", profile_info)
    r.add_get("/api/deviceProfile/{profileId}", profile)
