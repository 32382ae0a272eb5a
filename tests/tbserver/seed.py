"""ThingsBoard's demo data (§1.9), scaled to N devices, deterministic for a given seed.

Cheap on purpose: 100,000 devices are plain slotted objects plus two server attributes each; telemetry is
generated per device on first access (see timeseries.py).
"""

from __future__ import annotations

import random

from .model import NULL_UUID, Customer, Dashboard, Device, DeviceProfile, User
from .store import Options, Store
from .timeseries import SeriesGenerator

# (name, profile, customer letter or None, access token)
DEMO_DEVICES = (
    ("Test Device A1", "default", "A", "A1_TEST_TOKEN"),
    ("Test Device A2", "default", "A", "A2_TEST_TOKEN"),
    ("Test Device A3", "default", "A", "A3_TEST_TOKEN"),
    ("Test Device B1", "default", "B", "B1_TEST_TOKEN"),
    ("Test Device C1", "default", "C", "C1_TEST_TOKEN"),
    ("DHT11 Demo Device", "default", None, "DHT11_DEMO_TOKEN"),
    ("Raspberry Pi Demo Device", "default", None, "RASPBERRY_PI_DEMO_TOKEN"),
    ("Thermostat T1", "thermostat", None, "T1_TEST_TOKEN"),
    ("Thermostat T2", "thermostat", None, "T2_TEST_TOKEN"),
)
PROFILES = (("default", "DEFAULT"), ("thermostat", "DEFAULT"), ("sensor", "MQTT"), ("gateway", "MQTT"))
GENERATED_PROFILES = ("sensor", "sensor", "thermostat", "default", "gateway")
# The API key seeded for tenant@thingsboard.org (`store.seed_api_keys`, `TbServer.tenant_api_key`); same shape
# as a real one ("tb_" + URL-safe secret), fixed so tests and manual runs can use it.
TENANT_API_KEY = "tb_TenantDemoApiKey_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
DASHBOARDS = (
    ("Thermostats", True),
    ("Sensor overview", True),
    ("Gateways", False),
    ("Firmware", False),
    ("Rule engine statistics", False),
)


def _ids(rng: random.Random):
    """Time-based-looking (version 1) UUID strings, unique and deterministic per seed, cheap to make."""
    sequence = rng.getrandbits(32)
    mid, high, clock, node = rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(14), rng.getrandbits(48)
    tail = f"-{mid:04x}-1{high:03x}-{0x8000 | clock:04x}-{node:012x}"
    while True:
        sequence = (sequence + 1) & 0xFFFFFFFF
        yield f"{sequence:08x}{tail}"


def build_store(options: Options | None = None) -> Store:
    """A store seeded with the demo accounts, customers A/B/C, profiles, `options.devices` devices, dashboards."""
    options = options or Options()
    store = Store(options)
    rng = random.Random(options.seed)
    ids = _ids(rng)
    now = store.now_ms()
    epoch = now - 30 * 86_400_000

    store.tenant.id = next(ids)
    store.tenant.created_time = epoch
    tenant_id = store.tenant.id
    for n, letter in enumerate("ABC"):
        customer = Customer(next(ids), f"Customer {letter}", epoch + n + 1)
        customer.extra.update({"country": "Ukraine", "city": "Kyiv", "email": f"customer{letter.lower()}@example.com"})
        store.customers[customer.id] = customer
    by_letter = {c.title[-1]: c.id for c in store.customers.values()}

    def add_user(email: str, password: str, authority: str, tenant: str, customer: str, first: str | None = None):
        user = User(next(ids), email, password, authority, tenant, customer, epoch, first_name=first)
        store.users[user.id] = user

    add_user("sysadmin@thingsboard.org", "sysadmin", "SYS_ADMIN", NULL_UUID, NULL_UUID)
    add_user("tenant@thingsboard.org", "tenant", "TENANT_ADMIN", tenant_id, NULL_UUID, "Tenant")
    add_user("customer@thingsboard.org", "customer", "CUSTOMER_USER", tenant_id, by_letter["A"])
    for letter in "ABC":
        add_user(f"customer{letter}@thingsboard.org", "customer", "CUSTOMER_USER", tenant_id, by_letter[letter])

    for n, (name, transport) in enumerate(PROFILES):
        profile = DeviceProfile(next(ids), name, epoch + n, default=name == "default", transport=transport)
        store.profiles[profile.id] = profile
    profile_ids = {p.name: p.id for p in store.profiles.values()}

    count = max(0, options.devices)
    created0 = epoch + 86_400_000
    server = store.attributes["SERVER_SCOPE"]
    client = store.attributes["CLIENT_SCOPE"]
    shared = store.attributes["SHARED_SCOPE"]
    store.generator = SeriesGenerator(options.seed, now)
    customer_cycle = (by_letter["A"], by_letter["B"], by_letter["C"])
    for index in range(count):
        if index < len(DEMO_DEVICES):
            name, profile, letter, token = DEMO_DEVICES[index]
            customer_id = by_letter[letter] if letter else NULL_UUID
            label = None
        else:
            profile = GENERATED_PROFILES[index % len(GENERATED_PROFILES)]
            name = f"{profile.capitalize()}-{index:06d}"
            token = ""
            customer_id = customer_cycle[index % 3] if index % 10 < 3 else NULL_UUID
            label = f"Room {index % 97}" if index % 4 else None
        created = created0 + index * 1000
        device = Device(
            next(ids), name, profile, profile_ids[profile], created, label=label, customer_id=customer_id,
            credentials_id=token or f"TOKEN{index:015d}",
        )
        store.devices[device.id] = device
        store.device_names[name] = device.id
        last_activity = now - int(rng.random() * 3_600_000) if index % 3 else now - 86_400_000 - index
        server[device.id] = {
            "active": (created, rng.random() < 0.7),
            "lastActivityTime": (created, last_activity),
        }
        if index % 5 == 0:
            client[device.id] = {
                "firmwareVersion": (created, f"1.{index % 4}.{index % 7}"),
                "serialNumber": (created, f"SN-{index:08d}"),
            }
        if profile == "thermostat":
            shared[device.id] = {"targetTemperature": (created, 21.5), "reportingInterval": (created, 60)}
            server[device.id]["temperatureAlarmThreshold"] = (created, 30)
        store.ts_pending[device.id] = index

    for n, (title, for_a) in enumerate(DASHBOARDS):
        dashboard = Dashboard(next(ids), title, epoch + 10 + n, {"description": title, "widgets": {}, "states": {}})
        if for_a:
            dashboard.assigned = [by_letter["A"]]
        store.dashboards[dashboard.id] = dashboard
    tenant_admin = store.user_by_email("tenant@thingsboard.org")
    assert tenant_admin is not None
    store.create_api_key(tenant_admin, "Seeded test key", value=TENANT_API_KEY).created_time = epoch + 20
    store.seed_api_keys[tenant_admin.email] = TENANT_API_KEY
    store.changed()
    return store
