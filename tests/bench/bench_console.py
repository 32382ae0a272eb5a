"""Console start-up and streaming benchmark against the ThingsBoard emulator with 100,000 devices.

Prints, next to a bare PySide6 window started the same way:
  * time from process start to the first device rows painted (the bare window: to its first paint);
  * the memory the full device list adds once every device is streamed into the table (goal ≤ 100 MB);
  * the worst event-loop stall while all pages stream in (goal ≤ 50 ms).

    python -m tests.bench.bench_console [--devices 100000] [--runs 3]

Each measurement runs in a fresh child process (offscreen), so imports and Qt start-up count as a user would feel
them. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench._common import rss_kb, run_json_child

REPO = Path(__file__).resolve().parents[2]


def rss_mb() -> float:
    return rss_kb(float("nan")) / 1024


# --- children ----------------------------------------------------------------------------------------------------


def child_bare(t0: float) -> dict[str, Any]:
    """A bare QMainWindow with an empty QTableView: the floor any Qt app pays."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableView

    app = QApplication([])
    window = QMainWindow()
    window.setCentralWidget(QTableView())
    window.resize(1400, 820)
    result: dict[str, Any] = {}

    class PaintWatch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "first_paint_s" not in result:
                result["first_paint_s"] = time.time() - t0
                QTimer.singleShot(0, app.quit)
            return False

    watch = PaintWatch()
    window.installEventFilter(watch)
    window.show()
    app.exec()
    result["rss_mb"] = rss_mb()
    return result


def child_console(t0: float, url: str) -> dict[str, Any]:
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from ui.gc_guard import MainThreadGC

    collector = MainThreadGC(parent=app)  # as ui.app.main does
    collector.start()

    async def run() -> dict[str, Any]:
        from console.fleet.open import open_fleet
        from console.profiles import AuthKind, BackendKind, Profile
        from ui.main_window import MainWindow

        result: dict[str, Any] = {}
        window = MainWindow()
        painted = asyncio.Event()
        window.first_rows_painted.connect(painted.set)
        window.show()
        profile = Profile(
            name="bench", kind=BackendKind.THINGSBOARD, url=url, user="tenant@thingsboard.org", auth=AuthKind.PASSWORD
        )
        fleet = open_fleet(profile, "tenant")
        await fleet.connect()
        await window.set_fleet(fleet, owned=True)
        await painted.wait()
        result["first_rows_s"] = time.time() - t0
        MainThreadGC.freeze()  # as ui.app does once the window shows its first rows
        model = window.devices_page.model
        result["total"] = model.total
        await window.tasks.wait_idle()  # counts and profiles done: only the table's data differs from here on
        import gc

        gc.collect()
        before = rss_mb()
        stalls: list[float] = []
        stop = asyncio.Event()

        async def watch_loop() -> None:
            # how late a 5 ms tick fires = how long the loop was blocked
            while not stop.is_set():
                start = time.perf_counter()
                await asyncio.sleep(0.005)
                stalls.append(time.perf_counter() - start - 0.005)

        watcher = asyncio.ensure_future(watch_loop())
        started = time.perf_counter()
        handle = model.load_all()
        assert handle.task is not None
        await handle.task
        result["stream_all_s"] = time.perf_counter() - started
        stop.set()
        await watcher
        result["rows"] = model.rowCount()
        gc.collect()
        result["rss_before_mb"] = before
        result["rss_after_mb"] = rss_mb()
        result["list_adds_mb"] = result["rss_after_mb"] - before
        stalls.sort()
        result["stall_max_ms"] = stalls[-1] * 1000 if stalls else 0.0
        result["stall_p99_ms"] = stalls[int(len(stalls) * 0.99)] * 1000 if stalls else 0.0
        result["ticks"] = len(stalls)
        await window.aclose()
        window.close()
        return result

    with loop:
        return loop.run_until_complete(run())


# --- parent ------------------------------------------------------------------------------------------------------


def run_child(*args: str) -> dict[str, Any]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    t0 = time.time()
    # check=False: a child that printed its figures counts even if it then exits non-zero
    return run_json_child(
        [sys.executable, "-m", "tests.bench.bench_console", "--child", *args, "--t0", repr(t0)],
        timeout=900,
        what="child",
        cwd=REPO,
        env=env,
        check=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=["bare", "console"])
    parser.add_argument("--t0", type=float, default=0.0)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    if args.child == "bare":
        print(json.dumps(child_bare(args.t0)))
        return
    if args.child == "console":
        print(json.dumps(child_console(args.t0, args.url)))
        return

    sys.path.insert(0, str(REPO))
    from tests.tbserver.fixture import start_subprocess

    print(f"starting the emulator with {args.devices:,} devices…", flush=True)
    seeded = time.perf_counter()
    url, proc = start_subprocess(devices=args.devices, timeout=600)
    print(f"emulator ready at {url} in {time.perf_counter() - seeded:.1f} s", flush=True)
    try:
        bare = [run_child("bare") for _ in range(args.runs)]
        console = [run_child("console", "--url", url) for _ in range(args.runs)]
    finally:
        proc.terminate()
        proc.wait()

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    first_bare, first_console = med(bare, "first_paint_s"), med(console, "first_rows_s")
    print()
    print(f"runs: {args.runs} (medians; each run a fresh process, offscreen)")
    print(f"bare PySide6 window, start → first paint:          {first_bare * 1000:8.0f} ms")
    print(
        f"thingscope, start → first device rows painted:      {first_console * 1000:8.0f} ms"
        f"   ({first_console / first_bare:.1f}× the bare window)"
    )
    print(f"devices streamed into the table:                    {console[0]['rows']:8,} of {console[0]['total']:,}")
    print(f"time to stream every device:                        {med(console, 'stream_all_s'):8.2f} s")
    print(f"memory the full device list adds (RSS):             {med(console, 'list_adds_mb'):8.1f} MB   (goal ≤ 100)")
    print(
        f"worst event-loop stall while streaming:             {max(r['stall_max_ms'] for r in console):8.1f} ms"
        f"   (p99 {med(console, 'stall_p99_ms'):.1f} ms; goal ≤ 50)"
    )
    print(
        f"bare window RSS {med(bare, 'rss_mb'):.0f} MB; thingscope RSS after first rows "
        f"{med(console, 'rss_before_mb'):.0f} MB, with every device {med(console, 'rss_after_mb'):.0f} MB"
    )


if __name__ == "__main__":
    main()
