"""Deterministic seeded telemetry: computed on demand so 100,000 devices cost nothing until someone looks.

A point is a pure function of (seed, device index, key, step), so `latest()` agrees with the last point of
`history()` without building the history.
"""

from __future__ import annotations

import math
from typing import Any

STEP_MS = 60_000
POINTS = 24 * 60  # one day of one-minute samples per key
KEYS = ("temperature", "humidity", "rssi")


def _noise(seed: int, index: int, key_no: int, step: int) -> float:
    """A cheap deterministic number in [0, 1)."""
    h = (seed * 0x9E3779B1 + index * 2654435761 + key_no * 40503 + step * 2246822519) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 2246822519) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 3266489917) & 0xFFFFFFFF
    h ^= h >> 16
    return h / 4294967296.0


class SeriesGenerator:
    """History of `KEYS` for generated devices: POINTS samples ending at `end_ts` (inclusive), one per STEP_MS."""

    def __init__(self, seed: int, end_ts: int) -> None:
        self.seed = seed
        self.end_ts = end_ts - end_ts % STEP_MS
        self.start_ts = self.end_ts - (POINTS - 1) * STEP_MS

    def value(self, index: int, key_no: int, step: int) -> Any:
        ts = self.start_ts + step * STEP_MS
        phase = _noise(self.seed, index, key_no, -1) * 2 * math.pi
        wave = math.sin(2 * math.pi * ts / 86_400_000 + phase)
        jitter = _noise(self.seed, index, key_no, step) - 0.5
        if key_no == 0:  # temperature: DOUBLE, one decimal
            return round(21.0 + 4.0 * wave + jitter, 1)
        if key_no == 1:  # humidity: LONG percent
            return int(55 + 15 * wave + 6 * jitter)
        return int(-70 + 10 * wave + 8 * jitter)  # rssi: LONG dBm

    def latest(self, index: int) -> dict[str, tuple[int, Any]]:
        last = POINTS - 1
        return {key: (self.end_ts, self.value(index, n, last)) for n, key in enumerate(KEYS)}

    def history(self, index: int) -> dict[str, list[tuple[int, Any]]]:
        start = self.start_ts
        return {
            key: [(start + step * STEP_MS, self.value(index, n, step)) for step in range(POINTS)]
            for n, key in enumerate(KEYS)
        }
