"""The reconnect policy of the live socket: capped, jittered exponential backoff and what a close code means.

Pure and injectable (delays, random source), so tests run in milliseconds (STYLE §5: backoff is a small object,
retries are logged once with a one-line reason).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["Backoff", "CloseVerdict", "describe_close"]


class Backoff:
    """Capped exponential backoff with jitter: 2 s, 4 s, 8 s ... 60 s, each shortened by up to `jitter`.

    `reset()` after the first message on a new connection (§9.2). Delays and the random source are injectable so
    tests run in milliseconds.
    """

    def __init__(
        self,
        initial: float = 2.0,
        cap: float = 60.0,
        factor: float = 2.0,
        jitter: float = 0.25,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if initial <= 0 or cap < initial or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("backoff needs 0 < initial <= cap, factor >= 1 and 0 <= jitter < 1")
        self.initial, self.cap, self.factor, self.jitter = initial, cap, factor, jitter
        self._rng = rng
        self.attempt = 0

    def next_delay(self) -> float:
        base = min(self.cap, self.initial * self.factor ** min(self.attempt, 32))
        self.attempt += 1
        return base * (1.0 - self.jitter * self._rng())

    def capped_delay(self) -> float:
        """The longest wait, for refusals that retrying sooner would only repeat (1008, 1009)."""
        self.attempt += 1
        return self.cap * (1.0 - self.jitter * self._rng())

    def reset(self) -> None:
        self.attempt = 0


class CloseVerdict(NamedTuple):
    """What a close code means: a sentence for the status bar and how to retry."""

    message: str
    warning: bool  # show it to the user (not a routine drop)
    slow_retry: bool  # wait the longest delay: retrying sooner would be refused again
    refresh_token: bool  # the server rejected the token: get a fresh one first


def describe_close(code: int | None, reason: str = "") -> CloseVerdict:
    """Turn a close code (§7.2) into a readable verdict."""
    why = f" ({reason})" if reason else ""
    if code == 1008:
        if "auth" in reason.lower():
            return CloseVerdict(f"The server closed the live connection: sign-in was missing{why}.", True, False, True)
        return CloseVerdict(
            f"The server refused the live connection: too many active sessions or subscriptions{why}. "
            "Close other consoles or browser tabs; retrying slowly.",
            True,
            True,
            False,
        )
    if code == 1009:
        return CloseVerdict(
            f"The server closed the live connection: too much data in one message{why}. Retrying slowly.",
            True,
            True,
            False,
        )
    if code in (1007, 1011) and reason:
        return CloseVerdict(f"The server rejected the live connection's sign-in{why}.", True, False, True)
    if code == 4500:
        return CloseVerdict("The live connection stopped answering keepalive pings.", False, False, False)
    if code == 1012:
        return CloseVerdict(f"The server restarted the live session{why}.", False, False, False)
    if code in (1000, 1001):
        return CloseVerdict(f"The server closed the live connection{why}.", False, False, False)
    if code is None or code == 1006:
        return CloseVerdict("The live connection was lost.", False, False, False)
    return CloseVerdict(f"The live connection closed with code {code}{why}.", False, False, False)
