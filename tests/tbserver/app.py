"""`create_app(store, options)`: the aiohttp application serving the emulated ThingsBoard REST API."""

from __future__ import annotations

import importlib
import logging

from aiohttp import web

from . import routes_auth, routes_devices
from .http import FAULTS_KEY, STORE_KEY, Faults, build_middlewares
from .store import Options, Store

log = logging.getLogger("tbserver")
OPTIONS_KEY: web.AppKey[Options] = web.AppKey("options", Options)
ROUTE_MODULES = ("routes_entities", "routes_telemetry", "routes_query", "routes_apikeys")


def create_app(store: Store, options: Options | None = None, faults: Faults | None = None) -> web.Application:
    """Build the application. `faults` is the test-only injector; the WebSocket part hooks in via ws.setup()."""
    options = options or store.options
    faults = faults or Faults()
    app = web.Application(middlewares=build_middlewares(store, faults), client_max_size=16 * 1024 * 1024)
    app[STORE_KEY] = store
    app[FAULTS_KEY] = faults
    app[OPTIONS_KEY] = options
    routes_auth.setup(app)
    routes_devices.setup(app)
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        module.setup(app)
    try:
        ws = importlib.import_module(f"{__package__}.ws")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.ws":
            raise
    else:
        setup = getattr(ws, "setup", None)
        if setup is not None:
            setup(app, store, options)
    return app
