"""The demo schema: the PocketBase collections the PocketBase fleet reads (this module is its contract).

Everything a ThingsBoard tenant has that the console shows, as plain collections:

    device_profiles  name, description, transport
    customers        title, city
    devices          name, label, type, profile, customer, site, active, gateway, description, access_token,
                     firmware, last_activity (ms), created_time (ms), created / updated
    dashboards       title, configuration (JSON), customers (JSON list of titles), public, created / updated
    attributes       device (id), scope (CLIENT_SCOPE | SERVER_SCOPE | SHARED_SCOPE), key, value (JSON), last_update_ts
    latest           device, key, ts (ms), value (JSON)       one row per device and key: the latest value
    telemetry        device, key, ts (ms), value (JSON)       the history, pruned by the simulator

Devices are referenced by id in plain text fields (not relations): sorting, filtering and realtime filters stay
simple, and a missing device never blocks a write. Rows of `attributes` and `latest` have ids derived from
(device, scope, key), so an upsert never needs a lookup first (`row_id`).
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = [
    "ATTRIBUTES",
    "COLLECTIONS",
    "CUSTOMERS",
    "DASHBOARDS",
    "DEVICES",
    "DEVICE_PROFILES",
    "LATEST",
    "SCOPES",
    "TELEMETRY",
    "collection_definitions",
    "row_id",
]

DEVICE_PROFILES = "device_profiles"
CUSTOMERS = "customers"
DEVICES = "devices"
DASHBOARDS = "dashboards"
ATTRIBUTES = "attributes"
LATEST = "latest"
TELEMETRY = "telemetry"
COLLECTIONS = (DEVICE_PROFILES, CUSTOMERS, DEVICES, DASHBOARDS, ATTRIBUTES, LATEST, TELEMETRY)
SCOPES = ("CLIENT_SCOPE", "SERVER_SCOPE", "SHARED_SCOPE")

_SIGNED_IN = '@request.auth.id != ""'  # any signed-in user of any auth collection; superusers bypass rules
_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def row_id(*parts: str) -> str:
    """A stable 15-character PocketBase record id for a natural key such as (device, scope, key)."""
    number = int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).digest(), "big")
    chars = []
    for _ in range(15):
        number, rest = divmod(number, 36)
        chars.append(_ID_ALPHABET[rest])
    return "".join(chars)


def _text(name: str, *, required: bool = False, max_length: int = 0) -> dict[str, Any]:
    return {"name": name, "type": "text", "required": required, "max": max_length}


def _number(name: str, *, only_int: bool = False) -> dict[str, Any]:
    return {"name": name, "type": "number", "onlyInt": only_int}


def _bool(name: str) -> dict[str, Any]:
    return {"name": name, "type": "bool"}


def _json(name: str) -> dict[str, Any]:
    return {"name": name, "type": "json", "maxSize": 1 << 20}


def _autodates() -> list[dict[str, Any]]:
    return [
        {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
        {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
    ]


def _collection(name: str, fields: list[dict[str, Any]], indexes: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "base",
        "fields": fields,
        "indexes": indexes,
        "listRule": _SIGNED_IN,
        "viewRule": _SIGNED_IN,
        "createRule": _SIGNED_IN,
        "updateRule": _SIGNED_IN,
        "deleteRule": _SIGNED_IN,
    }


def collection_definitions() -> list[dict[str, Any]]:
    """The collections as `POST /api/collections` bodies, in creation order."""
    return [
        _collection(
            DEVICE_PROFILES,
            [_text("name", required=True), _text("description"), _text("transport"), *_autodates()],
            [f"CREATE UNIQUE INDEX idx_{DEVICE_PROFILES}_name ON {DEVICE_PROFILES} (name)"],
        ),
        _collection(
            CUSTOMERS,
            [_text("title", required=True), _text("city"), *_autodates()],
            [f"CREATE UNIQUE INDEX idx_{CUSTOMERS}_title ON {CUSTOMERS} (title)"],
        ),
        _collection(
            DEVICES,
            [
                _text("name", required=True),
                _text("label"),
                _text("type"),
                _text("profile"),
                _text("customer"),
                _text("site"),
                _bool("active"),
                _bool("gateway"),
                _text("description"),
                _text("access_token"),
                _text("firmware"),
                _number("last_activity", only_int=True),
                _number("created_time", only_int=True),  # ms; seeded devices have a realistic age
                *_autodates(),
            ],
            [
                f"CREATE UNIQUE INDEX idx_{DEVICES}_name ON {DEVICES} (name)",
                f"CREATE INDEX idx_{DEVICES}_created ON {DEVICES} (created_time)",
                f"CREATE INDEX idx_{DEVICES}_profile ON {DEVICES} (profile)",
                f"CREATE INDEX idx_{DEVICES}_active ON {DEVICES} (active)",
            ],
        ),
        _collection(
            DASHBOARDS,
            [_text("title", required=True), _json("configuration"), _json("customers"), _bool("public"), *_autodates()],
            [f"CREATE INDEX idx_{DASHBOARDS}_title ON {DASHBOARDS} (title)"],
        ),
        _collection(
            ATTRIBUTES,
            [
                _text("device", required=True),
                {"name": "scope", "type": "select", "required": True, "maxSelect": 1, "values": list(SCOPES)},
                _text("key", required=True),
                _json("value"),
                _number("last_update_ts", only_int=True),
            ],
            [f"CREATE UNIQUE INDEX idx_{ATTRIBUTES}_key ON {ATTRIBUTES} (device, scope, key)"],
        ),
        _collection(
            LATEST,
            [_text("device", required=True), _text("key", required=True), _number("ts", only_int=True), _json("value")],
            [f"CREATE UNIQUE INDEX idx_{LATEST}_key ON {LATEST} (device, key)"],
        ),
        _collection(
            TELEMETRY,
            [_text("device", required=True), _text("key", required=True), _number("ts", only_int=True), _json("value")],
            [
                f"CREATE INDEX idx_{TELEMETRY}_series ON {TELEMETRY} (device, key, ts)",
                f"CREATE INDEX idx_{TELEMETRY}_ts ON {TELEMETRY} (ts)",
            ],
        ),
    ]
