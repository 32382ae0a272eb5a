"""Safe PocketBase filter strings: `{:name}` placeholders bound to Python values, never spliced by hand.

    build_filter("title ~ {:t} && created >= {:d}", t=user_text, d=datetime.now(UTC))

Strings become single-quoted literals with quotes and backslashes escaped, datetimes become the server's UTC
`YYYY-MM-DD HH:MM:SS.mmmZ`, None becomes `null`, and anything else JSON goes in as a quoted JSON string.
A placeholder without a value is an error rather than a silent empty string.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["build_filter", "format_filter_value"]

_PLACEHOLDER = re.compile(r"\{:([A-Za-z_][A-Za-z0-9_]*)\}")


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def format_filter_value(value: Any) -> str:
    """One value as a filter literal."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot use {value!r} in a filter")
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.astimezone()  # naive means local time, as everywhere else in Python
        utc = value.astimezone(dt.UTC)
        return _quote(utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z")
    if isinstance(value, dt.date):
        return _quote(value.strftime("%Y-%m-%d"))
    if isinstance(value, str):
        return _quote(value)
    return _quote(msgspec.json.encode(value).decode())


def build_filter(expression: str, params: Mapping[str, Any] | None = None, /, **kwargs: Any) -> str:
    """Fill every `{:name}` in `expression` with a safely quoted literal."""
    values = {**(params or {}), **kwargs}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"the filter has a {{:{name}}} placeholder but no value for it")
        return format_filter_value(values[name])

    return _PLACEHOLDER.sub(replace, expression)
