"""Customers (reference §4.5)."""

from __future__ import annotations

import msgspec

from console.errors import NotFoundError
from console.thingsboard.models import Customer, EntityId, PageData, PageLink, ShortCustomerInfo
from console.thingsboard.services._base import Service, uuid_of

__all__ = ["CustomerService"]

_CUSTOMER = msgspec.json.Decoder(Customer)
_CUSTOMER_PAGE = msgspec.json.Decoder(PageData[Customer])
_SHORT = msgspec.json.Decoder(ShortCustomerInfo)


class CustomerService(Service):
    """`tb.customers`."""

    async def get_customers(self, page_link: PageLink) -> PageData[Customer]:
        return await self._call("GET", "/api/customers", params=page_link.to_params(), decoder=_CUSTOMER_PAGE)

    async def get_customer(self, customer_id: str | EntityId) -> Customer:
        return await self._call("GET", f"/api/customer/{uuid_of(customer_id)}", decoder=_CUSTOMER)

    async def get_short_customer_info(self, customer_id: str | EntityId) -> ShortCustomerInfo:
        return await self._call("GET", f"/api/customer/{uuid_of(customer_id)}/shortInfo", decoder=_SHORT)

    async def get_customer_title(self, customer_id: str | EntityId) -> str:
        """The title; this endpoint answers plain text, not JSON."""
        body: bytes = await self._call("GET", f"/api/customer/{uuid_of(customer_id)}/title", raw=True)
        return body.decode("utf-8", "replace")

    async def get_tenant_customer(self, customer_title: str) -> Customer | None:
        try:
            return await self._call(
                "GET", "/api/tenant/customers", params={"customerTitle": customer_title}, decoder=_CUSTOMER
            )
        except NotFoundError:
            return None

    async def save_customer(self, customer: Customer) -> Customer:
        return await self._call("POST", "/api/customer", json=customer, decoder=_CUSTOMER)

    async def delete_customer(self, customer_id: str | EntityId) -> None:
        await self._call("DELETE", f"/api/customer/{uuid_of(customer_id)}")
