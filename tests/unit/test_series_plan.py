"""History plans, time ranges and reconnect gaps for charts."""

from __future__ import annotations

import pytest

from console.fleet.series_plan import (
    DAY,
    HOUR,
    MINUTE,
    PRESETS,
    GapTracker,
    TimeRange,
    backfill_window,
    format_interval,
    plan_history,
)


def test_short_ranges_are_raw_long_ones_aggregated_with_a_label() -> None:
    assert plan_history(5 * MINUTE).label == "raw points"
    assert not plan_history(HOUR).aggregated
    day = plan_history(DAY)
    assert day.aggregated and day.agg == "AVG"
    assert DAY // day.interval_ms <= 1500
    assert day.label == "AVG per 1 min"
    week = plan_history(7 * DAY)
    assert week.label == "AVG per 10 min"
    assert 7 * DAY // week.interval_ms <= 1500


@pytest.mark.parametrize("span", [3 * HOUR, 2 * DAY, 30 * DAY, 365 * DAY, 5000 * DAY])
def test_aggregation_never_exceeds_the_bucket_budget(span: int) -> None:
    plan = plan_history(span)
    assert plan.aggregated
    assert span / plan.interval_ms <= 1500


def test_format_interval() -> None:
    assert format_interval(2 * MINUTE) == "2 min"
    assert format_interval(DAY) == "1 d"
    assert format_interval(1500) == "1500 ms"


def test_presets_and_custom_ranges() -> None:
    assert [p.label for p in PRESETS] == ["5 min", "1 h", "24 h", "7 days"]
    assert PRESETS[0].live and PRESETS[0].bounds(1_000_000) == (700_000, 1_000_000)
    custom = TimeRange.custom(100, 600)
    assert not custom.live and custom.bounds(10**9) == (100, 600)
    with pytest.raises(ValueError):
        TimeRange.custom(600, 100)


def test_gap_tracker_opens_once_and_closes_into_pending() -> None:
    gaps = GapTracker()
    assert gaps.came_online(5) is None
    first = gaps.went_offline(100)
    assert gaps.went_offline(150) is first and first.start_ms == 100  # reconnecting, then failed: one gap
    assert gaps.offline
    closed = gaps.came_online(400)
    assert closed is first and closed.end_ms == 400 and not gaps.offline
    assert gaps.pending == [first]
    gaps.filled(first)
    assert gaps.pending == []


def test_backfill_window_starts_after_the_last_point_and_stays_in_range() -> None:
    assert backfill_window(1000, 0, 5000) == (1001, 5001)
    assert backfill_window(None, 200, 5000) == (200, 5001)
    assert backfill_window(10, 200, 5000) == (200, 5001)
    assert backfill_window(1000, 0, 5000, raw_from=3000) == (3000, 5001)


def test_backfill_resumes_from_the_marks_taken_when_the_feed_dropped() -> None:
    gaps = GapTracker()
    gaps.went_offline(100, {"a": 90, "b": None})
    gaps.went_offline(120, {"a": 95})  # the same outage: the first marks stay
    gaps.came_online(200)
    gaps.went_offline(300, {"a": 250, "b": 260})
    gaps.came_online(400)
    assert gaps.resume_mark("a") == 90  # the earliest pending gap wins
    assert gaps.resume_mark("b") is None  # had no point then: from the range start
    assert gaps.resume_mark("c") is None  # added during the outage
    for gap in list(gaps.pending):
        gaps.filled(gap)
    assert gaps.resume_mark("a") is None
