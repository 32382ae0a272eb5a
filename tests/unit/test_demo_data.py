"""The demo fleet as pure data: deterministic, realistic in shape, and matching the schema it is written into."""

from __future__ import annotations

import random

from console.demo import data
from console.demo.schema import DEVICES, TELEMETRY, collection_definitions
from console.demo.simulator import prune_statements

NOW = 1_795_458_748_000


def test_same_seed_same_fleet_and_names_do_not_depend_on_the_clock():
    first = data.make_devices(data.DemoConfig(), NOW)
    again = data.make_devices(data.DemoConfig(), NOW + 86_400_000)
    assert [d.name for d in first] == [d.name for d in again]
    assert [d.active for d in first] == [d.active for d in again]
    other = data.make_devices(data.DemoConfig(seed=8), NOW)
    assert [(d.name, d.active) for d in other] != [(d.name, d.active) for d in first]


def test_a_realistic_fleet():
    config = data.DemoConfig()
    devices = data.make_devices(config, NOW)
    assert len(devices) == config.devices >= 200
    assert len({d.name for d in devices}) == len(devices)
    assert {d.profile for d in devices} == {spec.name for spec in data.PROFILES}
    assert len({d.customer for d in devices}) == len(data.CUSTOMERS) + 1  # plus the tenant's own devices
    inactive = sum(not d.active for d in devices)
    assert 0.05 * len(devices) < inactive < 0.35 * len(devices)
    assert all(d.active for d in devices[: config.fast_devices])  # the live ones
    assert all(d.gateway == (d.profile == "gateway") for d in devices)
    assert all(len(d.access_token) == 20 for d in devices)
    assert all(NOW - config.created_span_days * 86_400_000 <= d.created_ms < NOW for d in devices)


def test_device_records_only_use_schema_fields():
    fields = {
        c["name"]: {f["name"] for f in c["fields"]} | {"id"} for c in collection_definitions()
    }
    device = data.make_devices(data.DemoConfig(devices=3), NOW)[0]
    assert set(device.record()) <= fields[DEVICES]
    assert {"device", "key", "ts", "value"} <= fields[TELEMETRY]


def test_history_is_aligned_ascending_and_in_range():
    device = data.make_devices(data.DemoConfig(devices=1), NOW)[0]
    rows = data.history_for(device, NOW - 3_600_000, NOW, 60, random.Random(1))
    keys = [spec.key for spec in data.profile_spec(device.profile).keys]
    assert {key for key, _, _ in rows} == set(keys)
    for key in keys:
        stamps = [ts for k, ts, _ in rows if k == key]
        assert stamps == sorted(stamps) and len(stamps) == 60
        assert all(ts % 60_000 == 0 and NOW - 3_600_000 <= ts < NOW for ts in stamps)


def test_signals_stay_within_their_physical_bounds():
    rng = random.Random(3)
    for spec in (k for p in data.PROFILES for k in p.keys):
        for ts in range(0, 86_400_000, 600_000):
            value = data.signal_value(spec, 0.5, ts, rng)
            assert spec.low is None or value >= spec.low
            assert spec.high is None or value <= spec.high
            assert isinstance(value, int) if spec.digits == 0 else isinstance(value, float)


def test_every_device_has_three_scopes_of_attributes():
    device = data.make_devices(data.DemoConfig(devices=1), NOW)[0]
    attributes = data.attributes_for(device, NOW, random.Random(0))
    assert set(attributes) == {"CLIENT_SCOPE", "SERVER_SCOPE", "SHARED_SCOPE"}
    assert attributes["SERVER_SCOPE"]["active"] is device.active
    assert isinstance(attributes["SERVER_SCOPE"]["location"], dict)


def test_pruning_thins_each_slice_once_then_drops():
    config = data.DemoConfig(live_retention_s=900, max_retention_days=7)
    state: dict[int, int] = {}
    first = prune_statements(NOW, config, state)
    minute_upper = (NOW - 900_000) // 60_000 * 60_000
    assert state[60_000] == minute_upper
    assert f"ts >= {minute_upper - 2 * 3_600_000} AND ts < {minute_upper}" in first[0]
    assert "GROUP BY device, key, CAST(ts / 60000 AS INTEGER)" in first[0]
    assert "CAST(ts / 900000 AS INTEGER)" in first[1]
    assert first[-1].endswith(f"ts < {NOW - 7 * 86_400_000}")
    later = prune_statements(NOW + 60_000, config, state)
    assert f"ts >= {minute_upper} AND ts < {minute_upper + 60_000}" in later[0]  # only the slice that aged since
    assert len(prune_statements(NOW + 60_000, config, state)) == 1  # nothing new to thin: only the drop


def test_the_newest_devices_are_the_live_ones_and_activity_is_plausible():
    config = data.DemoConfig()
    devices = data.make_devices(config, NOW)
    newest = sorted(devices, key=lambda d: d.created_ms, reverse=True)[: config.fast_devices]
    assert {d.index for d in newest} == set(range(config.fast_devices))
    for device in devices:
        assert device.created_ms <= device.last_activity_ms < NOW
        if device.active:
            assert NOW - device.last_activity_ms <= 300_000
