"""Dashboards: lists, details, save/delete, and the JSON export (reference §4.4)."""

from __future__ import annotations

import msgspec

from console.thingsboard.models import Dashboard, DashboardInfo, EntityId, PageData, PageLink
from console.thingsboard.services._base import Service, params_of, uuid_of

__all__ = ["DashboardService"]

_DASHBOARD = msgspec.json.Decoder(Dashboard)
_DASHBOARD_INFO = msgspec.json.Decoder(DashboardInfo)
_DASHBOARD_INFO_PAGE = msgspec.json.Decoder(PageData[DashboardInfo])
_NUMBER = msgspec.json.Decoder(int)


class DashboardService(Service):
    """`tb.dashboards`."""

    async def get_tenant_dashboards(
        self, page_link: PageLink, *, mobile: bool | None = None
    ) -> PageData[DashboardInfo]:
        params = page_link.to_params() | params_of(mobile=mobile)
        return await self._call("GET", "/api/tenant/dashboards", params=params, decoder=_DASHBOARD_INFO_PAGE)

    async def get_customer_dashboards(
        self, customer_id: str | EntityId, page_link: PageLink, *, mobile: bool | None = None
    ) -> PageData[DashboardInfo]:
        params = page_link.to_params() | params_of(mobile=mobile)
        path = f"/api/customer/{uuid_of(customer_id)}/dashboards"
        return await self._call("GET", path, params=params, decoder=_DASHBOARD_INFO_PAGE)

    async def get_dashboard(self, dashboard_id: str | EntityId) -> Dashboard:
        return await self._call("GET", f"/api/dashboard/{uuid_of(dashboard_id)}", decoder=_DASHBOARD)

    async def get_dashboard_info(self, dashboard_id: str | EntityId) -> DashboardInfo:
        return await self._call("GET", f"/api/dashboard/info/{uuid_of(dashboard_id)}", decoder=_DASHBOARD_INFO)

    async def export_dashboard_json(self, dashboard_id: str | EntityId) -> bytes:
        """The dashboard exactly as the server sent it (for a file export: nothing dropped by our model)."""
        return await self._call("GET", f"/api/dashboard/{uuid_of(dashboard_id)}", raw=True)

    async def save_dashboard(self, dashboard: Dashboard) -> Dashboard:
        return await self._call("POST", "/api/dashboard", json=dashboard, decoder=_DASHBOARD)

    async def delete_dashboard(self, dashboard_id: str | EntityId) -> None:
        await self._call("DELETE", f"/api/dashboard/{uuid_of(dashboard_id)}")

    async def assign_dashboard_to_customer(
        self, customer_id: str | EntityId, dashboard_id: str | EntityId
    ) -> Dashboard:
        path = f"/api/customer/{uuid_of(customer_id)}/dashboard/{uuid_of(dashboard_id)}"
        return await self._call("POST", path, decoder=_DASHBOARD)

    async def unassign_dashboard_from_customer(
        self, customer_id: str | EntityId, dashboard_id: str | EntityId
    ) -> Dashboard:
        path = f"/api/customer/{uuid_of(customer_id)}/dashboard/{uuid_of(dashboard_id)}"
        return await self._call("DELETE", path, decoder=_DASHBOARD)

    async def get_server_time(self) -> int:
        return await self._call("GET", "/api/dashboard/serverTime", decoder=_NUMBER)
