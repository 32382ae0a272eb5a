"""Bulk edit speed: set one shared attribute on 1,000 emulator devices answering 50 ms late, against one by one.

    cd /work/main && /work/venv/bin/python -m tests.bench.bench_bulk_edit [--devices 1000] [--latency-ms 50]
        [--concurrency 16] [--sequential N]

The emulator runs in its own process. Prints wall time and request count of: one device after another (plain
`save_attributes` calls), the bulk preview (reads every device), the bulk apply (journal + writes), and the worst
event-loop stall seen during the bulk run (a 5 ms ticker) with the longest garbage-collector pause. Goals: apply
≥ 10× faster than one by one; no stall over 50 ms. Asserts nothing.

`--gc-freeze` calls `gc.freeze()` once the fleet is connected, as an application can after start-up: long-lived
objects then stay out of full collections, whose pauses are otherwise the worst stalls of a bulk run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import time
from pathlib import Path
from typing import Any

from console.fleet.base import DeviceQuery, DeviceRow
from console.fleet.bulk import BulkOp, BulkRunner, preview, same_ops
from console.fleet.thingsboard import ThingsboardFleet
from console.journal import Journal
from tests.tbserver.fixture import start_subprocess

SCOPE = "SHARED_SCOPE"


class GcPauses:
    """The longest garbage-collector pause while installed."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._started = 0.0

    def _callback(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.worst = max(self.worst, time.perf_counter() - self._started)

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_: Any) -> None:
        gc.callbacks.remove(self._callback)


class StallMeter:
    """Sleeps `tick` seconds in a loop and records how late it wakes up: the event loop's worst stall."""

    def __init__(self, tick: float = 0.005) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            await asyncio.sleep(self.tick)
            self.worst = max(self.worst, loop.time() - began - self.tick)

    def __enter__(self) -> StallMeter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: Any) -> None:
        if self._task is not None:
            self._task.cancel()


async def _all_devices(fleet: ThingsboardFleet, n: int) -> list[DeviceRow]:
    found: list[DeviceRow] = []
    async for page in fleet.iter_device_pages(DeviceQuery(sort="name", descending=False), 1000):
        found.extend(page)
    return found[:n]


async def run(args: argparse.Namespace) -> None:
    url, proc = start_subprocess(devices=args.devices, latency_ms=args.latency_ms)
    requests = 0

    async def count(_request: Any) -> None:
        nonlocal requests
        requests += 1

    fleet = ThingsboardFleet(url, username="tenant@thingsboard.org", password="tenant")
    fleet.tb._http.event_hooks["request"].append(count)
    try:
        await fleet.connect()
        devices = await _all_devices(fleet, args.devices)
        if args.gc_freeze:
            gc.collect()
            gc.freeze()
        print(f"emulator: {len(devices)} devices, +{args.latency_ms} ms per response; concurrency {args.concurrency}; "
              f"gc.freeze() {'on' if args.gc_freeze else 'off'}")

        sequential = devices[: args.sequential]
        requests, began = 0, time.perf_counter()
        with StallMeter() as seq_meter:
            for device in sequential:
                await fleet.save_attributes(device.id, SCOPE, {"bench_seq": "1.0"})
        seq_time = time.perf_counter() - began
        seq_per_device = seq_time / len(sequential)
        seq_full = seq_per_device * len(devices)
        note = "" if len(sequential) == len(devices) else f" (measured on {len(sequential)}, scaled)"
        print(f"one by one:   {seq_full:8.2f} s for {len(devices)} devices{note}, {requests} requests, "
              f"worst stall {seq_meter.worst * 1000:.1f} ms")

        with tempfile.TemporaryDirectory() as folder:
            journal = Journal(Path(folder) / "journal.sqlite3")
            try:
                jobs = same_ops([(d.id, d.name) for d in devices], [BulkOp.set("bench_bulk", "2.0.1")])
                requests, began, cpu = 0, time.perf_counter(), time.process_time()
                with StallMeter() as meter, GcPauses() as pauses:
                    plan = await preview(fleet, SCOPE, jobs, title="bench", concurrency=args.concurrency)
                    preview_time, preview_requests = time.perf_counter() - began, requests
                    requests, began = 0, time.perf_counter()
                    runner = BulkRunner(fleet, journal, profile="bench", server=fleet.title,
                                        concurrency=args.concurrency)
                    report = await runner.apply(plan)
                    apply_time = time.perf_counter() - began
                    cpu = time.process_time() - cpu
                print(f"bulk preview: {preview_time:8.2f} s, {preview_requests} requests")
                print(f"bulk apply:   {apply_time:8.2f} s, {requests} requests, {len(report.written)} written, "
                      f"{len(report.failed)} failed (journal included)")
                print(f"speed-up of apply over one by one: {seq_full / apply_time:.1f}x "
                      f"(preview + apply: {seq_full / (preview_time + apply_time):.1f}x)")
                print(f"worst event-loop stall during the bulk run: {meter.worst * 1000:.1f} ms "
                      f"(longest GC pause {pauses.worst * 1000:.1f} ms); client CPU for preview + apply {cpu:.2f} s")
            finally:
                journal.close()
    finally:
        await fleet.close()
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--sequential", type=int, default=1000, help="devices written one by one (scaled up)")
    parser.add_argument("--gc-freeze", action=argparse.BooleanOptionalAction, default=True)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
