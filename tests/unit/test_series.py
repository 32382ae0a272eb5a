"""Series bookkeeping: history pages, live points and backfills join into each point once, in order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.fleet.base import Point
from console.fleet.series import Series, SeriesBuffer, clean_points, clip_to_range, peak_downsample, to_number


def pts(*pairs: tuple[int, object]) -> list[Point]:
    return [Point(ts=ts, value=value) for ts, value in pairs]


# --- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, (1.0, False)),
        (2.5, (2.5, False)),
        ("23.5", (23.5, False)),
        (" -4 ", (-4.0, False)),
        (True, (1.0, True)),
        (False, (0.0, True)),
        ("true", (1.0, True)),
        ("FALSE", (0.0, True)),
        ("ERR", (None, False)),
        ("", (None, False)),
        ("nan", (None, False)),
        (float("inf"), (None, False)),
        (None, (None, False)),
        ({"a": 1}, (None, False)),
    ],
)
def test_to_number_never_turns_text_into_zero(value: object, expected: tuple[float | None, bool]) -> None:
    assert to_number(value) == expected


def test_clean_points_counts_what_it_skips() -> None:
    clean = clean_points(pts((1, "1.5"), (2, "offline"), (3, 3), (4, None), (5, True)))
    assert clean.ts.tolist() == [1, 3, 5]
    assert clean.values.tolist() == [1.5, 3.0, 1.0]
    assert clean.skipped == 2
    assert clean.skipped_sample == "'offline'"
    assert clean.booleans == 1


def test_series_notes_non_numeric_values_instead_of_drawing_zeros() -> None:
    series = Series("d1", "status", device_name="Pump 1")
    series.add_points(pts((1, 5)))
    series.add_points(pts((2, "ERR")))
    series.add_points(pts((3, "ERR"), (4, 7)))
    assert series.buffer.values.tolist() == [5.0, 7.0]
    assert 0.0 not in series.buffer.values.tolist()
    assert series.skipped == 2
    assert series.skipped_note() == "Pump 1 · status: 2 non-numeric values not drawn (e.g. 'ERR')"


def test_boolean_series_is_flagged_for_markers() -> None:
    series = Series("d1", "door")
    series.add_points(pts((1, True), (2, "false")))
    assert series.is_boolean
    series.add_points(pts((3, 4.5)))
    assert not series.is_boolean


# --- the buffer ------------------------------------------------------------------------------------


def test_append_in_order_and_duplicates_collapse() -> None:
    buf = SeriesBuffer(capacity=100)
    for ts in (10, 20, 30):
        buf.append(ts, ts / 10)
    buf.append(20, 99.0)  # same timestamp again: replaced, not added
    buf.append(15, 1.5)  # late: inserted in order
    assert buf.ts.tolist() == [10, 15, 20, 30]
    assert buf.values.tolist() == [1.0, 1.5, 99.0, 3.0]


def test_capacity_drops_the_oldest_and_views_stay_contiguous() -> None:
    buf = SeriesBuffer(capacity=50)
    for ts in range(1, 1001):
        buf.append(ts, float(ts))
    assert len(buf) == 50
    assert buf.ts.tolist() == list(range(951, 1001))
    assert buf.values.flags["C_CONTIGUOUS"]
    assert buf.first_ts == 951 and buf.last_ts == 1000


def test_drop_before_forgets_old_points_and_appends_still_work() -> None:
    buf = SeriesBuffer(capacity=100)
    buf.merge(np.arange(0, 50), np.arange(50, dtype=float))
    assert buf.drop_before(20) == 20
    assert buf.first_ts == 20 and len(buf) == 30
    assert buf.drop_before(5) == 0
    for ts in range(50, 300):
        buf.append(ts, float(ts))
    assert buf.ts.tolist() == list(range(200, 300))
    buf.append(10, -1.0)  # older than everything held: merged in order, then trimmed as the oldest
    assert buf.ts.tolist()[0] == 200 and len(buf) == 100


def test_merge_returns_the_number_of_new_points() -> None:
    buf = SeriesBuffer()
    assert buf.merge(np.array([5, 1, 3]), np.array([5.0, 1.0, 3.0])) == 3
    assert buf.merge(np.array([3, 4, 4]), np.array([3.0, 4.0, 4.5])) == 1
    assert buf.ts.tolist() == [1, 3, 4, 5]
    assert buf.values.tolist() == [1.0, 3.0, 4.5, 5.0]


def test_version_moves_on_every_change_only() -> None:
    buf = SeriesBuffer()
    v0 = buf.version
    buf.append(1, 1.0)
    assert buf.version > v0
    v1 = buf.version
    buf.merge(np.array([], dtype=np.int64), np.array([]))
    assert buf.version == v1


def test_window_nearest_and_remove_range() -> None:
    buf = SeriesBuffer()
    buf.merge(np.arange(0, 100, 10), np.arange(10, dtype=float))
    ts, values = buf.window(15, 45)
    assert ts.tolist() == [20, 30, 40] and values.tolist() == [2.0, 3.0, 4.0]
    assert buf.nearest(44) == (40, 4.0)
    assert buf.nearest(46) == (50, 5.0)
    assert buf.nearest(-5) == (0, 0.0)
    assert buf.nearest(1000) == (90, 9.0)
    assert buf.remove_range(20, 50) == 3
    assert buf.ts.tolist() == [0, 10, 50, 60, 70, 80, 90]


# --- aggregated history joined to a raw live tail -------------------------------------------------


def test_aggregated_history_drops_raw_points_inside_its_buckets() -> None:
    series = Series("d1", "t")
    series.add_points(pts((950, 1), (1001, 2)))  # live points that arrived while the history loaded
    series.load_history(pts((0, 10), (500, 11)), end_ms=1000, aggregated=True)
    series.add_points(pts((999, 3), (1002, 4)))  # late live point inside the buckets, then the tail
    assert series.buffer.ts.tolist() == [0, 500, 1001, 1002]
    assert series.buffer.values.tolist() == [10.0, 11.0, 2.0, 4.0]


def test_reset_forgets_points_cut_off_and_notes() -> None:
    series = Series("d1", "t")
    series.load_history(pts((0, "x"), (1, 2)), end_ms=10, aggregated=True)
    series.reset()
    assert len(series.buffer) == 0 and series.raw_from is None and series.skipped == 0
    series.add_points(pts((5, 1)))
    assert series.buffer.ts.tolist() == [5]


# --- drawing helpers ---------------------------------------------------------------------------------


def test_clip_keeps_one_neighbour_each_side() -> None:
    x = np.arange(10, dtype=float)
    cx, cy = clip_to_range(x, x * 2, 3.5, 6.2)
    assert cx.tolist() == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert cy.tolist() == [6.0, 8.0, 10.0, 12.0, 14.0]


def test_peak_downsample_keeps_spikes_and_bounds_the_size() -> None:
    x = np.arange(100_000, dtype=float)
    y = np.zeros(100_000)
    y[54_321] = 1000.0
    y[77_777] = -500.0
    dx, dy = peak_downsample(x, y, 1000)
    assert len(dx) <= 1100
    assert dy.max() == 1000.0 and dy.min() == -500.0
    assert np.all(np.diff(dx) >= 0)
    same_x, _ = peak_downsample(x[:500], y[:500], 1000)
    assert len(same_x) == 500


# --- the property: any interleaving yields each point once, in order -------------------------------

truths = st.dictionaries(st.integers(0, 10_000), st.integers(-1000, 1000), min_size=1, max_size=60)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[dict[int, int], list[tuple[str, list[int]]]]:
    """A truth (ts -> value) and deliveries that together cover it: history pages, live runs, backfills."""
    truth = draw(truths)
    keys = sorted(truth)
    ops: list[tuple[str, list[int]]] = []
    # History: windowed pages (contiguous slices, possibly overlapping).
    cut = draw(st.integers(0, len(keys)))
    page = draw(st.integers(1, 10))
    for i in range(0, cut, page):
        lo = max(0, i - draw(st.integers(0, 2)))
        ops.append(("history", keys[lo : i + page]))
    # Live: in order, but some points are lost (a disconnect) and some repeated.
    live = [k for k in keys if draw(st.booleans()) or k >= keys[cut - 1 if cut else 0]]
    chunk = draw(st.integers(1, 5))
    for i in range(0, len(live), chunk):
        ops.append(("live", live[i : i + chunk]))
    # Backfills after reconnects: from some point held up to 'now', covering whatever was lost.
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(keys) - 1))
        ops.append(("backfill", keys[start:]))
    ops.append(("backfill", keys))  # the last backfill reaches back to the first gap
    order = draw(st.permutations(range(len(ops))))
    return truth, [ops[i] for i in order]


@settings(max_examples=300, deadline=None)
@given(deliveries(), st.sampled_from([8, 10_000]))
def test_any_interleaving_yields_each_point_once_in_order(
    case: tuple[dict[int, int], list[tuple[str, list[int]]]], capacity: int
) -> None:
    truth, ops = case
    series = Series("d1", "t", capacity=capacity)
    for kind, keys in ops:
        points = [Point(ts=k, value=str(truth[k]) if kind == "history" else truth[k]) for k in keys]
        if kind == "history":
            series.load_history(points, end_ms=10_001, aggregated=False)
        else:
            series.add_points(points)
        ts = series.buffer.ts
        assert np.all(ts[1:] > ts[:-1]), "always ascending, never a duplicate"
        assert all(truth[int(t)] == v for t, v in zip(ts, series.buffer.values, strict=True)), "never a wrong value"
    expected = sorted(truth)[-capacity:]
    got = series.buffer.ts.tolist()
    if capacity >= len(truth):
        assert got == expected
        assert series.buffer.values.tolist() == [float(truth[k]) for k in expected]
    else:
        assert len(got) <= capacity and set(got) <= set(truth)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.floats(-1e6, 1e6)), max_size=200), st.integers(1, 64))
def test_buffer_matches_a_dict_model(ops: list[tuple[int, float]], capacity: int) -> None:
    """Appends in any order behave like a dict keyed by ts (last write wins), keeping the newest `capacity`."""
    buf = SeriesBuffer(capacity=capacity)
    model: dict[int, float] = {}
    for ts, value in ops:
        buf.append(ts, value)
        model[ts] = value
        kept = sorted(model)[-capacity:]
        # Trimmed points are gone for good; keep the model in step.
        model = {k: model[k] for k in kept}
        assert buf.ts.tolist() == kept
        assert buf.values.tolist() == [model[k] for k in kept]
