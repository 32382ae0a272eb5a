"""Fetching a whole PocketBase collection: our SDK next to the `pocketbase-async` SDK and a raw httpx + msgspec loop.

    python tests/bench/bench_pb_full_list.py [--records 10000] [--runs 5]

A private server (LocalPocketBase) is seeded with device-like records. Each contender runs in its own fresh
subprocess (imports and sign-in happen before the clock starts), `--runs` times in rotation. Printed per
contender: wall time of the full fetch (best and median), time until the first page is in the caller's hands,
peak RSS of the process (ru_maxrss) and what the fetch added to it, and the client's CPU time; then the ratios
against pocketbase-async. Wall times swing 2-3x with the load of a shared 2-core machine; client CPU does not.

  ours           pb.collection(c).iter_pages(1000): a 200-record page 1 with the total, then pages 2-5 of 200 and
                 2-10 of 1000 concurrently (4 in flight, skipTotal),
                 as compact RecordModels (each a zero-copy JSON slice of its page, fields decoded on first access);
                 "touched" is the peak RSS after then reading one field of every record (all dicts decoded)
  ours-typed     the same, decoded straight into a caller's msgspec.Struct (`model=Device`): no per-record dict
  pocketbase-async  `await pb.collection(c).get_full_list({"batch": 1000})` (sequential pages, httpx `.json()`)
  raw            a sequential httpx loop, perPage 1000 + skipTotal, `msgspec.json.decode` into dicts

Fair memory figures: every contender is loaded from bytecode. Installed packages (pocketbase-async, httpx) have
their .pyc files, but this tree runs with PYTHONDONTWRITEBYTECODE, so `console/` would be compiled from source in
every child (~2 MB of compiler garbage in the peak RSS). The parent compiles a copy of `console/` into a temporary
folder that the children put first on sys.path, as an installed wheel would be.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench._common import peak_rss_kb, rss_kb, run_json_child  # noqa: E402 (needs ROOT on sys.path)

COLLECTION = "bench_devices"
CONTENDERS = ("ours", "ours-typed", "pocketbase-async", "raw")


# --- children -------------------------------------------------------------------------------------


def _cpu_s() -> float:
    """CPU seconds this process has used (user + system): the client's own cost, whatever the machine load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _child(contender: str, url: str, email: str, password: str) -> dict[str, float]:
    first_page = 0.0
    if contender in ("ours", "ours-typed"):
        import msgspec

        from console.pocketbase import PocketBase

        class Device(msgspec.Struct, rename="camel", kw_only=True, frozen=True, gc=False):
            id: str
            name: str = ""
            serial: str = ""
            status: str = ""
            temperature: float = 0.0
            humidity: float = 0.0
            active: bool = False
            firmware: str = ""
            created: str = ""
            updated: str = ""

        pb = PocketBase(url)
        await pb.collection("_superusers").auth_with_password(email, password)
        model = Device if contender == "ours-typed" else None
        before = int(rss_kb())
        start, cpu0 = time.perf_counter(), _cpu_s()
        items: list = []
        concurrency = int(os.environ.get("BENCH_PB_CONCURRENCY", "4"))
        async for page in pb.collection(COLLECTION).iter_pages(1000, model=model, concurrency=concurrency):
            if not items:
                first_page = time.perf_counter() - start
            items.extend(page)
        wall, cpu = time.perf_counter() - start, _cpu_s() - cpu0
        peak = peak_rss_kb()
        if model is None:  # what a table reading every row costs on top (compact records decode their fields)
            touched = sum(len(record.get_string_value("name")) for record in items)
            assert touched > 0
        await pb.close()
        return {
            "wall": wall,
            "cpu": cpu,
            "first_page": first_page,
            "count": len(items),
            "peak_kb": peak,
            "added_kb": peak - before,
            "touched_peak_kb": peak_rss_kb(),
            "loaded_from": str(Path(sys.modules["console"].__file__ or "").parent.parent),
        }
    elif contender == "pocketbase-async":
        from pocketbase import PocketBase as AsyncPocketBase

        pb = AsyncPocketBase(url)
        await pb.collection("_superusers").auth.with_password(email, password)
        before = int(rss_kb())
        start, cpu0 = time.perf_counter(), _cpu_s()
        items = await pb.collection(COLLECTION).get_full_list({"batch": 1000})
        wall, cpu = time.perf_counter() - start, _cpu_s() - cpu0
        first_page = float("nan")  # it hands over nothing before the whole list is in
    elif contender == "raw":
        import httpx
        import msgspec

        async with httpx.AsyncClient() as http:
            auth = await http.post(
                f"{url}/api/collections/_superusers/auth-with-password", json={"identity": email, "password": password}
            )
            headers = {"Authorization": auth.json()["token"]}
            before = int(rss_kb())
            start, cpu0 = time.perf_counter(), _cpu_s()
            items = []
            page = 1
            while True:
                answer = await http.get(
                    f"{url}/api/collections/{COLLECTION}/records",
                    params={"page": page, "perPage": 1000, "skipTotal": 1},
                    headers=headers,
                )
                batch = msgspec.json.decode(answer.content)["items"]
                if page == 1:
                    first_page = time.perf_counter() - start
                items.extend(batch)
                if len(batch) < 1000:
                    break
                page += 1
            wall, cpu = time.perf_counter() - start, _cpu_s() - cpu0
    else:
        raise SystemExit(f"unknown contender {contender}")
    peak = peak_rss_kb()
    return {
        "wall": wall,
        "cpu": cpu,
        "first_page": first_page,
        "count": len(items),
        "peak_kb": peak,
        "added_kb": peak - before,
    }


# --- parent ---------------------------------------------------------------------------------------


async def _seed(url: str, email: str, password: str, records: int) -> None:
    from console.pocketbase import PocketBase

    statuses = ("online", "offline", "maintenance")
    async with PocketBase(url) as pb:
        await pb.collection("_superusers").auth_with_password(email, password)
        await pb.settings.update({"batch": {"enabled": True, "maxRequests": 1000, "timeout": 60, "maxBodySize": 0}})
        await pb.collections.create(
            {
                "name": COLLECTION,
                "type": "base",
                "fields": [
                    {"name": "name", "type": "text"},
                    {"name": "serial", "type": "text"},
                    {"name": "status", "type": "select", "values": list(statuses), "maxSelect": 1},
                    {"name": "temperature", "type": "number"},
                    {"name": "humidity", "type": "number"},
                    {"name": "active", "type": "bool"},
                    {"name": "firmware", "type": "text"},
                    {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
                    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
                ],
            }
        )
        for start in range(0, records, 1000):
            batch = pb.create_batch()
            for i in range(start, min(records, start + 1000)):
                batch.collection(COLLECTION).create(
                    {
                        "name": f"Sensor {i:05d} (hall {i % 17})",
                        "serial": f"SN-{i:08d}",
                        "status": statuses[i % 3],
                        "temperature": 18 + (i % 100) / 10,
                        "humidity": 30 + (i % 50),
                        "active": i % 4 != 0,
                        "firmware": f"1.{i % 9}.{i % 5}",
                    }
                )
            await batch.send()


def _run_child(contender: str, url: str, email: str, password: str, compiled: str) -> dict[str, float]:
    argv = [sys.executable, __file__, "--child", contender, url, email, password]
    return run_json_child(argv, timeout=600, what=contender, env={**os.environ, "BENCH_PB_COMPILED": compiled})


def _compiled_copy(folder: Path) -> str:
    """`console/` copied and byte-compiled under `folder` (the children load it from .pyc, like an install)."""
    import compileall
    import shutil

    target = folder / "compiled"
    shutil.copytree(ROOT / "console", target / "console", ignore=shutil.ignore_patterns("__pycache__"))
    if not compileall.compile_dir(target, quiet=1):
        raise SystemExit("could not byte-compile the copy of console/")
    return str(target)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", nargs=4, metavar=("CONTENDER", "URL", "EMAIL", "PASSWORD"))
    args = parser.parse_args()
    if args.child:
        if os.environ.get("BENCH_PB_COMPILED"):
            sys.path.insert(0, os.environ["BENCH_PB_COMPILED"])
        print(json.dumps(asyncio.run(_child(*args.child))))
        return

    from console.pocketbase import LocalPocketBase

    with tempfile.TemporaryDirectory() as folder, LocalPocketBase(Path(folder) / "pb") as server:
        started = time.perf_counter()
        asyncio.run(_seed(server.url, server.superuser_email, server.superuser_password, args.records))
        print(f"seeded {args.records} records in {time.perf_counter() - started:.1f} s; server {server.url}")
        compiled = _compiled_copy(Path(folder))
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in CONTENDERS}
        for _ in range(args.runs):
            for name in CONTENDERS:  # rotate, so drift in machine load hits everyone alike
                outcome = _run_child(name, server.url, server.superuser_email, server.superuser_password, compiled)
                assert outcome["count"] == args.records, (name, outcome)
                assert outcome.get("loaded_from", compiled) == compiled, outcome
                runs[name].append(outcome)

    best = {name: min(results, key=lambda r: r["wall"]) for name, results in runs.items()}
    median = {name: statistics.median(r["wall"] for r in results) for name, results in runs.items()}
    least_rss = {name: min(r["peak_kb"] for r in results) for name, results in runs.items()}
    median_rss = {name: statistics.median(r["peak_kb"] for r in results) for name, results in runs.items()}
    added = {name: statistics.median(r["added_kb"] for r in results) for name, results in runs.items()}
    width = 7 * args.runs + 2
    print(
        f"\n{'contender':<18}{'wall best':>10}{'median':>9}{'all runs':>{width}}{'first page':>12}"
        f"{'peak RSS min':>14}{'median':>9}{'added':>9}{'touched':>10}{'client CPU':>12}"
    )
    for name in CONTENDERS:
        walls = " ".join(f"{r['wall']:.3f}" for r in runs[name])
        firsts = sorted(r["first_page"] for r in runs[name])
        first_text = "   n/a" if firsts[0] != firsts[0] else f"{statistics.median(firsts) * 1000:.1f} ms"
        touched = statistics.median(r.get("touched_peak_kb", r["peak_kb"]) for r in runs[name])
        print(
            f"{name:<18}{best[name]['wall']:>8.3f} s{median[name]:>7.3f} s{walls:>{width}}{first_text:>12}"
            f"{least_rss[name] / 1024:>11.1f} MB{median_rss[name] / 1024:>6.1f} MB{added[name] / 1024:>6.1f} MB"
            f"{touched / 1024:>7.1f} MB{statistics.median(r['cpu'] for r in runs[name]) * 1000:>8.0f} ms"
        )
    print("  (first page: median; added: median RSS growth during the fetch; touched: median peak RSS after reading")
    print("   one field of every record, which decodes every compact record's fields; client CPU: median user+sys")
    print("   seconds of the child during the fetch, the client's own cost whatever the load of the machine)")
    peer = best["pocketbase-async"]
    print("\nratios against pocketbase-async (speed-up > 1 is faster; RSS < 1 is smaller):")
    for name in ("ours", "ours-typed", "raw"):
        print(
            f"  {name:<12} speed-up {peer['wall'] / best[name]['wall']:.2f}x (best) "
            f"{median['pocketbase-async'] / median[name]:.2f}x (median)   "
            f"peak RSS {least_rss[name] / least_rss['pocketbase-async']:.2f}x (min) "
            f"{median_rss[name] / median_rss['pocketbase-async']:.2f}x (median)   "
            f"added RSS {added[name] / max(1, added['pocketbase-async']):.2f}x"
        )
    print(f"  goals: speed-up >= 1.2x, peak RSS <= 0.8x, first page < 50 ms   (cpus: {os.cpu_count()})")


if __name__ == "__main__":
    main()
