"""Entry point: parses the command line, builds the QApplication and runs it on a qasync loop."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thingscope", description="A desktop console for IoT fleets.")
    parser.add_argument("--demo", action="store_true", help="start a private local demo fleet and connect to it")
    parser.add_argument("--profile", metavar="NAME", help="connect with this saved profile")
    parser.add_argument("--screenshot", metavar="PATH", help="save the main window once rows are painted, then exit")
    parser.add_argument("--self-test", action="store_true", help="open offscreen against the demo and check it works")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print("thingscope: the console is not built yet", args, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
