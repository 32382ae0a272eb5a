"""Emulator speed: start with 100,000 devices, then page all device infos (size 1000) with raw httpx.

Run: cd /work/main && /work/venv/bin/python -m tests.bench.bench_tbserver [--devices N]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import signal
import time

import httpx
import msgspec

from tests.tbserver.fixture import start_subprocess


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    url, proc = start_subprocess(devices=args.devices)
    print(f"startup ({args.devices} devices): {time.perf_counter() - started:.2f} s")
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            token = client.post("/api/auth/login", json={"username": "tenant@thingsboard.org",
                                                         "password": "tenant"}).json()["token"]
            client.headers["X-Authorization"] = f"Bearer {token}"
            for label, extra in (("default order", {}), ("sorted by name DESC", {"sortProperty": "name",
                                                                                 "sortOrder": "DESC"}),
                                 ("textSearch 'sensor'", {"textSearch": "sensor"})):
                began, page, seen = time.perf_counter(), 0, 0
                while True:
                    response = client.get("/api/tenant/deviceInfos",
                                          params={"pageSize": args.page_size, "page": page, **extra})
                    body = msgspec.json.decode(response.content)  # fast decode: measure the server, not json
                    seen += len(body["data"])
                    if not body["hasNext"]:
                        break
                    page += 1
                print(f"page all deviceInfos, {label}: {seen} devices in {page + 1} pages, "
                      f"{time.perf_counter() - began:.2f} s")
            query = {"entityFilter": {"type": "entityType", "entityType": "DEVICE"},
                     "keyFilters": [{"key": {"type": "SERVER_ATTRIBUTE", "key": "active"}, "valueType": "BOOLEAN",
                                     "predicate": {"type": "BOOLEAN", "operation": "EQUAL",
                                                   "value": {"defaultValue": True}}}]}
            began = time.perf_counter()
            count = client.post("/api/entitiesQuery/count", json=query).json()
            print(f"entity count with key filter on active: {count} in {time.perf_counter() - began:.2f} s")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()


if __name__ == "__main__":
    main()
