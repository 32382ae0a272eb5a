"""How many entity-data updates per second the client decodes and dispatches on one core (goal >= 50,000),
next to the same frames decoded with the standard `json` module into dicts.

    python tests/bench/bench_ws_decode.py [--messages 200000] [--entities 1] [--repeat 3]

"ours" = the whole receive path after the socket: envelope decode, route by cmdId, payload decode into
`EntityData`, exactly-once filtering of the time series, and queueing onto the subscriber's stream.
"json" = `json.loads` of the same frames into dicts (no routing, no filtering): the floor a dict-based client pays.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from pathlib import Path

import httpx

if __package__ in (None, ""):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from console.thingsboard import EntityDataCmd, TelemetryService, TelemetrySubscriber, TimeSeriesCmd


class _Client:
    base_url = httpx.URL("http://127.0.0.1:1/")
    api_key = None
    ssl_context = None


def frames(count: int, entities: int) -> list[bytes]:
    out = []
    base = 1_700_000_000_000
    for i in range(count):
        ts = base + i * 100
        update = [
            {
                "entityId": {"entityType": "DEVICE", "id": f"3f8d2c1e-0000-11ee-8000-{e:012d}"},
                "latest": {"TIME_SERIES": {"temperature": {"ts": ts, "value": f"{20 + i % 10}.5"}}},
                "timeseries": {
                    "temperature": [{"ts": ts, "value": f"{20 + i % 10}.5"}],
                    "humidity": [{"ts": ts, "value": str(40 + i % 7)}],
                },
                "aggLatest": None,
            }
            for e in range(entities)
        ]
        message = {"cmdId": 1, "errorCode": 0, "errorMsg": None, "cmdUpdateType": "ENTITY_DATA", "data": None,
                   "update": update, "allowedEntities": 10000}
        out.append(json.dumps(message, separators=(",", ":")).encode())
    return out


def run_ours(messages: list[bytes]) -> tuple[float, int]:
    async def go() -> tuple[float, int]:
        service = TelemetryService(_Client())
        cmd = EntityDataCmd(query={}, ts_cmd=TimeSeriesCmd(keys=["temperature", "humidity"], start_ts=0,
                                                           time_window=1))
        sub = TelemetrySubscriber(service, [cmd])
        stream = sub.entity_data_stream
        service._book.add(sub, [cmd])
        sub._on_resubscribe(service._book.assign(sub))
        dispatch = service._dispatch
        queue = stream._queue
        delivered = 0
        begin = time.perf_counter()
        for index, raw in enumerate(messages):
            dispatch(raw)
            if index % 256 == 255:  # a consumer keeps up, as the chart's timer does: nothing piles up
                while not queue.empty():
                    queue.get_nowait()
                    delivered += 1
        while not queue.empty():
            queue.get_nowait()
            delivered += 1
        elapsed = time.perf_counter() - begin
        return elapsed, delivered

    return asyncio.run(go())


def run_json(messages: list[bytes]) -> tuple[float, int]:
    loads = json.loads
    begin = time.perf_counter()
    decoded = 0
    for raw in messages:
        loads(raw)
        decoded += 1
    elapsed = time.perf_counter() - begin
    return elapsed, decoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--entities", type=int, default=1, help="entities per update message")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    messages = frames(args.messages, args.entities)
    size = sum(map(len, messages)) / len(messages)
    print(f"{args.messages} entity-data update frames, {args.entities} entity each, {size:.0f} bytes on average")
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, runner in (("ours", run_ours), ("json", run_json)):
            gc.collect()
            elapsed, delivered = runner(messages)
            assert delivered == args.messages, f"{name} delivered {delivered} of {args.messages}"
            best[name] = min(best.get(name, float("inf")), elapsed)
    for name, label in (("ours", "ours (decode + route + dedupe + queue)"), ("json", "json.loads into dicts")):
        print(f"{label:42s} {args.messages / best[name]:>12,.0f} updates/s  ({best[name]:.3f} s)")
    print(f"ratio ours/json: {best['json'] / best['ours']:.2f}x  (goal: >= 50,000 updates/s for ours)")


if __name__ == "__main__":
    main()
