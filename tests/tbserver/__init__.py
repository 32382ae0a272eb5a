"""An in-memory ThingsBoard CE 4.x emulator for tests and benchmarks (reference: shared/reference/thingsboard-api.md).

Run standalone:  python -m tests.tbserver --host 127.0.0.1 --port 8080 --devices 1000 [--seed S]
                 [--access-token-ttl S] [--refresh-token-ttl S] [--rate-limit RPS] [--latency-ms N]
                 [--ws-session-limit N]            → prints "listening on http://HOST:PORT", stops on SIGTERM/SIGINT.
In tests:        fixtures `tb_server` (session, ~300 devices) and `tb_server_factory` (tests/tbserver/fixture.py);
                 `start_subprocess(devices=..., **opts) -> (url, Popen)` for benchmarks.

Modules: store.py (data, sessions, listeners; no aiohttp), seed.py (demo data), model.py (entity JSON shapes),
timeseries.py (lazy generated telemetry), values.py (value typing, aggregation), jwt.py (HS512),
query.py (entity data query), http.py (middlewares, paging, faults), routes_*.py, app.py (create_app),
clients.py (test helpers: logged-in official tb-ce-client, raw httpx client, JWT claims), ws*.py (WebSocket,
written by another engineer).

Seed (deterministic per --seed): users sysadmin@/tenant@/customer@thingsboard.org (+ customerA/B/C@, password
"customer"), customers A/B/C, profiles default/thermostat/sensor/gateway, the nine demo devices of §1.9 then
generated ones ("Sensor-000123"...; those with index % 10 < 3 assigned to A/B/C in turn), every
device with SERVER_SCOPE `active` (~70 % true) and `lastActivityTime`, every 5th with CLIENT_SCOPE firmwareVersion/
serialNumber, thermostats with SHARED_SCOPE targetTemperature/reportingInterval; telemetry temperature (DOUBLE),
humidity and rssi (LONG): one point per minute over the last day, generated on first access; five dashboards, two
("Thermostats", "Sensor overview") assigned to Customer A. Unsupported on purpose: assets, alarms, relations,
2FA, public login, gzip dashboards, API keys over WebSocket (authCmd.apiKey, 4.4). `--rate-limit` is one sliding
one-second window for the whole server (login and refresh exempt), answering 429/33 "Too many requests for current
tenant!".

Interfaces for the WebSocket part (tests/tbserver/ws.py):
- `create_app(store, options)` imports `tests.tbserver.ws` if it exists and calls `ws.setup(app, store, options)`
  (register `/api/ws` there). `options.ws_session_limit` carries `--ws-session-limit`.
- `store.user_for_token(token) -> (User, claims)`; raises `store.Failure` (status 401, error_code 11 for an
  expired/badly signed/logged-out token, 10 for a malformed one). `User` has `.id`, `.authority`
  (SYS_ADMIN/TENANT_ADMIN/CUSTOMER_USER), `.tenant_id`, `.customer_id` (NULL_UUID for tenant admins).
- `store.add_listener(callback) -> remove()`; `callback(entity_id, kind, scope, values, deleted)` runs on the
  server loop after every attribute/telemetry save or delete: kind "ATTRIBUTES" (scope CLIENT_SCOPE/SERVER_SCOPE/
  SHARED_SCOPE) or "TIMESERIES" (scope None); values {key: (ts_ms, typed value)}; deleted entries are (0, "").
- Reading: `store.get_attributes(entity_id, scope, keys|None) -> [(key, ts, value)]`, `store.latest(entity_id) ->
  {key: (ts, value)}`, `store.history(entity_id, key) -> [(ts, value)] ascending`, `values.as_text(value)` (the wire
  string), `values.aggregate(points, start, end, interval, agg)`, `store.devices[id]`, `store.can_see_device(user, d)`,
  `store.now_ms()`.
- Entity queries: `query.find(store, user, query_json) -> PageData dict` and `query.count(store, user, query_json)
  -> int` (raise `store.Failure` on invalid input), same evaluation as POST /api/entitiesQuery/find|count.
- `Options.extra` (dict) carries free-form knobs for other parts (the WebSocket timings use it).
- API keys (4.3+, routes_apikeys.py): `X-Authorization: ApiKey <key>` or `Authorization: ApiKey <key>` on any
  protected /api/** path acts as the key's user (401/10 "Invalid username or password" for an unknown key, "User
  account is not active" for a disabled one, "Authentication failed" for an expired one). Seeded: one key for
  tenant@thingsboard.org, `store.seed_api_keys[email] -> value` (`TbServer.tenant_api_key`, `seed.TENANT_API_KEY`);
  `store.create_api_key(user, description, expiration_time=0, enabled=True) -> ApiKey` (`.value` is the secret),
  `store.user_for_api_key(value) -> User` (raises `store.Failure`). REST: POST /api/apiKey, GET /api/apiKeys/{userId},
  PUT /api/apiKey/{id}/description, PUT /api/apiKey/{id}/enabled/{bool}, DELETE /api/apiKey/{id}.
- Test hooks: `server.faults.add(method, path_regex, status, body=None, headers=None, times=1)`, `server.call(fn)`
  (run on the server loop), `store.advance(seconds)` (move the server clock, e.g. to expire tokens),
  `store.counters` ({"login", "refresh", "requests"}).
"""
