"""Entity Data Query REST endpoints (reference §6.1)."""

from __future__ import annotations

import msgspec

from console.thingsboard.models import PageData
from console.thingsboard.query import EntityCountQuery, EntityData, EntityDataQuery
from console.thingsboard.services._base import Service

__all__ = ["EntityQueryService"]

_COUNT = msgspec.json.Decoder(int)
_ENTITY_DATA_PAGE = msgspec.json.Decoder(PageData[EntityData])


class EntityQueryService(Service):
    """`tb.entity_query`."""

    async def count_entities_by_query(self, query: EntityCountQuery) -> int:
        # An EntityDataQuery is also a count query; send only the count fields.
        body = EntityCountQuery(
            entity_filter=query.entity_filter,
            key_filters=query.key_filters,
            key_filters_operation=query.key_filters_operation,
        )
        return await self._call("POST", "/api/entitiesQuery/count", json=body, decoder=_COUNT)

    async def find_entity_data_by_query(self, query: EntityDataQuery) -> PageData[EntityData]:
        return await self._call("POST", "/api/entitiesQuery/find", json=query, decoder=_ENTITY_DATA_PAGE)
