"""The reconnect policy: backoff growth, cap, jitter and reset; close codes as readable verdicts."""

from __future__ import annotations

import pytest

from console.thingsboard.ws_reconnect import Backoff, describe_close


def test_backoff_grows_to_the_cap_with_jitter_and_resets():
    top = Backoff(rng=lambda: 0.0)
    assert [top.next_delay() for _ in range(7)] == [2, 4, 8, 16, 32, 60, 60]
    low = Backoff(rng=lambda: 1.0, jitter=0.25)
    assert low.next_delay() == pytest.approx(1.5)
    low.reset()
    assert low.attempt == 0 and low.next_delay() == pytest.approx(1.5)
    assert Backoff(rng=lambda: 0.0).capped_delay() == 60
    fast = Backoff(initial=0.01, cap=0.05, rng=lambda: 0.5)
    assert max(fast.next_delay() for _ in range(20)) <= 0.05
    with pytest.raises(ValueError):
        Backoff(initial=5, cap=1)


def test_close_codes_read_well_and_policy_limits_retry_slowly():
    session_limit = describe_close(1008, "Max tenant sessions limit reached!")
    assert session_limit.warning and session_limit.slow_retry and "too many active sessions" in session_limit.message
    too_big = describe_close(1009)
    assert too_big.warning and too_big.slow_retry and "too much data" in too_big.message
    assert describe_close(1008, "Auth cmd is missing").refresh_token
    assert describe_close(1011, "JWT Token expired").refresh_token
    lost = describe_close(1006)
    assert not lost.warning and not lost.slow_retry
    assert "keepalive" in describe_close(4500).message
