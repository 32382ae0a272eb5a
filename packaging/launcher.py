"""Frozen entry point: points the demo at the bundled PocketBase binary, then runs the app."""

import os
import sys
from pathlib import Path

if getattr(sys, "frozen", False):
    bundle = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    binary = bundle / "pocketbase" / ("pocketbase.exe" if os.name == "nt" else "pocketbase")
    if binary.exists():
        os.environ.setdefault("THINGSCOPE_POCKETBASE_BIN", str(binary))
        os.environ["PATH"] = str(binary.parent) + os.pathsep + os.environ.get("PATH", "")

from ui.app import main

if __name__ == "__main__":
    sys.exit(main())
