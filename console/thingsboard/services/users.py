"""Users (reference §4.8)."""

from __future__ import annotations

import msgspec

from console.thingsboard.models import EntityId, PageData, PageLink, User
from console.thingsboard.services._base import Service, uuid_of

__all__ = ["UserService"]

_USER = msgspec.json.Decoder(User)
_USER_PAGE = msgspec.json.Decoder(PageData[User])


class UserService(Service):
    """`tb.users`."""

    async def get_user(self) -> User:
        """The logged-in user."""
        return await self._call("GET", "/api/auth/user", decoder=_USER)

    async def get_user_by_id(self, user_id: str | EntityId) -> User:
        return await self._call("GET", f"/api/user/{uuid_of(user_id)}", decoder=_USER)

    async def get_users(self, page_link: PageLink) -> PageData[User]:
        return await self._call("GET", "/api/users", params=page_link.to_params(), decoder=_USER_PAGE)

    async def get_customer_users(self, customer_id: str | EntityId, page_link: PageLink) -> PageData[User]:
        path = f"/api/customer/{uuid_of(customer_id)}/users"
        return await self._call("GET", path, params=page_link.to_params(), decoder=_USER_PAGE)
