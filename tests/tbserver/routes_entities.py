"""Dashboards, customers and users (reference §4.4, §4.5, §4.8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .http import (
    STORE_KEY,
    body_entity_id,
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
    text_response,
    user_of,
)
from .model import CUSTOMER_FIELDS, NULL_UUID, Customer, Dashboard, User
from .store import PERMISSION, Failure, Store, not_found

ADMIN = ("TENANT_ADMIN",)
READERS = ("TENANT_ADMIN", "CUSTOMER_USER")
ANY = ("SYS_ADMIN", "TENANT_ADMIN", "CUSTOMER_USER")
TITLE_GETTERS: dict[str, Callable[[Any], Any]] = {
    "createdTime": lambda e: e.created_time,
    "title": lambda e: e.title,
    "name": lambda e: e.title,
    "id": lambda e: e.id,
}


def _page(request: web.Request, items: list[Any], getters: dict[str, Callable[[Any], Any]],
          text: Callable[[Any], str], render: Callable[[Any], Any]) -> web.Response:
    link = page_link(request)
    if link.text_search:
        items = [item for item in items if link.text_search in text(item).lower()]
    items = sorted(items, key=sort_key_for(getters, link.sort_property), reverse=link.sort_order == "DESC")
    return json_response(page_data(items, link.page_size, link.page, render))


# ---- dashboards
def _dashboard_list(request: web.Request, customer_id: str | None) -> web.Response:
    store = request.app[STORE_KEY]
    items = [d for d in store.dashboards.values() if customer_id is None or customer_id in (d.assigned or ())]
    if request.query.get("mobile", "").lower() == "true":
        items = [d for d in items if not d.mobile_hide]
    return _page(request, items, TITLE_GETTERS, lambda d: d.title,
                 lambda d: d.to_info(store.tenant.id, store.customers))


async def tenant_dashboards(request: web.Request) -> web.Response:
    require(request, *ADMIN)
    return _dashboard_list(request, None)


async def customer_dashboards(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    user = require(request, *READERS)
    customer_id = check_uuid(request.match_info["customerId"])
    if user.authority == "CUSTOMER_USER" and user.customer_id != customer_id:
        raise Failure(403, PERMISSION, 20)
    if customer_id not in store.customers:
        raise not_found("Customer", customer_id)
    return _dashboard_list(request, customer_id)


def _dashboard_for(request: web.Request) -> Dashboard:
    store = request.app[STORE_KEY]
    user = user_of(request)
    dashboard_id = check_uuid(request.match_info["dashboardId"])
    dashboard = store.dashboards.get(dashboard_id)
    if dashboard is None:
        raise not_found("Dashboard", dashboard_id)
    if user.authority == "CUSTOMER_USER" and user.customer_id not in (dashboard.assigned or ()):
        raise Failure(403, PERMISSION, 20)
    return dashboard


async def get_dashboard(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *READERS)
    return json_response(_dashboard_for(request).to_json(store.tenant.id, store.customers))


async def get_dashboard_info(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *ANY)
    return json_response(_dashboard_for(request).to_info(store.tenant.id, store.customers))


def _updated(entities: dict[str, Any], kind: str, entity_id: str, body: dict[str, Any]) -> Any:
    """The stored entity a save request updates: 404 when unknown, 409 on a stale version, else its next version."""
    entity = entities.get(entity_id)
    if entity is None:
        raise not_found(kind, entity_id)
    check_version(body, entity.version, kind)
    entity.version += 1
    return entity


async def save_dashboard(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *ADMIN)
    body = await read_object(request)
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise Failure(400, "Dashboard title should be specified!", 31)
    dashboard_id = body_entity_id(body)
    if dashboard_id is not None:
        dashboard = _updated(store.dashboards, "Dashboard", dashboard_id, body)
    else:
        dashboard = Dashboard(store.new_id(), title, store.now_ms())
        store.dashboards[dashboard.id] = dashboard
    dashboard.title = title
    dashboard.configuration = body.get("configuration")
    dashboard.image = body.get("image") if isinstance(body.get("image"), str) else None
    dashboard.mobile_hide = bool(body.get("mobileHide", False))
    order = body.get("mobileOrder")
    dashboard.mobile_order = order if isinstance(order, int) else None
    return json_response(dashboard.to_json(store.tenant.id, store.customers))


async def delete_dashboard(request: web.Request) -> web.Response:
    require(request, *ADMIN)
    dashboard = _dashboard_for(request)
    del request.app[STORE_KEY].dashboards[dashboard.id]
    return empty_ok()


async def assign_dashboard(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *ADMIN)
    dashboard = _dashboard_for(request)
    customer_id = check_uuid(request.match_info["customerId"])
    if customer_id not in store.customers:
        raise not_found("Customer", customer_id)
    assigned = dashboard.assigned if dashboard.assigned is not None else []
    if request.method == "POST" and customer_id not in assigned:
        assigned.append(customer_id)
    elif request.method == "DELETE":
        if customer_id not in assigned:
            raise Failure(400, "Dashboard isn't assigned to customer!", 31)
        assigned.remove(customer_id)
    dashboard.assigned = assigned
    dashboard.version += 1
    return json_response(dashboard.to_json(store.tenant.id, store.customers))


# ---- customers
def _customer_for(request: web.Request) -> Customer:
    store = request.app[STORE_KEY]
    user = require(request, *READERS)
    customer_id = check_uuid(request.match_info["customerId"])
    if user.authority == "CUSTOMER_USER" and user.customer_id != customer_id:
        raise Failure(403, PERMISSION, 20)
    customer = store.customers.get(customer_id)
    if customer is None:
        raise not_found("Customer", customer_id)
    return customer


async def customers(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *ADMIN)
    getters = dict(TITLE_GETTERS, email=lambda c: c.extra.get("email"), city=lambda c: c.extra.get("city"),
                   country=lambda c: c.extra.get("country"))
    return _page(request, list(store.customers.values()), getters, lambda c: c.title,
                 lambda c: c.to_json(store.tenant.id))


async def tenant_customer_by_title(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *ADMIN)
    title = request.query.get("customerTitle")
    customer = next((c for c in store.customers.values() if c.title == title), None)
    if customer is None:
        raise Failure(404, "Requested item wasn't found!", 32)
    return json_response(customer.to_json(store.tenant.id))


async def server_time(request: web.Request) -> web.Response:
    return json_response(request.app[STORE_KEY].now_ms())


async def max_datapoints(request: web.Request) -> web.Response:
    return json_response(50000)


async def get_customer(request: web.Request) -> web.Response:
    return json_response(_customer_for(request).to_json(request.app[STORE_KEY].tenant.id))


async def customer_short_info(request: web.Request) -> web.Response:
    customer = _customer_for(request)
    return json_response({"title": customer.title, "isPublic": customer.is_public})


async def customer_title(request: web.Request) -> web.Response:
    return text_response(_customer_for(request).title, 200)


async def save_customer(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *ADMIN)
    body = await read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("title"), str) or not body["title"].strip():
        raise Failure(400, "Customer title should be specified!", 31)
    title = body["title"]
    clash = next((c for c in store.customers.values() if c.title == title), None)
    customer_id = body_entity_id(body)
    if customer_id is not None:
        customer = _updated(store.customers, "Customer", customer_id, body)
    else:
        customer = Customer(store.new_id(), title, store.now_ms())
    if clash is not None and clash is not customer:
        raise Failure(400, "Customer with such title already exists!", 31)
    store.customers[customer.id] = customer
    customer.title = title
    customer.additional_info = body.get("additionalInfo")
    for name in CUSTOMER_FIELDS:
        value = body.get(name)
        customer.extra[name] = value if isinstance(value, str) else None
    store.changed()
    return json_response(customer.to_json(store.tenant.id))


async def delete_customer(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    require(request, *ADMIN)
    customer = _customer_for(request)
    del store.customers[customer.id]
    for device in store.devices.values():
        if device.customer_id == customer.id:
            device.customer_id = NULL_UUID
    for dashboard in store.dashboards.values():
        if dashboard.assigned and customer.id in dashboard.assigned:
            dashboard.assigned.remove(customer.id)
    for user_id in [u.id for u in store.users.values() if u.customer_id == customer.id]:
        del store.users[user_id]
    store.changed()
    return empty_ok()


# ---- users
USER_GETTERS: dict[str, Callable[[User], Any]] = {
    "createdTime": lambda u: u.created_time,
    "email": lambda u: u.email,
    "firstName": lambda u: u.first_name,
    "lastName": lambda u: u.last_name,
    "id": lambda u: u.id,
}


def _users_page(request: web.Request, predicate: Callable[[User], bool]) -> web.Response:
    store: Store = request.app[STORE_KEY]
    items = [u for u in store.users.values() if predicate(u)]
    return _page(request, items, USER_GETTERS, lambda u: u.email, lambda u: u.to_json())


async def users(request: web.Request) -> web.Response:
    user = require(request, *ANY)
    if user.authority == "SYS_ADMIN":
        return _users_page(request, lambda u: u.authority == "TENANT_ADMIN")
    if user.authority == "TENANT_ADMIN":
        return _users_page(request, lambda u: u.tenant_id == user.tenant_id and u.authority != "SYS_ADMIN")
    return _users_page(request, lambda u: u.customer_id == user.customer_id and u.authority == "CUSTOMER_USER")


async def customer_users(request: web.Request) -> web.Response:
    require(request, *ADMIN)
    customer = _customer_for(request)
    return _users_page(request, lambda u: u.customer_id == customer.id and u.authority == "CUSTOMER_USER")


async def get_user(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    caller = require(request, *ANY)
    user_id = check_uuid(request.match_info["userId"])
    user = store.users.get(user_id)
    if user is None:
        raise not_found("User", user_id)
    allowed = (
        caller.id == user.id
        or (caller.authority == "SYS_ADMIN")
        or (caller.authority == "TENANT_ADMIN" and user.tenant_id == caller.tenant_id)
        or (caller.authority == "CUSTOMER_USER" and user.customer_id == caller.customer_id)
    )
    if not allowed:
        raise Failure(403, PERMISSION, 20)
    return json_response(user.to_json())


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/dashboard/serverTime", server_time)
    r.add_get("/api/dashboard/maxDatapointsLimit", max_datapoints)
    r.add_get("/api/tenant/dashboards", tenant_dashboards)
    r.add_get("/api/customer/{customerId}/dashboards", customer_dashboards)
    r.add_get("/api/dashboard/info/{dashboardId}", get_dashboard_info)
    r.add_get("/api/dashboard/{dashboardId}", get_dashboard)
    r.add_post("/api/dashboard", save_dashboard)
    r.add_delete("/api/dashboard/{dashboardId}", delete_dashboard)
    r.add_post("/api/customer/{customerId}/dashboard/{dashboardId}", assign_dashboard)
    r.add_delete("/api/customer/{customerId}/dashboard/{dashboardId}", assign_dashboard)
    r.add_get("/api/customers", customers)
    r.add_get("/api/tenant/customers", tenant_customer_by_title)
    r.add_get("/api/customer/{customerId}/shortInfo", customer_short_info)
    r.add_get("/api/customer/{customerId}/title", customer_title)
    r.add_get("/api/customer/{customerId}", get_customer)
    r.add_post("/api/customer", save_customer)
    r.add_delete("/api/customer/{customerId}", delete_customer)
    r.add_get("/api/users", users)
    r.add_get("/api/customer/{customerId}/users", customer_users)
    r.add_get("/api/user/{userId}", get_user)
