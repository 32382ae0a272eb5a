"""`console.pocketbase` exports a sorted `__all__` of names that exist, and imports no Qt."""

from __future__ import annotations

import subprocess
import sys

import console.pocketbase as pocketbase


def test_all_is_sorted_and_complete() -> None:
    assert pocketbase.__all__ == sorted(pocketbase.__all__)
    assert len(set(pocketbase.__all__)) == len(pocketbase.__all__)
    for name in pocketbase.__all__:
        assert hasattr(pocketbase, name), name
    public = {
        name
        for name, value in vars(pocketbase).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("console.pocketbase")
    }
    assert public <= set(pocketbase.__all__)


def test_importing_the_sdk_pulls_in_no_qt() -> None:
    code = "import sys, console.pocketbase; print([m for m in sys.modules if m.startswith(('PySide6', 'qasync'))])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
