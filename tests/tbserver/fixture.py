"""Pytest fixtures and helpers that run the emulator in-process (own loop, own thread) or as a subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from .app import create_app
from .http import Faults
from .seed import build_store
from .store import Options, Store

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]


class TbServer:
    """A running emulator: `.url`, `.store`, `.faults`, `.options`, `.tenant_api_key`, `.call(fn)`, `.stop()`."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.store: Store = build_store(options)
        self.faults = Faults()
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._ready: Future[str] = Future()
        self._thread = threading.Thread(target=self._run, name="tbserver", daemon=True)

    def start(self) -> TbServer:
        self._thread.start()
        self.url = self._ready.result(timeout=60)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start())
        except BaseException as exc:  # report start failures to the waiting test
            self._ready.set_exception(exc)
            return
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
        self._loop.close()

    async def _start(self) -> None:
        app = create_app(self.store, self.options, self.faults)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._ready.set_result(f"http://127.0.0.1:{port}")

    @property
    def tenant_api_key(self) -> str:
        """The API key seeded for tenant@thingsboard.org (`X-Authorization: ApiKey <key>`)."""
        return self.store.seed_api_keys["tenant@thingsboard.org"]

    def call(self, fn: Callable[[], T], timeout: float = 30) -> T:
        """Run `fn()` on the server's loop (the store's owner) and return its result."""

        async def invoke() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)


def start_server(devices: int = 50, **opts: Any) -> TbServer:
    """Start an in-process emulator; the caller stops it."""
    return TbServer(Options(devices=devices, **{k: v for k, v in opts.items() if v is not None})).start()


@pytest.fixture(scope="session")
def tb_server() -> Iterator[TbServer]:
    """One shared emulator with ~300 devices. Tests that mutate shared data create their own entities."""
    server = start_server(devices=300)
    yield server
    server.stop()


@pytest.fixture
def tb_server_factory() -> Iterator[Callable[..., TbServer]]:
    """`tb_server_factory(devices=50, access_token_ttl=..., refresh_token_ttl=..., rate_limit=..., latency_ms=...,
    ws_session_limit=..., seed=...)` starts a fresh emulator; all are stopped when the test ends."""
    started: list[TbServer] = []

    def factory(devices: int = 50, **opts: Any) -> TbServer:
        server = start_server(devices=devices, **opts)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


def start_subprocess(devices: int = 1000, timeout: float = 120, **opts: Any) -> tuple[str, subprocess.Popen[str]]:
    """Start `python -m tests.tbserver` on a free port; returns (url, process) once "listening on" is printed.

    Options are the CLI flags in snake_case (`access_token_ttl=5`, `latency_ms=20`, `rate_limit=50`, ...).
    The caller terminates the process (`proc.terminate(); proc.wait()`).
    """
    args = [sys.executable, "-m", "tests.tbserver", "--host", "127.0.0.1", "--port", "0", "--devices", str(devices)]
    for key, value in opts.items():
        if value is not None:
            args += [f"--{key.replace('_', '-')}", str(value)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    result: Future[str] = Future()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("listening on ") and not result.done():
                result.set_result(line.split("listening on ", 1)[1].strip())
        if not result.done():
            result.set_exception(RuntimeError(f"emulator exited with code {proc.wait()}"))

    threading.Thread(target=reader, daemon=True).start()
    try:
        url = result.result(timeout=timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return url, proc
