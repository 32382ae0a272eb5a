"""The value parser and validator: round-trips, and no invalid value is ever accepted."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.fleet.values import (
    INT64_MAX,
    INT64_MIN,
    ValueType,
    ValueValidationError,
    format_value,
    parse_value,
    type_of,
    validate_key,
    validate_value,
    value_summary,
    values_equal,
)

ints64 = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
finite = st.floats(allow_nan=False, allow_infinity=False)
texts = st.text().filter(lambda s: "\x00" not in s)
json_scalars = st.none() | st.booleans() | ints64 | finite | texts
json_trees = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=20,
)
json_values = st.lists(json_trees, max_size=4) | st.dictionaries(texts, json_trees, max_size=4)


@given(st.booleans())
def test_boolean_round_trip(value: bool) -> None:
    assert parse_value(format_value(value), ValueType.BOOLEAN) is value


@given(ints64)
def test_integer_round_trip(value: int) -> None:
    parsed = parse_value(format_value(value), ValueType.INTEGER)
    assert parsed == value and type(parsed) is int


@given(finite)
def test_double_round_trip(value: float) -> None:
    parsed = parse_value(format_value(value), ValueType.DOUBLE)
    assert parsed == value and type(parsed) is float
    assert math.copysign(1, parsed) == math.copysign(1, value)


@given(texts)
def test_string_round_trip(value: str) -> None:
    assert parse_value(format_value(value), ValueType.STRING) == value


@given(json_values)
@settings(max_examples=200)
def test_json_round_trip_keeps_types(value: object) -> None:
    parsed = parse_value(format_value(value), ValueType.JSON)
    assert values_equal(parsed, value)
    assert type_of(parsed) is ValueType.JSON


@given(st.integers(max_value=INT64_MIN - 1) | st.integers(min_value=INT64_MAX + 1))
def test_integer_outside_64_bits_is_refused(value: int) -> None:
    with pytest.raises(ValueValidationError, match="64 bits"):
        parse_value(str(value), ValueType.INTEGER)
    with pytest.raises(ValueValidationError):
        validate_value(value)
    with pytest.raises(ValueValidationError):
        parse_value(json.dumps({"n": value}), ValueType.JSON)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "+inf", "1e999"])
def test_nan_and_infinity_are_refused(text: str) -> None:
    with pytest.raises(ValueValidationError):
        parse_value(text, ValueType.DOUBLE)


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", '{"a": -Infinity}'])
def test_nan_inside_json_is_refused(text: str) -> None:
    with pytest.raises(ValueValidationError):
        parse_value(text, ValueType.JSON)


@given(st.sampled_from([math.nan, math.inf, -math.inf]))
def test_validate_value_refuses_non_finite(value: float) -> None:
    with pytest.raises(ValueValidationError):
        validate_value(value)
    with pytest.raises(ValueValidationError):
        validate_value({"deep": [1, {"x": value}]})


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(ValueValidationError) as info:
        parse_value('{\n  "a": 1,\n  "b": tru\n}', ValueType.JSON)
    assert (info.value.line, info.value.column) == (3, 8)
    assert "line 3, column 8" in info.value.message


@pytest.mark.parametrize("text", ["", "   ", "42", '"text"', "true", "null"])
def test_json_type_needs_an_object_or_array(text: str) -> None:
    with pytest.raises(ValueValidationError):
        parse_value(text, ValueType.JSON)


def test_duplicate_json_keys_are_refused_rather_than_dropped() -> None:
    with pytest.raises(ValueValidationError, match="twice"):
        parse_value('{"a": 1, "a": 2}', ValueType.JSON)


@given(st.text())
@settings(max_examples=300)
def test_any_text_either_parses_to_a_valid_value_or_is_refused(text: str) -> None:
    """Whatever is typed, for every type: the result passes validate_value, or a ValueValidationError is raised."""
    for value_type in ValueType:
        try:
            value = parse_value(text, value_type)
        except ValueValidationError as exc:
            assert exc.message
            continue
        validate_value(value)
        assert type_of(value) is value_type


@pytest.mark.parametrize("text", ["1.5", "1e3", "0x10", "1_000", "", "one"])
def test_integer_parser_is_strict(text: str) -> None:
    with pytest.raises(ValueValidationError):
        parse_value(text, ValueType.INTEGER)


@pytest.mark.parametrize("text", ["1_000.0", "0x1p3", "", "abc", "1.2.3"])
def test_double_parser_is_strict(text: str) -> None:
    with pytest.raises(ValueValidationError):
        parse_value(text, ValueType.DOUBLE)


def test_boolean_words() -> None:
    assert parse_value(" TRUE ", ValueType.BOOLEAN) is True
    assert parse_value("off", ValueType.BOOLEAN) is False
    with pytest.raises(ValueValidationError):
        parse_value("maybe", ValueType.BOOLEAN)


def test_keys() -> None:
    assert validate_key("firmware", {"model"}) == "firmware"
    for bad in ("", "   ", " lead", "x" * 256):
        with pytest.raises(ValueValidationError):
            validate_key(bad)
    with pytest.raises(ValueValidationError, match="already exists"):
        validate_key("model", {"model"})


def test_values_equal_is_type_strict() -> None:
    assert not values_equal(True, 1)
    assert not values_equal(1, 1.0)
    assert not values_equal({"a": True}, {"a": 1})
    assert values_equal({"a": [1, 2.5, None]}, {"a": [1, 2.5, None]})
    assert not values_equal(None, 0)
    assert values_equal(None, None)


def test_summary_is_one_short_line() -> None:
    assert value_summary({"a": [1, 2]}) == '{"a":[1,2]}'
    assert value_summary("x\ny") == "x⏎y"
    assert len(value_summary("z" * 500)) == 80


def test_server_echoes_are_recognised_as_our_own_write() -> None:
    from console.fleet.values import coerce_like, same_as_written

    assert same_as_written("42", 42)  # ThingsBoard stores numeric text as a number
    assert same_as_written("2.50", 2.5)
    assert same_as_written({"a": [1]}, '{"a": [1]}')  # JSON arrives as text over the socket
    assert same_as_written(24.0, 24)  # PocketBase's JSON field
    assert not same_as_written(True, 1)
    assert not same_as_written("42", 43)
    assert not same_as_written("abc", 0)
    assert not same_as_written({"a": 1}, '{"a": 2}')
    assert coerce_like('{"a": 1}', {"a": 0}) == {"a": 1}
    assert coerce_like("text", {"a": 0}) == "text"
    assert coerce_like('{"a": 1}', "plain") == '{"a": 1}'
