"""Series bookkeeping for live charts: history joined to the live tail, each point once, in order.

A chart series is fed from three places that overlap and interleave freely: REST history pages, live socket
messages and the backfills fetched after a reconnect. `SeriesBuffer` keeps one series as ascending, de-duplicated
numpy arrays (a double buffer, so the chart always gets contiguous views without copying); `Series` adds value
cleaning (non-numbers are counted, never drawn as zeros) and the aggregated-history cut-off. Pure: numpy only, no Qt,
so it is imported only when a chart opens and is unit-tested without a display.

    history page ─┐
    live points  ─┼─► Series.add_* ─► clean ─► SeriesBuffer.merge ─► ts / values views ─► chart
    backfill     ─┘      (drop ts < raw_from when history is aggregated)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from console.fleet.base import Point

__all__ = [
    "DEFAULT_CAPACITY",
    "Series",
    "SeriesBuffer",
    "clean_points",
    "clip_to_range",
    "peak_downsample",
    "to_number",
]

DEFAULT_CAPACITY = 100_000  # points kept per series; the oldest go first (≈ 2.8 h at 10 Hz, 1.6 MB a series)

_TRUE = frozenset({"true", "on", "yes"})
_FALSE = frozenset({"false", "off", "no"})


def to_number(value: Any) -> tuple[float | None, bool]:
    """A drawable float for a telemetry value (or None), and whether it was a boolean.

    ThingsBoard sends numbers as strings ("23.5"); booleans become 1/0 (drawn as markers); NaN, infinities, text and
    JSON are not numbers and return None so the caller can skip them visibly instead of drawing zeros.
    """
    if isinstance(value, bool):
        return (1.0 if value else 0.0), True
    if isinstance(value, int | float):
        number = float(value)
        return (number if math.isfinite(number) else None), False
    if isinstance(value, str):
        text = value.strip()
        lowered = text.lower()
        if lowered in _TRUE:
            return 1.0, True
        if lowered in _FALSE:
            return 0.0, True
        try:
            number = float(text)
        except ValueError:
            return None, False
        return (number if math.isfinite(number) else None), False
    return None, False


class CleanPoints:
    """Points turned into arrays, plus what had to be skipped."""

    __slots__ = ("booleans", "numbers", "skipped", "skipped_sample", "ts", "values")

    def __init__(self, ts: np.ndarray, values: np.ndarray, skipped: int, sample: str | None, booleans: int) -> None:
        self.ts = ts
        self.values = values
        self.skipped = skipped
        self.skipped_sample = sample
        self.booleans = booleans
        self.numbers = len(ts) - booleans


def clean_points(points: Iterable[Point]) -> CleanPoints:
    """Split points into drawable (ts, float) arrays and a count of the values that are not numbers."""
    ts: list[int] = []
    values: list[float] = []
    skipped = 0
    booleans = 0
    sample: str | None = None
    for point in points:
        number, is_bool = to_number(point.value)
        if number is None:
            skipped += 1
            if sample is None:
                sample = _short(point.value)
            continue
        ts.append(int(point.ts))
        values.append(number)
        booleans += is_bool
    return CleanPoints(np.asarray(ts, dtype=np.int64), np.asarray(values, dtype=np.float64), skipped, sample, booleans)


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 24 else text[:23] + "…"


class SeriesBuffer:
    """One series as ascending, unique timestamps (ms) and float values, capped at `capacity` points.

    Appends in time order are O(1) amortised (the double-buffer trick: arrays twice the capacity, compacted to the
    front when the end is reached), so socket messages only append. Anything out of order (a history page, a
    backfill) goes through `merge`, which sorts and de-duplicates; on equal timestamps the value delivered last wins,
    as on the server, where a later write at the same ts replaces the earlier one.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self._ts = np.empty(0, dtype=np.int64)
        self._values = np.empty(0, dtype=np.float64)
        self._start = 0
        self._end = 0
        self.version = 0  # bumped on every change: the chart redraws a series when its version moved

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def ts(self) -> np.ndarray:
        """Timestamps in ms, ascending and unique (a view: do not keep it across changes)."""
        return self._ts[self._start : self._end]

    @property
    def values(self) -> np.ndarray:
        return self._values[self._start : self._end]

    @property
    def first_ts(self) -> int | None:
        return int(self._ts[self._start]) if len(self) else None

    @property
    def last_ts(self) -> int | None:
        return int(self._ts[self._end - 1]) if len(self) else None

    def clear(self) -> None:
        self._start = self._end = 0
        self.version += 1

    def append(self, ts: int, value: float) -> None:
        """Add one point; the fast path when it is newer than everything held."""
        last = self.last_ts
        if last is not None and ts <= last:
            self.merge(np.asarray([ts], dtype=np.int64), np.asarray([value], dtype=np.float64))
            return
        if self._end == len(self._ts):
            self._make_room(1)
        self._ts[self._end] = ts
        self._values[self._end] = value
        self._end += 1
        self._trim()
        self.version += 1

    def merge(self, ts: np.ndarray, values: np.ndarray) -> int:
        """Add points in any order (duplicates allowed); returns how many timestamps are new."""
        if len(ts) == 0:
            return 0
        ts = np.asarray(ts, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        last = self.last_ts
        if (last is None or ts[0] > last) and (len(ts) == 1 or bool(np.all(ts[1:] > ts[:-1]))):
            # Strictly increasing and newer than what we hold: a plain append.
            self._make_room(len(ts))
            self._ts[self._end : self._end + len(ts)] = ts
            self._values[self._end : self._end + len(ts)] = values
            self._end += len(ts)
            self._trim()
            self.version += 1
            return len(ts)
        before = len(self)
        all_ts = np.concatenate([self.ts, ts])
        all_values = np.concatenate([self.values, values])
        order = np.argsort(all_ts, kind="stable")
        sorted_ts = all_ts[order]
        keep = np.empty(len(sorted_ts), dtype=bool)
        keep[:-1] = sorted_ts[1:] != sorted_ts[:-1]  # the last of each run of equal ts wins
        keep[-1] = True
        self._replace(sorted_ts[keep], all_values[order][keep])
        return len(self) - before

    def remove_range(self, start_ms: int, end_ms: int) -> int:
        """Drop the points with start_ms <= ts < end_ms; returns how many went."""
        lo = int(np.searchsorted(self.ts, start_ms, side="left"))
        hi = int(np.searchsorted(self.ts, end_ms, side="left"))
        if hi <= lo:
            return 0
        ts, values = self.ts, self.values
        self._replace(np.concatenate([ts[:lo], ts[hi:]]), np.concatenate([values[:lo], values[hi:]]))
        return hi - lo

    def drop_before(self, ts_ms: int) -> int:
        """Forget the points older than ts_ms (a live window moving on); O(log n), nothing is copied."""
        count = int(np.searchsorted(self.ts, ts_ms, side="left"))
        if count:
            self._start += count
            self.version += 1
        return count

    def window(self, start_ms: float, end_ms: float) -> tuple[np.ndarray, np.ndarray]:
        """Views of the points with start_ms <= ts <= end_ms."""
        lo = int(np.searchsorted(self.ts, start_ms, side="left"))
        hi = int(np.searchsorted(self.ts, end_ms, side="right"))
        return self.ts[lo:hi], self.values[lo:hi]

    def nearest(self, ts_ms: float) -> tuple[int, float] | None:
        """The point closest in time to ts_ms (for the crosshair read-out)."""
        if not len(self):
            return None
        ts = self.ts
        i = int(np.searchsorted(ts, ts_ms))
        if i >= len(ts) or (i > 0 and ts_ms - ts[i - 1] <= ts[i] - ts_ms):
            i -= 1
        return int(ts[i]), float(self.values[i])

    # --- storage -------------------------------------------------------------------------------

    def _replace(self, ts: np.ndarray, values: np.ndarray) -> None:
        ts, values = ts[-self.capacity :], values[-self.capacity :]
        size = max(16, 2 * len(ts))
        self._ts = np.empty(size, dtype=np.int64)
        self._values = np.empty(size, dtype=np.float64)
        self._ts[: len(ts)] = ts
        self._values[: len(ts)] = values
        self._start, self._end = 0, len(ts)
        self.version += 1

    def _make_room(self, extra: int) -> None:
        """Make `extra` slots free after the end: compact to the front, or grow (amortised O(1) per append)."""
        if self._end + extra <= len(self._ts):
            return
        n = len(self)
        needed = n + extra
        if needed <= len(self._ts) // 2:
            self._ts[:n] = self._ts[self._start : self._end]
            self._values[:n] = self._values[self._start : self._end]
        else:
            size = max(16, 2 * needed)
            new_ts = np.empty(size, dtype=np.int64)
            new_values = np.empty(size, dtype=np.float64)
            new_ts[:n] = self._ts[self._start : self._end]
            new_values[:n] = self._values[self._start : self._end]
            self._ts, self._values = new_ts, new_values
        self._start, self._end = 0, n

    def _trim(self) -> None:
        if len(self) > self.capacity:
            self._start = self._end - self.capacity


class Series:
    """One (device, key) line of a chart: its buffer, what was skipped, and how history joins the live tail.

    Raw history and live points simply merge (duplicates collapse by timestamp). Aggregated history covers
    [start, raw_from) with buckets, so live or backfilled raw points before `raw_from` are dropped (they are already
    inside a bucket) and raw points after it form the live tail.
    """

    def __init__(self, device_id: str, key: str, *, device_name: str = "", capacity: int = DEFAULT_CAPACITY) -> None:
        self.device_id = device_id
        self.key = key
        self.device_name = device_name  # '' on a single-device chart: the title is just the key
        self.buffer = SeriesBuffer(capacity)
        self.raw_from: int | None = None  # set when the history is aggregated
        self.skipped = 0
        self.skipped_sample: str | None = None
        self.booleans = 0
        self.numbers = 0

    @property
    def ident(self) -> tuple[str, str]:
        return self.device_id, self.key

    @property
    def title(self) -> str:
        return f"{self.device_name} · {self.key}" if self.device_name else self.key

    @property
    def is_boolean(self) -> bool:
        """Every drawable value so far was a boolean: draw markers, not a line."""
        return self.booleans > 0 and self.numbers == 0

    @property
    def last_ts(self) -> int | None:
        return self.buffer.last_ts

    def reset(self) -> None:
        """Forget everything (a new time range is being loaded)."""
        self.buffer.clear()
        self.raw_from = None
        self.skipped = self.booleans = self.numbers = 0
        self.skipped_sample = None

    def load_history(self, points: Sequence[Point], *, end_ms: int, aggregated: bool) -> int:
        """Merge a history page; with `aggregated`, buckets cover everything before end_ms."""
        if aggregated:
            self.raw_from = end_ms if self.raw_from is None else max(self.raw_from, end_ms)
            # Raw live points that arrived before the buckets did are inside a bucket now.
            self.buffer.remove_range(-(2**62), self.raw_from)
            return self._merge(points, min_ts=None)
        return self._merge(points, min_ts=self.raw_from)

    def add_points(self, points: Sequence[Point]) -> int:
        """Merge live or backfilled raw points; returns how many were new."""
        return self._merge(points, min_ts=self.raw_from)

    def _merge(self, points: Sequence[Point], *, min_ts: int | None) -> int:
        if not points:
            return 0
        if len(points) == 1 and min_ts is None:
            number, is_bool = to_number(points[0].value)
            if number is None:
                self._count_skipped(1, _short(points[0].value))
                return 0
            before = len(self.buffer)
            self.buffer.append(int(points[0].ts), number)
            self._count_kind(is_bool)
            return len(self.buffer) - before
        clean = clean_points(p for p in points if min_ts is None or p.ts >= min_ts)
        if clean.skipped:
            self._count_skipped(clean.skipped, clean.skipped_sample)
        self.booleans += clean.booleans
        self.numbers += clean.numbers
        return self.buffer.merge(clean.ts, clean.values)

    def _count_kind(self, is_bool: bool) -> None:
        if is_bool:
            self.booleans += 1
        else:
            self.numbers += 1

    def _count_skipped(self, count: int, sample: str | None) -> None:
        self.skipped += count
        if self.skipped_sample is None:
            self.skipped_sample = sample

    def skipped_note(self) -> str:
        """The visible note for values that are not numbers ('' when none were skipped)."""
        if not self.skipped:
            return ""
        plural = "value" if self.skipped == 1 else "values"
        return f"{self.title}: {self.skipped} non-numeric {plural} not drawn (e.g. {self.skipped_sample})"


# --- drawing helpers: clip to the view and peak-downsample before handing arrays to the curve -----------------


def clip_to_range(x: np.ndarray, y: np.ndarray, x0: float, x1: float) -> tuple[np.ndarray, np.ndarray]:
    """The points inside [x0, x1] plus one neighbour on each side, so the line runs to the plot's edges."""
    lo = max(int(np.searchsorted(x, x0, side="left")) - 1, 0)
    hi = min(int(np.searchsorted(x, x1, side="right")) + 1, len(x))
    return x[lo:hi], y[lo:hi]


def peak_downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep each bucket's minimum and maximum so spikes survive; at most ~max_points points come out.

    Like pyqtgraph's 'peak' mode, done here because PlotCurveItem (cheaper than PlotDataItem) does not downsample.
    """
    n = len(x)
    if max_points < 4 or n <= max_points:
        return x, y
    per_bucket = math.ceil(n / (max_points // 2))
    buckets = n // per_bucket
    used = buckets * per_bucket
    shaped = y[:used].reshape(buckets, per_bucket)
    out_x = np.empty(2 * buckets, dtype=np.float64)
    out_y = np.empty(2 * buckets, dtype=np.float64)
    out_x[0::2] = x[:used:per_bucket]
    out_x[1::2] = x[per_bucket - 1 : used : per_bucket]
    out_y[0::2] = shaped.min(axis=1)
    out_y[1::2] = shaped.max(axis=1)
    if used < n:  # the ragged last bucket: keep its points as they are (the newest data matters most)
        out_x = np.concatenate([out_x, x[used:].astype(np.float64)])
        out_y = np.concatenate([out_y, y[used:]])
    return out_x, out_y
