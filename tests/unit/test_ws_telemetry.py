"""TelemetryService without a server: URL derivation, refusing impossible commands, closing, state events."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from console.errors import ApiError
from console.thingsboard import ConnectionState, EntityDataCmd, TelemetryService, TelemetrySubscriber
from console.thingsboard.ws_commands import MAX_FRAME_BYTES


class FakeClient:
    def __init__(self, url: str) -> None:
        self.base_url = httpx.URL(url)
        self.api_key = None
        self.ssl_context = None


def test_socket_url_follows_the_rest_url():
    assert TelemetryService(FakeClient("http://tb.local:8080/")).url == "ws://tb.local:8080/api/ws"
    assert TelemetryService(FakeClient("https://tb.example.com/tb/")).url == "wss://tb.example.com/tb/api/ws"


async def test_a_command_too_large_for_the_server_is_refused_at_subscribe():
    service = TelemetryService(FakeClient("http://127.0.0.1:9/"))
    huge = EntityDataCmd(query={"entityFilter": {"type": "entityList", "entityList": ["x" * MAX_FRAME_BYTES]}})
    sub = TelemetrySubscriber(service, [huge])
    with pytest.raises(ApiError, match="too large"):
        sub.subscribe()
    assert service.state.state == "closed"  # nothing was started


async def test_close_ends_streams_and_reports_closed_even_while_connecting():
    service = TelemetryService(FakeClient("http://127.0.0.1:9/"))  # nothing listens on port 9

    async def no_token() -> None:
        return None

    service._client.ensure_token = no_token  # type: ignore[attr-defined]
    service._client.api_key = "key"
    states: list[ConnectionState] = []
    started = asyncio.Event()
    service.on_state(lambda state: (states.append(state), started.set()))
    sub = TelemetrySubscriber(service, [EntityDataCmd(query={})])
    stream = sub.entity_data_stream
    sub.subscribe()
    await started.wait()
    await service.close()
    assert states[0].state == "connecting" and states[-1].state == "closed"
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()
