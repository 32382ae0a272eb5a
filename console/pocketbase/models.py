"""Typed PocketBase answers, decoded straight from response bytes with msgspec.

Records have user-defined fields, so `RecordModel` wraps a mapping and offers the seed's typed getters. Records of
a list page stay compact until read: each holds its JSON text as a zero-copy `msgspec.Raw` slice of the page and
decodes its fields on first access (then keeps the dict). 10,000 dict-backed records cost ~13 MB; compact ones
~4 MB, most of it the page bytes. Everything with a fixed shape is a frozen `msgspec.Struct`.
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
    "RecordPageDecoder",
    "ResultList",
    "records_from_raw",
]

T = TypeVar("T")
_MISSING: Any = object()


class RecordModel(Mapping[str, Any]):
    """One record: read-only mapping access plus the seed's typed getters (`get_string_value`, …).

    A record from a list page keeps its JSON (`_raw`) and decodes it on first field access; `id` alone is read
    without decoding the rest. Behaviour (values, equality, pickling, copying) is the same either way.
    """

    __slots__ = ("_data", "_id", "_raw")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] | None = dict(data) if data else {}
        self._raw: msgspec.Raw | None = None
        self._id: str | None = None

    @property
    def _fields(self) -> dict[str, Any]:
        data = self._data
        if data is None:
            raw = self._raw
            if raw is None:  # another thread decoded it meanwhile (it sets `_data` before clearing `_raw`)
                return self._data  # type: ignore[return-value]
            data = self._data = _field_decoder.decode(raw)
            self._raw = None  # the page bytes are freed once every record of the page is decoded (or dropped)
        return data

    # Mapping protocol
    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __contains__(self, key: object) -> bool:
        return key in self._fields

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordModel):
            return self._fields == other._fields
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (RecordModel, (self._fields,))

    def __repr__(self) -> str:
        return f"RecordModel(id={self.id!r}, collection={self.collection_name!r})"

    # Well-known fields
    @property
    def id(self) -> str:
        data = self._data
        if data is not None:
            return str(data.get("id", ""))
        record_id = self._id
        if record_id is None:
            raw = self._raw
            if raw is None:  # decoded by another thread meanwhile
                return str(self._fields.get("id", ""))
            record_id = self._id = str(_id_decoder.decode(raw).id)  # as `str(fields.get("id", ""))` would give
        return record_id

    @property
    def collection_id(self) -> str:
        return str(self._fields.get("collectionId", ""))

    @property
    def collection_name(self) -> str:
        return str(self._fields.get("collectionName", ""))

    @property
    def created(self) -> str:
        return str(self._fields.get("created", "") or "")

    @property
    def updated(self) -> str:
        return str(self._fields.get("updated", "") or "")

    @property
    def data(self) -> dict[str, Any]:
        """A shallow copy of the raw fields (as the server sent them)."""
        return dict(self._fields)

    @property
    def expand(self) -> dict[str, RecordModel | list[RecordModel]]:
        """Expanded relations as records: one record for a single relation, a list for a multiple one."""
        raw = self._fields.get("expand") or {}
        if not isinstance(raw, dict):
            return {}
        return {key: _as_records(value) for key, value in raw.items()}

    def get_expanded(self, relation: str) -> RecordModel | list[RecordModel] | None:
        """The expanded record(s) of `relation`, or None when it was not expanded."""
        raw = self._fields.get("expand") or {}
        if not isinstance(raw, dict) or relation not in raw:
            return None
        return _as_records(raw[relation])

    def to_dict(self) -> dict[str, Any]:
        return dict(self._fields)

    # Typed access, tolerant like the Dart SDK's getters
    def get(self, key: str, default: Any = None) -> Any:
        """Value at `key`, which may be a dotted path (`meta.fw`, `expand.site.title`, `tags.0`)."""
        fields = self._fields
        if key in fields:
            return fields[key]
        value: Any = fields
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
        record = _new_record(RecordModel)
        record._data = obj
        record._raw = None
        record._id = None
        return record
    raise NotImplementedError(f"cannot decode {kind!r}")


class _IdOnly(msgspec.Struct):
    id: Any = ""


_field_decoder = msgspec.json.Decoder(dict[str, Any])
_id_decoder = msgspec.json.Decoder(_IdOnly)
_new_record = object.__new__


def records_from_raw(items: list[msgspec.Raw]) -> list[RecordModel]:
    """Wrap raw JSON objects (zero-copy slices of a page) as compact records; nothing is decoded yet."""
    records: list[RecordModel] = []
    append = records.append
    for raw in items:
        record = _new_record(RecordModel)
        record._raw = raw
        record._data = None
        record._id = None
        append(record)
    return records


def enc_hook(obj: Any) -> Any:
    if isinstance(obj, RecordModel):
        return obj._raw if obj._data is None else obj._data  # the server's JSON as it came, when still compact
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


class _AnObject(msgspec.Struct, gc=False):
    """Matches any JSON object and keeps nothing of it: validates the items' shape at C speed."""


class _ObjectItems(msgspec.Struct):
    items: list[_AnObject] = []


_page_shape_decoder = msgspec.json.Decoder(_ObjectItems)


class RecordPageDecoder:
    """Decodes a records page: items become compact `RecordModel`s over zero-copy slices of the body.

    Same contract as `msgspec.json.Decoder(ResultList[RecordModel]).decode` (a non-object item is a
    `msgspec.ValidationError`) at ~half the CPU and a third of the memory.
    """

    _pages = msgspec.json.Decoder(ResultList[msgspec.Raw])

    def decode(self, buf: bytes) -> ResultList[RecordModel]:
        page = self._pages.decode(buf)
        if page.items:
            _page_shape_decoder.decode(buf)
        return msgspec.structs.replace(page, items=records_from_raw(page.items))  # type: ignore[arg-type]
