"""What a chart asks the server for: time ranges, the history plan (raw or aggregated) and reconnect gaps.

Pure arithmetic with its own tests. The chart widget turns these into `Fleet.telemetry_history` calls:
short ranges come raw, long ones aggregated (AVG over a round interval, so at most ~`MAX_BUCKETS` points per series,
and the chart says so); a connection gap is backfilled from each series' last timestamp to the moment the live feed
came back, and the overlap with live points collapses in `SeriesBuffer`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "MAX_BUCKETS",
    "PRESETS",
    "RAW_LIMIT_MS",
    "Gap",
    "GapTracker",
    "HistoryPlan",
    "TimeRange",
    "backfill_window",
    "format_interval",
    "plan_history",
]

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

RAW_LIMIT_MS = 2 * HOUR  # up to this span the history comes point by point
MAX_BUCKETS = 1500  # beyond it, aggregated into at most this many buckets per series
_NICE_INTERVALS = (
    SECOND, 5 * SECOND, 10 * SECOND, 30 * SECOND,
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 7 * DAY,
)  # fmt: skip


@dataclass(frozen=True)
class TimeRange:
    """A chart's time window: the last `span_ms` (following the clock) or a fixed [end_ms - span_ms, end_ms)."""

    span_ms: int
    end_ms: int | None = None
    label: str = ""

    @property
    def live(self) -> bool:
        return self.end_ms is None

    def bounds(self, now_ms: int) -> tuple[int, int]:
        end = now_ms if self.end_ms is None else self.end_ms
        return end - self.span_ms, end

    @classmethod
    def custom(cls, start_ms: int, end_ms: int) -> TimeRange:
        if end_ms <= start_ms:
            raise ValueError("the range must end after it starts")
        return cls(span_ms=end_ms - start_ms, end_ms=end_ms, label="custom")


PRESETS: tuple[TimeRange, ...] = (
    TimeRange(5 * MINUTE, label="5 min"),
    TimeRange(HOUR, label="1 h"),
    TimeRange(DAY, label="24 h"),
    TimeRange(7 * DAY, label="7 days"),
)


@dataclass(frozen=True)
class HistoryPlan:
    agg: str  # "NONE" or "AVG" (the Fleet's names)
    interval_ms: int  # 0 when raw

    @property
    def aggregated(self) -> bool:
        return self.agg != "NONE"

    @property
    def label(self) -> str:
        """What the chart shows next to the range, so an averaged line is never mistaken for raw data."""
        if not self.aggregated:
            return "raw points"
        return f"{self.agg} per {format_interval(self.interval_ms)}"


def plan_history(span_ms: int, *, raw_limit_ms: int = RAW_LIMIT_MS, max_buckets: int = MAX_BUCKETS) -> HistoryPlan:
    """Raw history for short spans; AVG over the smallest round interval giving at most max_buckets buckets."""
    if span_ms <= raw_limit_ms:
        return HistoryPlan("NONE", 0)
    wanted = span_ms / max_buckets
    for interval in _NICE_INTERVALS:
        if interval >= wanted:
            return HistoryPlan("AVG", interval)
    return HistoryPlan("AVG", int(-(-span_ms // max_buckets)))


def format_interval(ms: int) -> str:
    for unit, name in ((DAY, "d"), (HOUR, "h"), (MINUTE, "min"), (SECOND, "s")):
        if ms >= unit and ms % unit == 0:
            return f"{ms // unit} {name}"
    return f"{ms} ms"


@dataclass
class Gap:
    """A stretch when the live feed was down: [start_ms, end_ms), end None while it is still down."""

    start_ms: int
    end_ms: int | None = None
    # Each series' last timestamp when the drop was noticed: the backfill starts there, not at the last point
    # held when it runs (live points that arrive after the reconnect would hide the gap).
    marks: dict[Hashable, int | None] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.end_ms is None


class GapTracker:
    """Follows the live feed's up/down transitions and remembers the gaps still to backfill."""

    def __init__(self) -> None:
        self.current: Gap | None = None  # the feed is down right now
        self.pending: list[Gap] = []  # closed gaps not yet backfilled

    @property
    def offline(self) -> bool:
        return self.current is not None

    def went_offline(self, now_ms: int, marks: Mapping[Hashable, int | None] | None = None) -> Gap:
        """Open a gap, remembering each series' last timestamp (`marks`).

        Idempotent: a second 'down' (reconnecting, then failed) keeps the first start and marks.
        """
        if self.current is None:
            self.current = Gap(now_ms, marks=dict(marks or {}))
        return self.current

    def resume_mark(self, ident: Hashable) -> int | None:
        """Where a series' backfill starts: its mark in the earliest pending gap (None: from the range start)."""
        marks = [gap.marks.get(ident) for gap in self.pending]
        if not marks or any(m is None for m in marks):
            return None
        return min(m for m in marks if m is not None)

    def came_online(self, now_ms: int) -> Gap | None:
        """Close the open gap (if any) and return it: it now needs a backfill."""
        gap = self.current
        if gap is None:
            return None
        gap.end_ms = max(now_ms, gap.start_ms)
        self.current = None
        self.pending.append(gap)
        return gap

    def filled(self, gap: Gap) -> None:
        if gap in self.pending:
            self.pending.remove(gap)

    def reset(self) -> None:
        self.current = None
        self.pending.clear()


def backfill_window(
    last_ts: int | None, range_start_ms: int, now_ms: int, raw_from: int | None = None
) -> tuple[int, int]:
    """The [start, end) to refetch for one series after a reconnect.

    From just after its last point when the drop was noticed (`GapTracker.resume_mark`: whatever went missing
    before the drop was noticed is caught too), never
    before the chart's range or the aggregated buckets; up to now inclusive (the end is exclusive, hence + 1).
    Live points that also arrived during the backfill collapse by timestamp.
    """
    start = range_start_ms if last_ts is None else last_ts + 1
    start = max(start, range_start_ms)
    if raw_from is not None:
        start = max(start, raw_from)
    return start, max(now_ms + 1, start)
