"""Typed attribute values: parse what a user typed, validate it, format it back, compare values strictly.

The attribute editor and the bulk editor both go through here, so an invalid value is refused before anything is
sent. Five types, as ThingsBoard stores them (reference §5.4): boolean, integer (64-bit), double (finite), string and
JSON (an object or an array). `parse_value(format_value(v), t) == v` for every valid `v` of type `t`.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Collection
from typing import Any

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "ValueType",
    "ValueValidationError",
    "coerce_like",
    "format_value",
    "looks_numeric",
    "parse_value",
    "same_as_written",
    "type_of",
    "validate_key",
    "validate_value",
    "value_summary",
    "values_equal",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_KEY_LENGTH = 255  # ThingsBoard's key column is varchar(255)


class ValueType(enum.Enum):
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DOUBLE = "double"
    STRING = "string"
    JSON = "json"

    @property
    def title(self) -> str:
        return self.value.capitalize() if self is not ValueType.JSON else "JSON"


class ValueValidationError(ValueError):
    """A typed value or key the editor refuses; `message` is shown to the user, `line`/`column` point into JSON."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(message)


_INTEGER = re.compile(r"[+-]?[0-9]+")
# A decimal number as JSON and ThingsBoard read it (no "1_000", no hex, no "nan"); a leading "+" or "." is allowed.
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def type_of(value: Any) -> ValueType:
    """The editor type of a value the server returned (bool before int: bool is an int in Python)."""
    if isinstance(value, bool):
        return ValueType.BOOLEAN
    if isinstance(value, int):
        return ValueType.INTEGER
    if isinstance(value, float):
        return ValueType.DOUBLE
    if isinstance(value, dict | list | tuple):
        return ValueType.JSON
    return ValueType.STRING


def parse_value(text: str, value_type: ValueType) -> Any:
    """Turn what the user typed into a typed value, or raise ValueValidationError with a readable message."""
    if value_type is ValueType.BOOLEAN:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueValidationError(f"{_quote(text)} is not a boolean: type true or false.")
    if value_type is ValueType.INTEGER:
        stripped = text.strip()
        if not _INTEGER.fullmatch(stripped):
            raise ValueValidationError(f"{_quote(text)} is not a whole number.")
        number = int(stripped)
        _check_int(number)
        return number
    if value_type is ValueType.DOUBLE:
        stripped = text.strip()
        if stripped.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            raise ValueValidationError("NaN and Infinity cannot be stored: type a finite number.")
        if not _DOUBLE.fullmatch(stripped):
            raise ValueValidationError(f"{_quote(text)} is not a number.")
        number = float(stripped)
        if not math.isfinite(number):
            raise ValueValidationError(f"{_quote(text)} is too large for a double.")
        return number
    if value_type is ValueType.JSON:
        return _parse_json(text)
    _check_string(text)
    return text


def format_value(value: Any, value_type: ValueType | None = None) -> str:
    """The text the editor shows for a value; exact enough to parse back to the same value."""
    value_type = value_type or type_of(value)
    if value_type is ValueType.BOOLEAN:
        return "true" if value else "false"
    if value_type is ValueType.DOUBLE:
        return repr(float(value))
    if value_type is ValueType.INTEGER:
        return str(int(value))
    if value_type is ValueType.JSON:
        return json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False)
    return str(value)


def value_summary(value: Any, limit: int = 80) -> str:
    """One line for a table cell or a diff: JSON compact, long text cut with an ellipsis."""
    if value is None:
        return ""
    if type_of(value) is ValueType.JSON:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = format_value(value)
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_value(value: Any) -> Any:
    """Check a typed value (e.g. from a bulk plan or an undo) against the same rules; returns it unchanged."""
    value_type = type_of(value)
    if value_type is ValueType.INTEGER:
        _check_int(value)
    elif value_type is ValueType.DOUBLE:
        if not math.isfinite(value):
            raise ValueValidationError("NaN and Infinity cannot be stored: type a finite number.")
    elif value_type is ValueType.JSON:
        if not isinstance(value, dict | list):
            raise ValueValidationError("A JSON value must be an object or an array.")
        _check_json_tree(value)
    elif value_type is ValueType.STRING:
        if not isinstance(value, str):
            raise ValueValidationError(f"Unsupported value of type {type(value).__name__}.")
        _check_string(value)
    return value


def validate_key(key: str, taken: Collection[str] = ()) -> str:
    """A key must be non-empty, not only spaces, not too long, and not already used in its scope."""
    if not key or not key.strip():
        raise ValueValidationError("The key must not be empty.")
    if key != key.strip():
        raise ValueValidationError("The key must not start or end with spaces.")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueValidationError(f"The key is longer than {MAX_KEY_LENGTH} characters.")
    if "\x00" in key:
        raise ValueValidationError("The key must not contain a NUL character.")
    if key in taken:
        raise ValueValidationError(f"The key {_quote(key)} already exists in this scope.")
    return key


def values_equal(a: Any, b: Any) -> bool:
    """Equal in value AND type: True is not 1, 1 is not 1.0 (ThingsBoard keeps LONG and DOUBLE apart)."""
    if a is None or b is None:
        return a is None and b is None
    ta, tb = type_of(a), type_of(b)
    if ta is not tb:
        return False
    if ta is ValueType.JSON:
        if isinstance(a, dict) != isinstance(b, dict) or len(a) != len(b):
            return False
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
        return all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def same_as_written(written: Any, echoed: Any) -> bool:
    """True when `echoed` is what the server made of `written`, not someone else's change.

    ThingsBoard stores numeric text as a number (reference §5.4) and its socket sends JSON values as text;
    PocketBase keeps values in a JSON field, where a whole double comes back as an integer.
    """
    if values_equal(written, echoed):
        return True
    if isinstance(echoed, str) and type_of(written) is ValueType.JSON:
        return values_equal(written, _json_or_none(echoed))
    if _is_number(written) and _is_number(echoed):  # PocketBase's JSON field gives 24.0 back as 24
        return float(written) == float(echoed)
    if isinstance(written, str) and _is_number(echoed):
        stripped = written.strip()
        return bool(_DOUBLE.fullmatch(stripped)) and float(stripped) == float(echoed)
    return False


def looks_numeric(text: str) -> bool:
    """Text that ThingsBoard would store as a number rather than a string (reference §5.4)."""
    return bool(_DOUBLE.fullmatch(text.strip()))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def coerce_like(value: Any, like: Any) -> Any:
    """A live value in the type of the value it replaces when it is just that type's text (JSON sent as text)."""
    if isinstance(value, str) and like is not None and type_of(like) is ValueType.JSON:
        parsed = _json_or_none(value)
        if isinstance(parsed, dict | list):
            return parsed
    return value


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_equal(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return values_equal(a, b)


# --- helpers --------------------------------------------------------------------------------------


def _quote(text: str, limit: int = 40) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"“{shown}”"


def _check_int(number: int) -> None:
    if not INT64_MIN <= number <= INT64_MAX:
        raise ValueValidationError("The number does not fit in 64 bits (−9223372036854775808 … 9223372036854775807).")


def _check_string(text: str) -> None:
    if "\x00" in text:  # PostgreSQL text columns refuse NUL; the server would answer 500
        raise ValueValidationError("The text must not contain a NUL character.")


def _refuse_constant(name: str) -> Any:
    raise ValueValidationError(f"{name} is not valid JSON: type a finite number.")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueValidationError(f"The key {_quote(key)} appears twice in the same JSON object.")
        result[key] = value
    return result


def _parse_json(text: str) -> Any:
    if not text.strip():
        raise ValueValidationError("JSON value is empty: type an object {…} or an array […].", line=1, column=1)
    try:
        value = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise ValueValidationError(
            f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.", line=exc.lineno, column=exc.colno
        ) from exc
    except RecursionError as exc:
        raise ValueValidationError("The JSON value is nested too deeply.") from exc
    if not isinstance(value, dict | list):
        raise ValueValidationError(
            "A JSON value must be an object {…} or an array […]; pick another type for a single value.",
            line=1,
            column=1,
        )
    _check_json_tree(value)
    return value


def _check_json_tree(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int):
            _check_int(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueValidationError("NaN and Infinity are not valid JSON.")
        elif isinstance(item, str):
            _check_string(item)
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    raise ValueValidationError("JSON object keys must be text.")
                _check_string(key)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        else:
            raise ValueValidationError(f"Unsupported value of type {type(item).__name__} inside JSON.")
