"""The simulator's pacing: a server that stops answering slows it down instead of flooding the log."""

from __future__ import annotations

import asyncio
import logging

import pytest

from console.demo import data
from console.demo.simulator import MAX_FAILURE_PAUSE_S, Simulator
from console.errors import NetworkError


class _DownServer:
    """Just enough of a PocketBase client whose writes all fail."""

    def __init__(self) -> None:
        self.sent = 0

    def collection(self, name: str) -> _DownServer:
        return self

    async def iter_pages(self, *args, **kwargs):
        return
        yield

    def create_batch(self) -> _DownServer:
        return self

    def create(self, body) -> None: ...
    def upsert(self, body) -> None: ...
    def update(self, record_id, body) -> None: ...

    def __len__(self) -> int:
        return 1

    async def send(self):
        self.sent += 1
        raise NetworkError("Could not connect to 127.0.0.1:1: the connection was refused (is the server running?).")


async def test_failures_back_off_and_log_sparingly(caplog: pytest.LogCaptureFixture):
    config = data.DemoConfig(devices=3, fast_devices=2, flip_probability=0)
    now = [1_000_000.0]
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        now[0] += seconds
        if len(delays) >= 25:
            raise asyncio.CancelledError

    server = _DownServer()
    simulator = Simulator(server, config, data.make_devices(config, 0), clock=lambda: now[0], sleep=fake_sleep)
    caplog.set_level(logging.WARNING, logger="console.demo.simulator")
    with pytest.raises(asyncio.CancelledError):
        await simulator.run()
    assert simulator.errors == server.sent == 25  # the first tick is due at once, then one per sleep
    assert delays[:6] == [2.0, 4.0, 8.0, 16.0, MAX_FAILURE_PAUSE_S, MAX_FAILURE_PAUSE_S]
    assert max(delays) == MAX_FAILURE_PAUSE_S
    assert len(caplog.records) == 3  # failures 1, 11 and 21
    assert "is the server running" in caplog.records[0].getMessage()


async def test_the_live_wave_continues_the_seeded_history():
    """The simulator knows a device only by what it reads back (its name), yet must draw the same wave as the
    seeded history: otherwise every chart of the demo jumps where history meets the live tail."""
    from console.demo.simulator import simulated_devices

    devices = data.make_devices(data.DemoConfig(), now_ms=1_700_000_000_000)[:20]

    class Records:
        def __init__(self) -> None:
            self.pages = [[_Record(d) for d in devices]]

        async def iter_pages(self, *args, **kwargs):
            for page in self.pages:
                yield page

    class PB:
        def collection(self, name):
            return Records()

    simulated = {d.name: d for d in await simulated_devices(PB())}
    assert set(simulated) == {d.name for d in devices}
    for device in devices:
        assert simulated[device.name].phase == pytest.approx(device.phase)


class _Record:
    def __init__(self, device: data.DemoDevice) -> None:
        self.id = f"id{device.index}"
        self._values = {"name": device.name, "profile": device.profile, "active": device.active}

    def get_string_value(self, key: str) -> str:
        return str(self._values[key])

    def get_bool_value(self, key: str) -> bool:
        return bool(self._values[key])
