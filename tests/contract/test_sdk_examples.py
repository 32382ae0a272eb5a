"""Every seed REST example, ported, runs as a script against the emulator and prints what the server holds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "thingsboard"
NULL_UUID = "13814000-1dd2-11b2-8080-808080808080"


def run_example(name: str, url: str, *extra: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--url", url, *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def store_value(server: Any, fn: Any) -> Any:
    return server.call(fn)


def test_basic_usage(tb_server: Any) -> None:
    out = run_example("basic_usage", tb_server.url)
    assert "isAuthenticated=True" in out
    assert "sub='tenant@thingsboard.org'" in out and "TENANT_ADMIN" in out
    assert "currentUserDetails: User(" in out and "email='tenant@thingsboard.org'" in out
    assert out.rstrip().endswith("isAuthenticated=False")


def test_fetch_tenant_devices_lists_every_device_once(tb_server: Any) -> None:
    names = set(store_value(tb_server, lambda: [d.name for d in tb_server.store.devices.values()]))
    out = run_example("fetch_tenant_devices", tb_server.url)
    printed = re.findall(r"^  (.+) \(", out, flags=re.M)
    assert len(printed) == len(set(printed))
    # the shared server may gain devices from other tests while we page; every listed one is real
    assert set(printed) <= names | {n for n in printed if n.startswith("My test device")}
    assert len(printed) >= len(names) - 5
    pages = re.findall(r"^devices: page (\d+) of (\d+)", out, flags=re.M)
    assert int(pages[-1][0]) == int(pages[-1][1]) >= 30


def test_fetch_tenant_dashboards(tb_server: Any) -> None:
    titles = store_value(tb_server, lambda: sorted(d.title for d in tb_server.store.dashboards.values()))
    out = run_example("fetch_tenant_dashboards", tb_server.url)
    assert sorted(re.findall(r"^  (.+)$", out, flags=re.M)) == titles
    assert titles


def test_fetch_customer_devices_shows_only_that_customers_devices(tb_server: Any) -> None:
    def expected() -> list[str]:
        store = tb_server.store
        customer = store.user_by_email("customer@thingsboard.org").customer_id
        return sorted(d.name for d in store.devices.values() if d.customer_id == customer)

    names = store_value(tb_server, expected)
    out = run_example("fetch_customer_devices", tb_server.url)
    printed = re.findall(r"^  (.+) \(", out, flags=re.M)
    assert sorted(printed) == names and names
    assert "Test Device A1" in printed and "Test Device B1" not in printed


def test_count_entities(tb_server: Any) -> None:
    out = run_example("count_entities", tb_server.url)
    total = int(re.search(r"Total devices: (\d+)", out).group(1))
    active = int(re.search(r"Active devices: (\d+)", out).group(1))
    inactive = int(re.search(r"Inactive devices: (\d+)", out).group(1))
    assert total >= 300
    assert active > 0 and inactive > 0
    assert active + inactive <= total


def test_query_entities_lists_only_active_devices(tb_server: Any) -> None:
    out = run_example("query_entities", tb_server.url)
    rows = re.findall(r"^id: (\S+), createdTime: (\d+), name: (.+), type: (\S+), active: (\S+)$", out, flags=re.M)
    assert rows
    assert {row[4] for row in rows} == {"true"}
    created = [int(row[1]) for row in rows]
    assert created == sorted(created, reverse=True)  # sorted by createdTime DESC across pages
    assert len({row[0] for row in rows}) == len(rows)


def test_manage_device_round_trip_leaves_nothing_behind(tb_server: Any) -> None:
    out = run_example("manage_device", tb_server.url)
    name = re.search(r"Deleted device: (.+)$", out, flags=re.M).group(1)
    assert "savedDevice: Device(name='My test device" in out
    assert "foundDevice: DeviceInfo(" in out
    assert "AttributeData(key='targetTemperature', value=22.4" in out
    assert "AttributeData(key='targetHumidity', value=57.8" in out
    assert not store_value(tb_server, lambda: [d for d in tb_server.store.devices.values() if d.name == name])


def test_examples_report_errors_readably() -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "basic_usage.py"), "--url", "localhost:8080"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Error: " in proc.stderr and "http://" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["basic_usage", "fetch_tenant_devices"])
def test_wrong_password_is_reported(tb_server: Any, name: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--url", tb_server.url, "--password", "wrong"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Error: Invalid username or password" in proc.stderr
