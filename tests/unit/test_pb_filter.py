"""The filter builder binds values; user text can never change the filter's structure."""

from __future__ import annotations

import datetime as dt

import pytest

from console.pocketbase import PocketBase, build_filter, format_filter_value


def test_types_become_literals() -> None:
    assert format_filter_value(None) == "null"
    assert format_filter_value(True) == "true" and format_filter_value(False) == "false"
    assert format_filter_value(42) == "42" and format_filter_value(-1.5) == "-1.5"
    assert format_filter_value("plain") == "'plain'"
    assert format_filter_value({"a": [1, "x"]}) == """'{"a":[1,"x"]}'"""


def test_quotes_and_backslashes_are_escaped() -> None:
    assert format_filter_value("it's") == r"'it\'s'"
    assert format_filter_value("\\") == r"'\\'"
    assert format_filter_value("x' || id != '") == r"'x\' || id != \''"


def test_datetimes_are_utc_in_the_servers_format() -> None:
    when = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_filter_value(when) == "'2024-05-06 05:08:09.123Z'"
    assert format_filter_value(dt.date(2024, 1, 2)) == "'2024-01-02'"


def test_non_finite_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        format_filter_value(float("nan"))


def test_placeholders_are_filled_and_missing_ones_refused() -> None:
    assert (
        build_filter("status = {:status} && name ~ {:q} && n > {:n}", status=True, q="a'b", n=3)
        == r"status = true && name ~ 'a\'b' && n > 3"
    )
    assert build_filter("a = {:x}", {"x": 1}) == "a = 1"
    assert PocketBase.filter("a = {:x} || b = {:x}", x="v") == "a = 'v' || b = 'v'"
    with pytest.raises(KeyError, match="missing"):
        build_filter("a = {:missing}")
    # a placeholder-looking value is data, not a second substitution
    assert build_filter("a = {:x} && b = {:y}", x="{:y}", y="z") == "a = '{:y}' && b = 'z'"
