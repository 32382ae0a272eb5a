"""ThingsBoard services, one module per resource, exposed on the client as cached properties."""

from __future__ import annotations

from typing import Any

from console.thingsboard.services.attributes import AttributeService
from console.thingsboard.services.customers import CustomerService
from console.thingsboard.services.dashboards import DashboardService
from console.thingsboard.services.device_profiles import DeviceProfileService
from console.thingsboard.services.devices import DeviceService
from console.thingsboard.services.entity_query import EntityQueryService
from console.thingsboard.services.users import UserService

__all__ = [
    "AttributeService",
    "CustomerService",
    "DashboardService",
    "DeviceProfileService",
    "DeviceService",
    "EntityQueryService",
    "ServiceProperties",
    "UserService",
]


class ServiceProperties:
    """`tb.devices`, `tb.dashboards`, ...: each service is created once, on first use, from the client alone."""

    _services: dict[str, Any]

    def _service(self, name: str, factory: Any) -> Any:
        service = self._services.get(name)
        if service is None:
            service = self._services[name] = factory(self)
        return service

    @property
    def devices(self) -> DeviceService:
        return self._service("devices", DeviceService)

    @property
    def dashboards(self) -> DashboardService:
        return self._service("dashboards", DashboardService)

    @property
    def customers(self) -> CustomerService:
        return self._service("customers", CustomerService)

    @property
    def users(self) -> UserService:
        return self._service("users", UserService)

    @property
    def device_profiles(self) -> DeviceProfileService:
        return self._service("device_profiles", DeviceProfileService)

    @property
    def attributes(self) -> AttributeService:
        return self._service("attributes", AttributeService)

    @property
    def entity_query(self) -> EntityQueryService:
        return self._service("entity_query", EntityQueryService)

    @property
    def telemetry(self) -> Any:
        """The WebSocket service (console.thingsboard.telemetry), created on first use."""
        from console.thingsboard.telemetry import TelemetryService

        return self._service("telemetry", TelemetryService)
