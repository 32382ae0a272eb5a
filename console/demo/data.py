"""The demo fleet as pure data: profiles, customers, devices, attributes, dashboards and telemetry signals.

Deterministic for a given seed, so a test can predict what a fresh demo contains. No I/O here: `seeding.py`
writes these rows to PocketBase and `simulator.py` keeps the signals moving.
"""

from __future__ import annotations

import math
import random
import string
import zlib
from dataclasses import dataclass
from typing import Any

from console.demo.schema import row_id

__all__ = [
    "CUSTOMERS",
    "PROFILES",
    "DemoConfig",
    "DemoDevice",
    "KeySpec",
    "ProfileSpec",
    "attributes_for",
    "dashboards",
    "device_phase",
    "history_for",
    "make_devices",
    "signal_value",
]


@dataclass(frozen=True)
class KeySpec:
    """One numeric telemetry key: a daily-ish wave plus noise, rounded for display."""

    key: str
    base: float
    amplitude: float
    noise: float
    period_s: float = 3600.0
    digits: int = 1
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ProfileSpec:
    name: str
    prefix: str
    description: str
    transport: str
    keys: tuple[KeySpec, ...]
    labels: tuple[str, ...]
    models: tuple[str, ...]
    gateway: bool = False
    weight: int = 10


PROFILES: tuple[ProfileSpec, ...] = (
    ProfileSpec(
        "thermostat",
        "TH",
        "Room thermostats with humidity sensing",
        "MQTT",
        (KeySpec("temperature", 21.5, 2.5, 0.2), KeySpec("humidity", 45, 8, 1.0, digits=0, low=0, high=100)),
        ("Office", "Meeting room", "Lobby", "Server room", "Canteen"),
        ("Nest T3", "Honeywell T6", "Tado V3"),
        weight=16,
    ),
    ProfileSpec(
        "energy-meter",
        "EM",
        "Three-phase energy meters",
        "MQTT",
        (
            KeySpec("power", 12, 6, 0.8, period_s=1800, digits=2, low=0),
            KeySpec("voltage", 230, 4, 0.6, period_s=900),
            KeySpec("current", 18, 8, 1.0, period_s=1800, digits=2, low=0),
        ),
        ("Main feed", "HVAC", "Lighting", "Production line"),
        ("Schneider PM5560", "ABB B23"),
        weight=12,
    ),
    ProfileSpec(
        "air-quality",
        "AQ",
        "Indoor air quality monitors",
        "HTTP",
        (
            KeySpec("co2", 650, 250, 25, period_s=2400, digits=0, low=380),
            KeySpec("pm25", 9, 5, 1.5, period_s=3000, low=0),
            KeySpec("temperature", 22, 1.5, 0.2),
        ),
        ("Open space", "Classroom", "Lab", "Workshop"),
        ("Airthings View", "Awair Omni"),
        weight=10,
    ),
    ProfileSpec(
        "cold-storage",
        "CS",
        "Freezer and cold-room probes",
        "COAP",
        (KeySpec("temperature", -18, 1.2, 0.3), KeySpec("compressor_load", 55, 25, 4, period_s=1200, digits=0)),
        ("Freezer A", "Freezer B", "Cold room", "Blast chiller"),
        ("Dixell XR60", "Carel ir33"),
        weight=8,
    ),
    ProfileSpec(
        "water-flow",
        "WF",
        "Water flow and pressure meters",
        "LWM2M",
        (KeySpec("flow", 32, 14, 2, period_s=2700, low=0), KeySpec("pressure", 3.2, 0.4, 0.05, digits=2)),
        ("Inlet", "Irrigation", "Cooling loop", "Fire line"),
        ("Siemens MAG 5000", "Kamstrup flowIQ"),
        weight=8,
    ),
    ProfileSpec(
        "tracker",
        "TR",
        "Asset trackers on vehicles and pallets",
        "MQTT",
        (KeySpec("battery", 78, 15, 0.5, period_s=7200, digits=0, low=0, high=100), KeySpec("speed", 28, 24, 4, low=0)),
        ("Forklift", "Van", "Pallet", "Container"),
        ("Teltonika FMB920", "Queclink GL300"),
        weight=8,
    ),
    ProfileSpec(
        "gateway",
        "GW",
        "Edge gateways that proxy field devices",
        "MQTT",
        (
            KeySpec("cpu", 35, 20, 5, period_s=600, digits=0, low=0, high=100),
            KeySpec("memory", 58, 10, 2, period_s=5400, digits=0, low=0, high=100),
            KeySpec("connected_devices", 24, 6, 0.5, period_s=7200, digits=0, low=0),
        ),
        ("Edge rack", "Roof cabinet", "Control room"),
        ("Advantech UNO-2271G", "Siemens IOT2050"),
        gateway=True,
        weight=3,
    ),
)

# (title, city, site code); devices with no customer belong to the tenant itself.
CUSTOMERS: tuple[tuple[str, str, str], ...] = (
    ("Acme Foods", "Lyon", "LYO"),
    ("Harbor Logistics", "Rotterdam", "RTM"),
    ("Northwind Campus", "Austin", "AUS"),
    ("Sakura Warehousing", "Osaka", "OSA"),
    ("Green Valley Farms", "Nakuru", "NAK"),
)
_TENANT_SITE = ("", "Headquarters", "HQ")


@dataclass(frozen=True)
class DemoConfig:
    """How big the demo is and how busy its simulator is (tests shrink it)."""

    devices: int = 320
    seed: int = 7
    inactive_share: float = 0.18
    fast_devices: int = 40  # post every `fast_period_s`; they also get the 2-hour history
    fast_period_s: float = 1.0
    slow_period_s: float = 30.0  # everyone else
    flip_probability: float = 0.03  # per tick: one device goes active/inactive
    history_minutes: int = 120
    history_step_s: int = 60
    long_history_devices: int = 2
    long_history_days: int = 3
    long_history_step_s: int = 900
    live_retention_s: int = 900  # live points older than this thin out to one per minute (see simulator.py)
    max_retention_days: int = 7  # then go entirely
    created_span_days: int = 120


@dataclass(frozen=True)
class DemoDevice:
    """One device row as the seeder writes it; `index` drives every deterministic choice about it."""

    index: int
    name: str
    label: str
    profile: str
    customer: str
    site: str
    active: bool
    gateway: bool
    description: str
    access_token: str
    firmware: str
    model: str
    created_ms: int
    last_activity_ms: int
    phase: float = 0.0

    @property
    def ident(self) -> str:
        """The device's record id (derived from its name, so nothing has to be read back after seeding)."""
        return row_id("device", self.name)

    def record(self) -> dict[str, Any]:
        """The `devices` record body (PocketBase's own `created` is the seeding time; `created_time` is the age)."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.profile,
            "profile": self.profile,
            "customer": self.customer,
            "site": self.site,
            "active": self.active,
            "gateway": self.gateway,
            "description": self.description,
            "access_token": self.access_token,
            "firmware": self.firmware,
            "last_activity": self.last_activity_ms,
            "created_time": self.created_ms,
        }


def profile_spec(name: str) -> ProfileSpec:
    for spec in PROFILES:
        if spec.name == name:
            return spec
    raise KeyError(name)


def _token(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=20))


def make_devices(config: DemoConfig, now_ms: int) -> list[DemoDevice]:
    """`config.devices` devices across the profiles and sites; the first `fast_devices` are all active."""
    rng = random.Random(config.seed)
    weights = [spec.weight for spec in PROFILES]
    sites = [*CUSTOMERS, _TENANT_SITE]
    counters: dict[tuple[str, str], int] = {}
    # the newest devices are the live ones, so the default view (newest first) opens on devices with charts
    ages = sorted(rng.uniform(0.2, config.created_span_days) for _ in range(config.devices))
    devices = []
    for index in range(config.devices):
        spec = PROFILES[index % len(PROFILES)] if index < len(PROFILES) else rng.choices(PROFILES, weights)[0]
        customer, city, code = sites[rng.randrange(len(sites))]
        number = counters.get((spec.prefix, code), 0) + 1
        counters[(spec.prefix, code)] = number
        label = f"{rng.choice(spec.labels)} {rng.randint(1, 9)}"
        active = index < config.fast_devices or rng.random() >= config.inactive_share
        created = now_ms - int(ages[index] * 86_400_000)
        if active:
            last_activity = now_ms - rng.randrange(1_000, 300_000)
        else:
            last_activity = created + int((now_ms - created) * rng.uniform(0.3, 0.95))
        devices.append(
            DemoDevice(
                index=index,
                name=f"{spec.prefix}-{code}-{number:04d}",
                label=label,
                profile=spec.name,
                customer=customer,
                site=city,
                active=active,
                gateway=spec.gateway,
                description=f"{spec.description}, {label.lower()} at {city}.",
                access_token=_token(rng),
                firmware=f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}",
                model=rng.choice(spec.models),
                created_ms=created,
                last_activity_ms=last_activity,
                phase=device_phase(f"{spec.prefix}-{code}-{number:04d}"),
            )
        )
    return devices


def device_phase(name: str) -> float:
    """A device's wave phase, from its name alone: the seeded history and the simulator (which only knows what it
    reads back from the server) must draw the same wave, or the live tail jumps away from the history."""
    return zlib.crc32(name.encode()) / 0xFFFFFFFF * 2 * math.pi


def signal_value(spec: KeySpec, phase: float, ts_ms: int, rng: random.Random) -> float | int:
    """The value a device reports for one key at `ts_ms`: smooth wave + noise, clamped and rounded."""
    wave = math.sin(2 * math.pi * (ts_ms / 1000.0) / spec.period_s + phase)
    value = spec.base + spec.amplitude * wave + rng.gauss(0, spec.noise)
    if spec.low is not None:
        value = max(spec.low, value)
    if spec.high is not None:
        value = min(spec.high, value)
    return round(value) if spec.digits == 0 else round(float(value), spec.digits)


def history_for(
    device: DemoDevice, start_ms: int, end_ms: int, step_s: int, rng: random.Random
) -> list[tuple[str, int, float | int]]:
    """(key, ts, value) rows at `step_s` steps in [start_ms, end_ms), aligned to whole steps."""
    step = step_s * 1000
    first = -(-start_ms // step) * step
    rows = []
    for spec in profile_spec(device.profile).keys:
        for ts in range(first, end_ms, step):
            rows.append((spec.key, ts, signal_value(spec, device.phase, ts, rng)))
    return rows


def attributes_for(device: DemoDevice, now_ms: int, rng: random.Random) -> dict[str, dict[str, Any]]:
    """The three scopes of attributes of one device, ThingsBoard-style."""
    lat, lon = _SITE_COORDS.get(device.site, (48.85, 2.35))
    spec = profile_spec(device.profile)
    shared: dict[str, Any] = {
        "reporting_interval": 1 if device.index < 40 else 30,
        "alarm_enabled": rng.random() < 0.7,
        "threshold": round(spec.keys[0].base + 2 * spec.keys[0].amplitude, 1),
    }
    if device.profile == "thermostat":
        shared["setpoint"] = round(rng.uniform(19, 23), 1)
    return {
        "CLIENT_SCOPE": {
            "fw_version": device.firmware,
            "model": device.model,
            "serial": f"SN{device.index:06d}{rng.randint(100, 999)}",
        },
        "SERVER_SCOPE": {
            "active": device.active,
            "lastActivityTime": device.last_activity_ms,
            "location": {
                "lat": round(lat + rng.uniform(-0.05, 0.05), 5),
                "lon": round(lon + rng.uniform(-0.05, 0.05), 5),
            },
            "install_date": _date(device.created_ms),
        },
        "SHARED_SCOPE": shared,
    }


_SITE_COORDS = {
    "Lyon": (45.76, 4.84),
    "Rotterdam": (51.92, 4.48),
    "Austin": (30.27, -97.74),
    "Osaka": (34.69, 135.50),
    "Nakuru": (-0.30, 36.07),
    "Headquarters": (48.85, 2.35),
}


def _date(ms: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).date().isoformat()


def dashboards() -> list[dict[str, Any]]:
    """A handful of dashboards (some assigned to customers, one public), with ThingsBoard-like configuration."""
    items = [
        ("Fleet overview", [], False, ["devices table", "active map"]),
        ("Energy consumption", ["Acme Foods", "Northwind Campus"], False, ["power chart", "voltage gauge"]),
        ("Cold chain", ["Sakura Warehousing"], False, ["freezer temperatures", "compressor load"]),
        ("Air quality", ["Northwind Campus"], True, ["co2 chart", "pm2.5 chart"]),
        ("Water network", ["Green Valley Farms"], False, ["flow chart", "pressure chart"]),
        ("Logistics trackers", ["Harbor Logistics"], False, ["tracker map", "battery table"]),
        ("Gateway health", [], False, ["cpu chart", "memory chart"]),
        ("Public status board", [], True, ["status cards"]),
    ]
    out = []
    for title, customers, public, widgets in items:
        out.append(
            {
                "title": title,
                "customers": customers,
                "public": public,
                "configuration": {
                    "description": f"{title} (demo)",
                    "widgets": {
                        f"w{i}": {"type": "timeseries" if "chart" in w else "latest", "config": {"title": w}}
                        for i, w in enumerate(widgets)
                    },
                    "timewindow": {"realtime": {"timewindowMs": 3_600_000}},
                    "settings": {"stateControllerId": "entity", "showTitle": True},
                },
            }
        )
    return out
