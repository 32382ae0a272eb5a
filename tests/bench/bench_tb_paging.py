"""Paging every device info of a large tenant: our SDK next to `tb-ce-client` and a raw httpx + msgspec loop.

    python tests/bench/bench_tb_paging.py [--devices 100000] [--runs 3] [--page-size 1000] [--latency-ms 0]

With `--latency-ms 50` the emulator waits that long before each answer, like a server across a WAN: that is
where `fetch_all`'s concurrent pages pay off (on a local, single-threaded emulator the server's CPU is the limit).

The emulator runs in its own subprocess. Each contender runs in its own fresh subprocess (imports and login happen
before the clock starts), `--runs` times in rotation; the best run counts. Printed per contender: wall time of the
full fetch, peak RSS of the process (ru_maxrss), and the ratios.

  tb-ce-client   the official sync client: `get_tenant_device_infos(page_size, page)` until `has_next` is false
  raw            a sequential httpx.AsyncClient loop, `msgspec.json.decode` into plain dicts
  ours-seq       `tb.devices.get_tenant_device_infos(page_link)` with `next_page_link()` (the seed's loop)
  ours-fetch-all `fetch_all(tb.devices.get_tenant_device_infos, PageLink(1000), max_in_flight=4)`

Goal (issue 4): ours ≥ 4× faster than tb-ce-client and within 1.3× of the raw loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench._common import peak_rss_kb, run_json_child  # noqa: E402 (needs ROOT on sys.path)

CONTENDERS = ("tb-ce-client", "raw", "ours-seq", "ours-fetch-all")
USER, PASSWORD = "tenant@thingsboard.org", "tenant"


def _child_tb_ce(url: str, page_size: int) -> tuple[float, int]:
    from tb_ce_client import ThingsboardClient

    client = ThingsboardClient(url, username=USER, password=PASSWORD)
    client.get_tenant_device_infos(page_size=1, page=0)  # warm the lazy controller import
    start = time.perf_counter()
    items: list = []
    page = 0
    while True:
        data = client.get_tenant_device_infos(page_size=page_size, page=page)
        items.extend(data.data or [])
        if not data.has_next:
            break
        page += 1
    wall = time.perf_counter() - start
    client.close()
    return wall, len(items)


async def _child_async(contender: str, url: str, page_size: int) -> tuple[float, int]:
    if contender == "raw":
        import httpx
        import msgspec

        async with httpx.AsyncClient(base_url=url) as http:
            login = await http.post("/api/auth/login", json={"username": USER, "password": PASSWORD})
            headers = {"X-Authorization": f"Bearer {login.json()['token']}"}
            start = time.perf_counter()
            items: list = []
            page = 0
            while True:
                response = await http.get(
                    "/api/tenant/deviceInfos", params={"pageSize": page_size, "page": page}, headers=headers
                )
                body = msgspec.json.decode(response.content)
                items.extend(body["data"])
                if not body["hasNext"]:
                    break
                page += 1
            return time.perf_counter() - start, len(items)

    from console.thingsboard import LoginRequest, PageLink, ThingsboardClient, fetch_all

    async with ThingsboardClient(url) as tb:
        await tb.login(LoginRequest(USER, PASSWORD))
        start = time.perf_counter()
        if contender == "ours-seq":
            items = []
            link = PageLink(page_size)
            while True:
                devices = await tb.devices.get_tenant_device_infos(link)
                items.extend(devices.data)
                if not devices.has_next:
                    break
                link = link.next_page_link()
        else:
            items = await fetch_all(tb.devices.get_tenant_device_infos, PageLink(page_size), max_in_flight=4)
        return time.perf_counter() - start, len(items)


def child(contender: str, url: str, page_size: int) -> dict[str, float]:
    if contender == "tb-ce-client":
        wall, count = _child_tb_ce(url, page_size)
    else:
        wall, count = asyncio.run(_child_async(contender, url, page_size))
    peak_mb = peak_rss_kb() / 1024
    return {"wall": wall, "count": count, "peak_mb": peak_mb}


def run_child(contender: str, url: str, page_size: int) -> dict[str, float]:
    return run_json_child(
        [sys.executable, __file__, "--child", contender, url, str(page_size)], timeout=1800, what=contender, cwd=ROOT
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=0, help="emulated network latency per request")
    parser.add_argument("--only", nargs="*", default=list(CONTENDERS), choices=CONTENDERS)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        contender, url, page_size = args.child
        print(json.dumps(child(contender, url, int(page_size))))
        return

    from tests.tbserver.fixture import start_subprocess

    started = time.perf_counter()
    url, proc = start_subprocess(devices=args.devices, timeout=600, latency_ms=args.latency_ms or None)
    took = time.perf_counter() - started
    print(f"emulator ({args.latency_ms} ms latency) with {args.devices} devices up in {took:.1f} s at {url}")
    try:
        best: dict[str, dict[str, float]] = {}
        for run in range(args.runs):
            for contender in args.only:
                figures = run_child(contender, url, args.page_size)
                if figures["count"] < args.devices:
                    raise RuntimeError(f"{contender} saw only {figures['count']} devices")
                print(
                    f"run {run + 1}: {contender:15s} {figures['wall']:7.2f} s  peak RSS {figures['peak_mb']:6.1f} MB"
                    f"  ({int(figures['count'])} devices)",
                    flush=True,
                )
                if contender not in best or figures["wall"] < best[contender]["wall"]:
                    best[contender] = figures
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    print("\nbest of", args.runs)
    for contender, figures in best.items():
        print(f"  {contender:15s} {figures['wall']:7.2f} s  peak RSS {figures['peak_mb']:6.1f} MB")
    ce, raw = best.get("tb-ce-client"), best.get("raw")
    for ours in ("ours-seq", "ours-fetch-all"):
        if ours not in best:
            continue
        line = f"  {ours:15s}"
        if ce:
            line += f"  {ce['wall'] / best[ours]['wall']:5.2f}x faster than tb-ce-client (goal >= 4)"
        if raw:
            line += f"  {best[ours]['wall'] / raw['wall']:5.2f}x the raw loop's time (goal <= 1.3)"
        print(line)


if __name__ == "__main__":
    main()
