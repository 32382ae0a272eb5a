"""The pure parts of realtime: SSE parsing, subscription strings, backoff."""

from __future__ import annotations

import itertools
import json
from urllib.parse import unquote

from console.pocketbase.realtime import DEFAULT_RECONNECT_DELAYS, SSEParser, backoff_delays, topic_key


def _feed(parser: SSEParser, text: str) -> list:
    return [e for line in text.split("\n") if (e := parser.feed_line(line)) is not None]


def test_pocketbase_frames() -> None:
    events = _feed(
        SSEParser(),
        'id:abc\nevent:PB_CONNECT\ndata:{"clientId":"abc"}\n\n'
        'id:abc\nevent:devices/*\ndata:{"action":"create","record":{"id":"1"}}\n\n',
    )
    assert [(e.event, e.id) for e in events] == [("PB_CONNECT", "abc"), ("devices/*", "abc")]
    assert json.loads(events[1].data)["action"] == "create"


def test_spec_details() -> None:
    parser = SSEParser()
    events = _feed(parser, ": comment\ndata: one\ndata:two\r\nretry: 1500\n\n\n\ndata\n\n")
    assert [e.data for e in events] == ["one\ntwo", ""]
    assert events[0].event == "message" and events[0].retry == 1500 and events[1].retry is None


def test_topic_key_carries_options() -> None:
    assert topic_key("devices/*") == "devices/*"
    key = topic_key("devices/*", filter="a = 1", expand="site", headers={"x-h": "1"})
    topic, _, encoded = key.partition("?options=")
    assert topic == "devices/*"
    assert json.loads(unquote(encoded)) == {"query": {"filter": "a = 1", "expand": "site"}, "headers": {"x-h": "1"}}
    assert topic_key("devices/*", filter="a = 1") == topic_key("devices/*", filter="a = 1")  # stable


def test_backoff_steps_up_with_jitter_and_caps() -> None:
    delays = list(itertools.islice(backoff_delays(), 12))
    for delay, base in zip(delays, [*DEFAULT_RECONNECT_DELAYS, *[DEFAULT_RECONNECT_DELAYS[-1]] * 5], strict=True):
        assert base * 0.8 <= delay <= base * 1.2
