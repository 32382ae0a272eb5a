"""Live chart under load: 100 series at 10 Hz each through the real subscriber path from the ThingsBoard emulator.

    python tests/bench/bench_charts.py [--seconds 60] [--devices 10] [--keys 10] [--hz 10]

The emulator runs as a subprocess (`tests.tbserver.fixture.start_subprocess`); a helper process posts telemetry by
REST (one request per device per tick carrying all its keys); this process runs the console's path: QApplication +
qasync loop, `ThingsboardFleet.subscribe_telemetry` (WebSocket, TelemetrySubscriber) → `LiveChart` (numpy buffers,
30 Hz repaint timer), shown offscreen. It prints:
- event-loop lag p50 / p99 / max (a 10 ms asyncio sleeper, how late it wakes)   goal: p99 <= 20 ms
- repaints/s: paint events of the plot's viewport, and timer ticks that handed new data to the curves   goal: >= 30
- CPU of this process (user + system, % of one core), and of the poster and the emulator for context
- points: posted vs received by the chart (received should equal posted once the tail has drained)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
SCRIPT = Path(__file__).resolve()


# --- the helper process: a fleet of devices posting by REST ---------------------------------------------------


async def post_forever(url: str, devices: list[str], keys: int, hz: float, seconds: float) -> None:
    from console.thingsboard import EntityId, LoginRequest, ThingsboardClient

    async with ThingsboardClient(url) as tb:
        await tb.login(LoginRequest("tenant@thingsboard.org", "tenant"))
        period = 1.0 / hz
        start = time.monotonic()
        tick = 0
        posted = 0
        while time.monotonic() - start < seconds:
            ts = int(time.time() * 1000)
            values = {f"k{k}": round(20 + 5 * ((tick + k) % 20) / 20, 3) for k in range(keys)}
            await asyncio.gather(
                *(
                    tb.attributes.save_entity_telemetry(EntityId("DEVICE", d), "ANY", {"ts": ts, "values": values})
                    for d in devices
                )
            )
            posted += len(devices) * keys
            tick += 1
            delay = start + tick * period - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        print(f"posted {posted}", flush=True)


def poster_main(args: argparse.Namespace) -> None:
    asyncio.run(post_forever(args.url, args.device_ids.split(","), args.keys, args.hz, args.seconds))


# --- the measuring process ----------------------------------------------------------------------------------


def start_poster(url: str, device_ids: list[str], args: argparse.Namespace) -> subprocess.Popen[str]:
    command = [sys.executable, str(SCRIPT), "--poster", "--url", url, "--device-ids", ",".join(device_ids)]
    command += ["--keys", str(args.keys), "--hz", str(args.hz), "--seconds", str(args.seconds)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_cpu_seconds(pid: int) -> float:
    """user + system CPU of another process, from /proc (Linux); 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError, IndexError):
        return 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def measure_lag(seconds: float) -> list[float]:
    lags = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        before = time.perf_counter()
        await asyncio.sleep(0.010)
        lags.append((time.perf_counter() - before - 0.010) * 1000)
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--hz", type=float, default=10.0)
    parser.add_argument(
        "--scroll-every-tick",
        action="store_true",
        help="scroll the live window on every 30 Hz tick (capacity test) instead of once per pixel",
    )
    parser.add_argument("--poster", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--device-ids", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.poster:
        poster_main(args)
        return

    from tests.tbserver.fixture import start_subprocess

    url, emulator = start_subprocess(devices=max(args.devices, 20))
    try:
        run(url, emulator.pid, args)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)


def run(url: str, emulator_pid: int, args: argparse.Namespace) -> None:
    import qasync
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from console.fleet import DeviceQuery
    from console.fleet.thingsboard import ThingsboardFleet

    app = QApplication.instance() or QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    class PaintCounter(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    import pyqtgraph as pg

    paint_ms: list[float] = []
    tick_ms: list[float] = []
    original_paint = pg.GraphicsView.paintEvent

    def timed_paint(view: object, event: object) -> None:
        start = time.perf_counter()
        original_paint(view, event)
        paint_ms.append((time.perf_counter() - start) * 1000)

    pg.GraphicsView.paintEvent = timed_paint  # measuring only: how long one frame of the plot takes

    async def scenario() -> None:
        from ui.widgets.live_chart import LiveChart

        original_tick = LiveChart._on_tick

        def timed_tick(chart: LiveChart) -> None:
            start = time.perf_counter()
            original_tick(chart)
            tick_ms.append((time.perf_counter() - start) * 1000)

        LiveChart._on_tick = timed_tick  # type: ignore[method-assign]

        fleet = ThingsboardFleet(url, username="tenant@thingsboard.org", password="tenant")
        await fleet.connect()
        devices = []
        async for rows in fleet.iter_device_pages(DeviceQuery(sort="name", descending=False), 100):
            devices.extend(rows)
        devices = devices[: args.devices]
        keys = [f"k{k}" for k in range(args.keys)]
        chart = LiveChart(fleet)
        if args.scroll_every_tick:
            chart.follow_min_px = 0.0
        chart.resize(1280, 720)
        chart.show()
        counter = PaintCounter()
        chart.plot_widget.viewport().installEventFilter(counter)
        chart.add_many([(d.id, k, d.name) for d in devices for k in keys])
        loaded = asyncio.Event()
        chart.history_loaded.connect(loaded.set)
        await loaded.wait()
        await asyncio.sleep(1.0)  # let the subscription go live before the load starts
        idle_lags = await measure_lag(2.0)

        poster = start_poster(url, [d.id for d in devices], args)
        base_points = sum(len(s.buffer) for s in chart.series())
        lags: list[float] = []
        t0 = time.perf_counter()
        cpu0, poster_cpu0, emu_cpu0 = cpu_seconds(), proc_cpu_seconds(poster.pid), proc_cpu_seconds(emulator_pid)
        paints0, repaints0 = counter.count, chart.repaints
        paint_ms.clear()
        tick_ms.clear()
        poster_cpu = 0.0
        while poster.poll() is None:
            before = time.perf_counter()
            await asyncio.sleep(0.010)
            lags.append((time.perf_counter() - before - 0.010) * 1000)
            poster_cpu = proc_cpu_seconds(poster.pid) or poster_cpu
        wall = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0
        emu_cpu = proc_cpu_seconds(emulator_pid) - emu_cpu0
        paints, repaints = counter.count - paints0, chart.repaints - repaints0
        out = poster.stdout.read() if poster.stdout else ""
        posted = int(out.split("posted ")[-1]) if "posted " in out else -1
        # Let the tail drain, then count what arrived.
        for _ in range(50):
            received = sum(len(s.buffer) for s in chart.series()) - base_points
            if received >= posted:
                break
            await asyncio.sleep(0.1)
        received = sum(len(s.buffer) for s in chart.series()) - base_points
        series = len(chart.series())
        print(f"series: {series} ({args.devices} devices x {args.keys} keys) at {args.hz:g} Hz for {wall:.1f} s")
        print(f"points: posted {posted}, received by the chart {received} ({received / wall:.0f}/s)")
        print(
            f"event-loop lag: p50 {statistics.median(lags):.2f} ms, p99 {pct(lags, 0.99):.2f} ms, "
            f"max {max(lags):.2f} ms  (goal p99 <= 20 ms)"
        )
        print(
            f"  (idle, same chart before the load: p50 {statistics.median(idle_lags):.2f} ms, "
            f"p99 {pct(idle_lags, 0.99):.2f} ms)"
        )
        print(
            f"repaints: {paints / wall:.1f} paint events/s of the plot, "
            f"{repaints / wall:.1f} data updates/s  (goal >= 30)"
        )
        print(
            f"  one frame of the plot: p50 {statistics.median(paint_ms):.1f} ms, p99 {pct(paint_ms, 0.99):.1f} ms; "
            f"repaint tick (buffers -> curves): p50 {statistics.median(tick_ms):.1f} ms, "
            f"p99 {pct(tick_ms, 0.99):.1f} ms"
        )
        print(f"  machine load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(
            f"CPU (% of one core): console {100 * cpu / wall:.0f}%, "
            f"poster {100 * (poster_cpu - poster_cpu0) / wall:.0f}%, emulator {100 * emu_cpu / wall:.0f}%"
        )
        await chart.aclose()
        chart.close()
        await fleet.close()

    with loop:
        loop.run_until_complete(scenario())


if __name__ == "__main__":
    main()
