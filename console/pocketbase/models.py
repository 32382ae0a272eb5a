"""Typed PocketBase answers, decoded straight from response bytes with msgspec.

Records have user-defined fields, so `RecordModel` wraps the decoded mapping (msgspec builds it in C and hands it
to `_dec_hook`) and offers the seed's typed getters. Everything with a fixed shape is a frozen `msgspec.Struct`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

import msgspec

__all__ = [
    "AuthMethodsList",
    "BatchResult",
    "CollectionModel",
    "HealthCheck",
    "LogModel",
    "LogStat",
    "RealtimeEvent",
    "RecordAuthResponse",
    "RecordModel",
    "ResultList",
]

T = TypeVar("T")
_MISSING: Any = object()


class RecordModel(Mapping[str, Any]):
    """One record: read-only mapping access plus the seed's typed getters (`get_string_value`, …)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data) if data else {}

    # Mapping protocol
    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordModel):
            return self._data == other._data
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RecordModel(id={self.id!r}, collection={self.collection_name!r})"

    # Well-known fields
    @property
    def id(self) -> str:
        return str(self._data.get("id", ""))

    @property
    def collection_id(self) -> str:
        return str(self._data.get("collectionId", ""))

    @property
    def collection_name(self) -> str:
        return str(self._data.get("collectionName", ""))

    @property
    def created(self) -> str:
        return str(self._data.get("created", "") or "")

    @property
    def updated(self) -> str:
        return str(self._data.get("updated", "") or "")

    @property
    def data(self) -> dict[str, Any]:
        """A shallow copy of the raw fields (as the server sent them)."""
        return dict(self._data)

    @property
    def expand(self) -> dict[str, RecordModel | list[RecordModel]]:
        """Expanded relations as records: one record for a single relation, a list for a multiple one."""
        raw = self._data.get("expand") or {}
        if not isinstance(raw, dict):
            return {}
        return {key: _as_records(value) for key, value in raw.items()}

    def get_expanded(self, relation: str) -> RecordModel | list[RecordModel] | None:
        """The expanded record(s) of `relation`, or None when it was not expanded."""
        raw = self._data.get("expand") or {}
        if not isinstance(raw, dict) or relation not in raw:
            return None
        return _as_records(raw[relation])

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    # Typed access, tolerant like the Dart SDK's getters
    def get(self, key: str, default: Any = None) -> Any:
        """Value at `key`, which may be a dotted path (`meta.fw`, `expand.site.title`, `tags.0`)."""
        if key in self._data:
            return self._data[key]
        value: Any = self._data
        for part in key.split("."):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
                value = value[int(part)]
            else:
                return default
        return value

    def get_string_value(self, key: str, default: str = "") -> str:
        value = self.get(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            return value
        if isinstance(value, dict | list):
            return msgspec.json.encode(value).decode()
        return str(value)

    def get_list_value(self, key: str, default: list[Any] | None = None) -> list[Any]:
        value = self.get(key, _MISSING)
        if value is _MISSING or value is None or value == "":
            return list(default) if default is not None else []
        if isinstance(value, list):
            return list(value)
        if isinstance(value, tuple | set):
            return list(value)
        return [value]

    def get_bool_value(self, key: str, default: bool = False) -> bool:
        value = self.get(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return value != 0
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(value, list | dict):
            return len(value) > 0
        return default

    def get_int_value(self, key: str, default: int = 0) -> int:
        value = self.get(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value) if value == value and abs(value) != float("inf") else default
        if isinstance(value, str):
            try:
                return int(float(value.strip()))
            except (ValueError, OverflowError):
                return default
        return default

    def get_float_value(self, key: str, default: float = 0.0) -> float:
        value = self.get(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        if isinstance(value, bool | int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                return default
        return default

    get_double_value = get_float_value  # the seed's (Dart) name


def _as_records(value: Any) -> RecordModel | list[RecordModel]:
    if isinstance(value, list):
        return [
            item if isinstance(item, RecordModel) else RecordModel(item)
            for item in value if isinstance(item, Mapping)
        ]
    if isinstance(value, RecordModel):
        return value
    return RecordModel(value if isinstance(value, dict) else {})


def dec_hook(kind: type, obj: Any) -> Any:
    """msgspec hook: records arrive as decoded dicts and are wrapped without copying."""
    if kind is RecordModel:
        if not isinstance(obj, dict):
            raise msgspec.ValidationError("a record must be a JSON object")
        record = RecordModel.__new__(RecordModel)
        record._data = obj
        return record
    raise NotImplementedError(f"cannot decode {kind!r}")


def enc_hook(obj: Any) -> Any:
    if isinstance(obj, RecordModel):
        return obj.to_dict()
    raise NotImplementedError(f"cannot encode {type(obj)!r}")


class ResultList(msgspec.Struct, Generic[T], rename="camel", kw_only=True, frozen=True):
    """One page of a list; `total_items`/`total_pages` are -1 when the request skipped the count."""

    page: int = 1
    per_page: int = 0
    total_items: int = -1
    total_pages: int = -1
    items: list[T] = []


class RecordAuthResponse(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    token: str
    record: RecordModel
    meta: dict[str, Any] | None = None


class AuthMethodsList(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    mfa: dict[str, Any] = {}
    otp: dict[str, Any] = {}
    password: dict[str, Any] = {}
    oauth2: dict[str, Any] = {}


class CollectionModel(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    """A collection's schema (v0.23+ flat format); fields stay plain dicts because their options vary by type."""

    id: str = ""
    name: str = ""
    type: str = "base"
    system: bool = False
    fields: list[dict[str, Any]] = []
    indexes: list[str] = []
    list_rule: str | None = None
    view_rule: str | None = None
    create_rule: str | None = None
    update_rule: str | None = None
    delete_rule: str | None = None
    view_query: str | None = None
    created: str = ""
    updated: str = ""

    def field_names(self) -> list[str]:
        return [str(field.get("name", "")) for field in self.fields]


class LogModel(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    id: str
    created: str = ""
    level: int = 0
    message: str = ""
    data: dict[str, Any] = {}


class LogStat(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    date: str
    total: int


class HealthCheck(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    code: int = 0
    message: str = ""
    data: dict[str, Any] = {}


class BatchResult(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    """One answer of a batch; `body` is the decoded JSON (a record dict for record writes, None for deletes)."""

    status: int
    body: Any = None

    @property
    def record(self) -> RecordModel | None:
        return RecordModel(self.body) if isinstance(self.body, dict) else None


class RealtimeEvent(msgspec.Struct, rename="camel", kw_only=True, frozen=True):
    """A realtime message: `action` is "create", "update" or "delete"; `topic` is the subscription it matched."""

    action: str = ""
    record: RecordModel = msgspec.field(default_factory=RecordModel)
    topic: str = ""
