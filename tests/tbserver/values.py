"""Value typing and time-series maths shared by the REST routes, the entity query and the WebSocket part.

Everything here is pure: typed Python values in, typed values or ThingsBoard's strings out.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

AGGREGATIONS = ("NONE", "AVG", "MIN", "MAX", "SUM", "COUNT")
_INT_RE = re.compile(r"^[+-]?\d+$")
_DOUBLE_RE = re.compile(r"^[+-]?\d+\.(\d+)$")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def cast_value(value: Any) -> Any:
    """Type a written value as ThingsBoard does (§5.4): numeric-looking strings become numbers.

    Returns bool, int (LONG), float (DOUBLE), str, or a dict/list (JSON).
    """
    if isinstance(value, str):
        text = value.strip()
        if _INT_RE.match(text):
            number = int(text)
            return number if _LONG_MIN <= number <= _LONG_MAX else value
        match = _DOUBLE_RE.match(text)
        if match and len(match.group(1)) <= 16:
            return float(text)
        return value
    if isinstance(value, int) and not isinstance(value, bool) and not _LONG_MIN <= value <= _LONG_MAX:
        return str(value)
    return value


def java_double(value: float) -> str:
    """Java's Double.toString: plain decimal in [1e-3, 1e7), otherwise `d.dddE±n` (what ThingsBoard prints)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    magnitude = abs(value)
    if magnitude == 0 or 1e-3 <= magnitude < 1e7:
        return repr(value)
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    mantissa = text[0] + "." + (text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{len(text) - 1 + int(exponent)}"


def as_text(value: Any) -> str:
    """The string form used by non-strict REST time series, entity queries and WebSocket updates."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def aggregate(
    points: Iterable[tuple[int, Any]], start_ts: int, end_ts: int, interval: int, agg: str
) -> list[tuple[int, Any]]:
    """Bucket [startTs, endTs) into `interval` slices; each non-empty bucket yields a point at its midpoint.

    `points` are (ts, value) in any order. Result is ascending by ts.
    """
    buckets: dict[int, list[Any]] = {}
    for ts, value in points:
        if start_ts <= ts < end_ts:
            buckets.setdefault((ts - start_ts) // interval, []).append(value)
    result: list[tuple[int, Any]] = []
    for index in sorted(buckets):
        begin = start_ts + index * interval
        finish = min(begin + interval, end_ts)
        values = buckets[index]
        numbers = [v for v in values if is_number(v)]
        if agg == "COUNT":
            result.append((begin + (finish - begin) // 2, len(values)))
            continue
        if not numbers:
            continue
        if agg == "AVG":
            out: Any = float(sum(numbers)) / len(numbers)
        elif agg == "SUM":
            total = sum(numbers)
            out = total if all(isinstance(v, int) for v in numbers) else float(total)
        elif agg == "MIN":
            out = min(numbers)
        else:
            out = max(numbers)
        result.append((begin + (finish - begin) // 2, out))
    return result
