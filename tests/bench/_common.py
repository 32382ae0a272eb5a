"""Measuring helpers the benchmark scripts share: memory of this process, and running one measurement in a fresh child.

Each contender runs in its own child process, so imports and caches of one never help the next; the child prints
its figures as one JSON object on its last stdout line, and the parent reads that line back.
"""

from __future__ import annotations

import json
import resource
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["peak_rss_kb", "rss_kb", "run_json_child"]


def rss_kb(default: float = 0) -> float:
    """The resident set size of this process now, in KiB (from /proc, Linux); `default` where unavailable."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return default


def peak_rss_kb() -> int:
    """The highest resident set size this process has had, in KiB (ru_maxrss; Linux counts in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_json_child(
    argv: Sequence[str],
    *,
    timeout: float,
    what: str,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> dict[str, Any]:
    """Run `argv` and return the JSON object on the last stdout line that starts with "{".

    Raises RuntimeError naming `what`, with the end of the child's stderr, when it exits non-zero (`check`) or
    prints no JSON object.
    """
    result = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{what} printed no figures ({result.returncode}):\n{result.stderr[-2000:]}")
