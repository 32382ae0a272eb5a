"""What the server sends on the WebSocket (reference §7.5), decoded straight from the frame's bytes.

Two reply families share one socket: entity-data replies carry `cmdUpdateType` and `cmdId`; attribute and
time-series replies carry `subscriptionId` and `[ts, "value"]` pairs. One envelope decoder reads the routing fields
and keeps the payload as raw bytes, so the payload is decoded once, by the decoder of its own family.
"""

from __future__ import annotations

from typing import Any

import msgspec

from console.errors import ApiError
from console.thingsboard.models import PageData
from console.thingsboard.query import EntityData, TsValue

__all__ = [
    "EntityCountUpdate",
    "EntityDataUpdate",
    "Envelope",
    "SubscriptionUpdate",
    "decode_envelope",
    "decode_page",
    "decode_pairs",
    "decode_update",
    "error_of",
]

_NULL = msgspec.Raw(b"null")


class Envelope(msgspec.Struct, rename="camel", kw_only=True):
    """Routing fields of any server message; `data`/`update` stay undecoded until the family is known."""

    cmd_id: int | None = None
    subscription_id: int | None = None
    error_code: int = 0
    error_msg: str | None = None
    cmd_update_type: str | None = None
    data: msgspec.Raw = _NULL
    update: msgspec.Raw = _NULL
    count: int | None = None
    allowed_entities: int | None = None

    @property
    def has_page(self) -> bool:
        return self.data != _NULL

    @property
    def route_id(self) -> int | None:
        """The command id this message answers: `cmdUpdateType` first, then `subscriptionId` (§7.5, pitfall 21)."""
        return self.cmd_id if self.cmd_update_type is not None else self.subscription_id


class EntityDataUpdate(msgspec.Struct, kw_only=True):
    """One answer to an `EntityDataCmd`: `data` (a full page) on the first answer, `update` (changed entities) after.

    `backfill` marks the update that fills a reconnect's gap with points fetched by REST.
    """

    cmd_id: int
    data: PageData[EntityData] | None = None
    update: list[EntityData] | None = None
    allowed_entities: int | None = None
    backfill: bool = False


class EntityCountUpdate(msgspec.Struct, kw_only=True):
    cmd_id: int
    count: int


class SubscriptionUpdate(msgspec.Struct, kw_only=True):
    """An attribute or time-series subscription's data: key -> samples, ascending (values are strings)."""

    subscription_id: int
    data: dict[str, list[TsValue]]
    backfill: bool = False


decode_envelope = msgspec.json.Decoder(Envelope).decode
_PAGE = msgspec.json.Decoder(PageData[EntityData])
_UPDATE = msgspec.json.Decoder(list[EntityData] | None)
_PAIRS = msgspec.json.Decoder(dict[str, list[tuple[int, Any]]] | None)


def decode_page(raw: msgspec.Raw) -> PageData[EntityData] | None:
    return None if raw == _NULL else _PAGE.decode(raw)


def decode_update(raw: msgspec.Raw) -> list[EntityData] | None:
    return _UPDATE.decode(raw)


def decode_pairs(raw: msgspec.Raw) -> dict[str, list[TsValue]]:
    pairs = _PAIRS.decode(raw) or {}
    return {key: [TsValue(ts, value) for ts, value in samples] for key, samples in pairs.items()}


def error_of(envelope: Envelope) -> ApiError | None:
    """The server's error reply as an ApiError (codes of §7.5: 1 internal, 2 bad request, 3 unauthorized, 34 rate)."""
    if not envelope.error_code:
        return None
    text = envelope.error_msg or "no details"
    return ApiError(f"The server refused a live subscription: {text}", error_code=envelope.error_code)
