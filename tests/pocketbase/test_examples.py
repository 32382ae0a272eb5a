"""Every seed example, ported to today's API under examples/pocketbase/, runs against a real server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pocketbase"

EXPECTED = {
    "quickstart.py": ["signed in as field.engineer@example.com", "create", "delete", "quickstart done"],
    "file_upload.py": ["downloaded back: example content..."],
    "record_helpers.py": ["title='Helpers' options=['a', 'c'] status=True total=42 price=19.99"],
    "error_handling.py": ["status: 404", "(NetworkError)"],
    "auth_store.py": ["remembered: field.engineer@example.com", "after clear -> is_valid: False"],
    "superusers.py": ["signed in as", "deleted it again"],
    "users.py": ["password sign-in enabled: True", "confirm_verification refused:", "deleted the user"],
    "realtime.py": ["create watch me", "delete watched", "connected after unsubscribing: False"],
    "collections.py": ["updated ['id', 'text', 'pinned']", "imported imported_"],
    "records.py": ["updated total: 5", "deleted"],
    "logs.py": ["failed request(s) logged", "latest: GET"],
    "settings.py": ["setting groups:", "test_s3:"],
}


def test_every_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("[!_]*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(pb_server, name: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / name),
            "--url",
            pb_server.url,
            "--email",
            pb_server.superuser_email,
            "--password",
            pb_server.superuser_password,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for expected in EXPECTED[name]:
        assert expected in result.stdout, f"{expected!r} missing from:\n{result.stdout}"
    assert "Traceback" not in result.stderr
