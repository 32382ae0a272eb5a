"""The Linux installers build on this machine and the frozen app passes its own self-test.

Slow (a PyInstaller build takes a few minutes): it catches a missing hidden import or Qt plugin,
which only shows up in the frozen app.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "packaging" / "out"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux build runs on Linux")


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHON"] = sys.executable
    # The frozen app keeps its demo data and settings under this scratch home, not the user's.
    env["HOME"] = str(home)
    env["XDG_DATA_HOME"] = str(home / "data")
    env["XDG_CONFIG_HOME"] = str(home / "config")
    env["XDG_CACHE_HOME"] = str(home / "cache")
    env.pop("THINGSCOPE_POCKETBASE_BIN", None)
    return env


def test_icons_are_valid_containers(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "packaging" / "make_icons.py"), str(tmp_path)], check=True,
                   env=_env(tmp_path), capture_output=True)
    ico = (tmp_path / "thingscope.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count == 7
    icns = (tmp_path / "thingscope.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert (tmp_path / "thingscope-256.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian/Ubuntu)")
def test_deb_and_tarball_build_and_the_frozen_app_self_tests(tmp_path):
    build = subprocess.run(["bash", str(ROOT / "packaging" / "build_linux.sh")], env=_env(tmp_path / "home"),
                           capture_output=True, text=True, timeout=1500)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    print(build.stdout.strip().splitlines()[-1])  # the installed size
    debs = list(OUT.glob("thingscope_*.deb"))
    tarballs = list(OUT.glob("thingscope-*-linux-*.tar.gz"))
    assert len(debs) == 1 and len(tarballs) == 1

    frozen = OUT / "dist" / "thingscope" / "thingscope"
    run = subprocess.run([str(frozen), "--self-test"], env=_env(tmp_path / "home1"), capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    scratch = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(scratch)], check=True)
    assert (scratch / "usr" / "share" / "applications" / "thingscope.desktop").is_file()
    launcher = scratch / "usr" / "bin" / "thingscope"
    run = subprocess.run([str(launcher), "--self-test"], env=_env(tmp_path / "home2"), capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
