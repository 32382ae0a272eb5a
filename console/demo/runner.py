"""`DemoFleetRunner`: the `--demo` fleet. A private local PocketBase, the demo schema, a seeded fleet on first run,
simulated devices while it runs, and a `PocketBaseFleet` connected to it.

    runner = DemoFleetRunner()          # data under platformdirs user_data_dir("thingscope")/demo
    fleet = await runner.start()        # also runner.fleet
    ...
    await runner.stop()                 # stops the simulator, the fleet and the server process; data stays
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import platformdirs

from console.demo import data
from console.demo.schema import DASHBOARDS
from console.demo.seeding import SeedSummary, enable_batch, ensure_schema, is_seeded, seed
from console.demo.simulator import Simulator, simulated_devices
from console.demo.viewer import VIEWER_PATH, install_viewer
from console.errors import ApiError
from console.fleet.pocketbase import SUPERUSERS, PocketBaseFleet
from console.pocketbase.client import PocketBase
from console.pocketbase.local import LocalPocketBase

__all__ = ["DEMO_SUPERUSER", "DemoBusyError", "DemoFleetRunner", "default_demo_dir"]

log = logging.getLogger(__name__)

DEMO_SUPERUSER = "demo@example.com"


def default_demo_dir() -> Path:
    return Path(platformdirs.user_data_dir("thingscope")) / "demo"


class DemoBusyError(ApiError):
    """Another Thingscope already runs the demo on this data folder (two servers must not share one database)."""


class _FolderLock:
    """An exclusive, non-blocking lock on `folder/demo.lock`, released by the OS if we die."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "demo.lock"
        self._handle: IO[bytes] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # held for as long as the demo runs
        try:
            if sys.platform == "win32":
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise DemoBusyError(
                "The demo is already running in another Thingscope window (close it first).", original_error=exc
            ) from exc
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # closing drops the lock on every platform


class DemoFleetRunner:
    """Runs the embedded demo; `start()` returns the connected fleet, `stop()` releases everything."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        config: data.DemoConfig | None = None,
        simulate: bool = True,
        port: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_demo_dir()
        self.config = config or data.DemoConfig()
        self.simulate = simulate
        self.server = LocalPocketBase(self.data_dir / "pb_data", port, superuser_email=DEMO_SUPERUSER)
        self.fleet: PocketBaseFleet | None = None
        self.simulator: Simulator | None = None
        self.seeded: SeedSummary | None = None  # set when this start filled an empty database
        self._admin: PocketBase | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = _FolderLock(self.data_dir)

    def __repr__(self) -> str:
        return f"DemoFleetRunner({str(self.data_dir)!r}, running={self.running})"

    @property
    def running(self) -> bool:
        return self.server.running

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self) -> PocketBaseFleet:
        """Start the server, create the schema, seed when empty, start the simulator, connect the fleet."""
        if self.fleet is not None:
            return self.fleet
        self._lock.acquire()
        try:
            await asyncio.to_thread(install_viewer, self.server.data_dir / "pb_public")
            await self.server.astart()
            admin = self._admin = PocketBase(self.server.url)
            await admin.collection(SUPERUSERS).auth_with_password(
                self.server.superuser_email, self.server.superuser_password
            )
            await enable_batch(admin)
            await ensure_schema(admin)
            # the viewer page reads dashboards without signing in (this server only listens on 127.0.0.1)
            await admin.collections.update(DASHBOARDS, {"viewRule": ""})
            if not await is_seeded(admin):
                self.seeded = await seed(admin, self.config, int(time.time() * 1000))
            if self.simulate:
                await self._start_simulator(admin)
            fleet = PocketBaseFleet(
                self.server.url,
                identity=self.server.superuser_email,
                password=self.server.superuser_password,
                dashboard_viewer=VIEWER_PATH,
            )
            await fleet.connect()
            # the title is the journal's server key (History, Undo): stable across runs, not the port of this one
            custom = self.data_dir != default_demo_dir()
            fleet.title = f"Demo fleet ({self.data_dir})" if custom else "Demo fleet"
            self.fleet = fleet
            return fleet
        except BaseException:
            await self.stop()
            raise

    async def _start_simulator(self, admin: PocketBase) -> None:
        self.simulator = Simulator(admin, self.config, await simulated_devices(admin))
        self._task = asyncio.create_task(self._run_simulator(), name="demo-simulator")

    async def _run_simulator(self) -> None:
        assert self.simulator is not None
        try:
            await self.simulator.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # the demo keeps working without live data; say why once
            log.exception("the demo simulator stopped")

    async def stop(self) -> None:
        """Stop the simulator, close the clients and stop the server process (the data folder stays)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        fleet, self.fleet = self.fleet, None
        if fleet is not None:
            with contextlib.suppress(ApiError):
                await fleet.close()
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(ApiError):
                await admin.close()
        await asyncio.to_thread(self.server.stop)
        self._lock.release()

    async def __aenter__(self) -> DemoFleetRunner:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
