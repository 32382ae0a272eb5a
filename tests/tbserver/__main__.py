"""CLI: `python -m tests.tbserver --host 127.0.0.1 --port PORT --devices N ...` (see the package docstring)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aiohttp import web

from .app import create_app
from .seed import build_store
from .store import Options


def parse_args(argv: list[str] | None = None) -> tuple[str, int, Options]:
    parser = argparse.ArgumentParser(prog="python -m tests.tbserver", description="In-memory ThingsBoard emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--access-token-ttl", type=int, default=9000, metavar="SECONDS")
    parser.add_argument("--refresh-token-ttl", type=int, default=604800, metavar="SECONDS")
    parser.add_argument("--rate-limit", type=float, default=None, metavar="REQUESTS_PER_SECOND")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--ws-session-limit", type=int, default=0)
    args = parser.parse_args(argv)
    options = Options(
        devices=args.devices, seed=args.seed, access_token_ttl=args.access_token_ttl,
        refresh_token_ttl=args.refresh_token_ttl, rate_limit=args.rate_limit, latency_ms=args.latency_ms,
        ws_session_limit=args.ws_session_limit,
    )
    return args.host, args.port, options


async def serve(host: str, port: int, options: Options) -> None:
    store = build_store(options)
    runner = web.AppRunner(create_app(store, options), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    print(f"listening on http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    host, port, options = parse_args(argv)
    asyncio.run(serve(host, port, options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
