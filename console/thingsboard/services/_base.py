"""What every service shares: a reference to the client and id/param helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.errors import InvalidUrlError
from console.thingsboard.models import EntityId

if TYPE_CHECKING:
    from console.thingsboard.client import ThingsboardClient


class Service:
    """A service is built from the client alone and sends through `client._request`."""

    def __init__(self, client: ThingsboardClient) -> None:
        self._client = client

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._client._request(method, path, **kwargs)


def uuid_of(value: str | EntityId) -> str:
    """Accept an EntityId or its bare UUID string; refuse values that would change the URL path."""
    text = value.id if isinstance(value, EntityId) else str(value)
    if not text or "/" in text or "?" in text or "#" in text:
        raise InvalidUrlError(f"{text!r} is not an entity id.")
    return text


def entity_path(entity_id: EntityId) -> str:
    return f"{entity_id.entity_type}/{uuid_of(entity_id)}"


def params_of(**values: Any) -> dict[str, Any]:
    """Query parameters without the ones left as None; booleans spelled the way Spring expects."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out
