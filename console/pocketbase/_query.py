"""URL pieces every PocketBase service builds the same way: a quoted path segment and the list-query parameters.

None values are left in; `PocketBase.send` drops them, so an unset option never reaches the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

__all__ = ["list_params", "record_params", "seg"]


def seg(value: str) -> str:
    """One path segment, with "/" and every other reserved character quoted."""
    return quote(value, safe="")


def list_params(
    page: int,
    per_page: int,
    *,
    filter: str | None = None,
    sort: str | None = None,
    expand: str | None = None,
    fields: str | None = None,
    skip_total: bool = False,
    query: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The query of a paged list endpoint (`page`, `perPage`, ...); `query` holds extra parameters, overridden."""
    return {
        **(query or {}),
        "page": page,
        "perPage": per_page,
        "filter": filter,
        "sort": sort,
        "expand": expand,
        "fields": fields,
        "skipTotal": True if skip_total else None,
    }


def record_params(query: Mapping[str, Any] | None, expand: str | None, fields: str | None) -> dict[str, Any]:
    """The query of a single-record call: the caller's extra parameters plus `expand` and `fields`."""
    return {**(query or {}), "expand": expand, "fields": fields}
