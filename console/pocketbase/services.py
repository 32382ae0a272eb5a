"""The small services a `PocketBase` client owns: collections, files, logs, settings, health and batch.

Each is built from the client alone and goes through `client.send`, so errors, auth and cancellation behave
the same everywhere. Names follow the JS SDK (`get_full_list`, `get_all`, `check`, `get_url`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import msgspec

from console.errors import ApiError, error_for_status
from console.pocketbase._query import list_params, seg
from console.pocketbase.models import (
    BatchResult,
    CollectionModel,
    HealthCheck,
    LogModel,
    LogStat,
    RecordModel,
    ResultList,
    dec_hook,
)

if TYPE_CHECKING:
    from console.pocketbase.client import FileTuple, PocketBase

__all__ = [
    "BatchRequest",
    "CollectionService",
    "FileService",
    "HealthService",
    "LogService",
    "SettingsService",
    "SubBatchService",
]

_collection_list_decoder = msgspec.json.Decoder(ResultList[CollectionModel])
_collection_decoder = msgspec.json.Decoder(CollectionModel)
_scaffolds_decoder = msgspec.json.Decoder(dict[str, CollectionModel])
_log_list_decoder = msgspec.json.Decoder(ResultList[LogModel])
_log_decoder = msgspec.json.Decoder(LogModel)
_log_stats_decoder = msgspec.json.Decoder(list[LogStat])
_health_decoder = msgspec.json.Decoder(HealthCheck)
_dict_decoder = msgspec.json.Decoder(dict[str, Any])
_batch_decoder = msgspec.json.Decoder(list[BatchResult], dec_hook=dec_hook)
_token_decoder = msgspec.json.Decoder(dict[str, str])

_T = TypeVar("_T")


class _ListService(Generic[_T]):
    """A service with a paged `get_list` (page, perPage, filter, sort, fields, skipTotal) at `_list_path`."""

    _list_path: ClassVar[str]
    _list_decoder: ClassVar[msgspec.json.Decoder[Any]]

    def __init__(self, client: PocketBase) -> None:
        self._client = client

    async def get_list(
        self,
        page: int = 1,
        per_page: int = 30,
        *,
        filter: str | None = None,
        sort: str | None = None,
        fields: str | None = None,
        skip_total: bool = False,
    ) -> ResultList[_T]:
        return await self._client.send_decoded(
            self._list_decoder,
            self._list_path,
            params=list_params(page, per_page, filter=filter, sort=sort, fields=fields, skip_total=skip_total),
        )


class CollectionService(_ListService[CollectionModel]):
    """Collection schemas (superuser only): `pb.collections`."""

    _list_path = "/api/collections"
    _list_decoder = _collection_list_decoder

    async def get_full_list(
        self, batch: int = 1000, *, filter: str | None = None, sort: str | None = None
    ) -> list[CollectionModel]:
        items: list[CollectionModel] = []
        page = 1
        while True:
            result = await self.get_list(page, batch, filter=filter, sort=sort, skip_total=True)
            items.extend(result.items)
            if len(result.items) < min(batch, result.per_page or batch):  # the server may clamp perPage
                return items
            page += 1

    async def get_one(self, id_or_name: str) -> CollectionModel:
        return await self._client.send_decoded(_collection_decoder, f"/api/collections/{seg(id_or_name)}")

    async def create(self, body: Mapping[str, Any]) -> CollectionModel:
        return await self._client.send_decoded(
            _collection_decoder, "/api/collections", method="POST", body=dict(body)
        )

    async def update(self, id_or_name: str, body: Mapping[str, Any]) -> CollectionModel:
        """Partial update; to change fields send the whole `fields` list (existing fields keep their `id`)."""
        return await self._client.send_decoded(
            _collection_decoder, f"/api/collections/{seg(id_or_name)}", method="PATCH", body=dict(body)
        )

    async def delete(self, id_or_name: str) -> None:
        await self._client.send(f"/api/collections/{seg(id_or_name)}", method="DELETE")

    async def truncate(self, id_or_name: str) -> None:
        """Delete every record of the collection (the schema stays)."""
        await self._client.send(f"/api/collections/{seg(id_or_name)}/truncate", method="DELETE")

    async def import_collections(
        self, collections: Sequence[Mapping[str, Any]], *, delete_missing: bool = False
    ) -> None:
        """All-or-nothing import; with `delete_missing` collections and fields not listed are deleted."""
        await self._client.send(
            "/api/collections/import",
            method="PUT",
            body={"collections": [dict(c) for c in collections], "deleteMissing": delete_missing},
        )

    async def get_scaffolds(self) -> dict[str, CollectionModel]:
        return await self._client.send_decoded(_scaffolds_decoder, "/api/collections/meta/scaffolds")


class FileService:
    """File URLs and short-lived file tokens: `pb.files`."""

    def __init__(self, client: PocketBase) -> None:
        self._client = client

    def get_url(
        self,
        record: Mapping[str, Any],
        filename: str,
        *,
        thumb: str | None = None,
        download: bool = False,
        token: str | None = None,
    ) -> str:
        """The absolute URL of one stored file (`thumb="100x100"`, `token=` for protected files)."""
        record_id = str(record.get("id") or "")
        collection = str(record.get("collectionId") or record.get("collectionName") or "")
        if not filename or not record_id or not collection:
            return ""
        params: dict[str, Any] = {"thumb": thumb, "token": token}
        if download:
            params["download"] = 1
        return self._client.build_url(
            f"/api/files/{seg(collection)}/{seg(record_id)}/{seg(filename)}", params
        )

    async def get_token(self) -> str:
        """A file token (valid ~3 minutes) for protected files; needs a signed-in record."""
        answer = await self._client.send_decoded(_token_decoder, "/api/files/token", method="POST")
        return answer.get("token", "")


class LogService(_ListService[LogModel]):
    """Request logs (superuser only): `pb.logs`."""

    _list_path = "/api/logs"
    _list_decoder = _log_list_decoder

    async def get_one(self, log_id: str) -> LogModel:
        return await self._client.send_decoded(_log_decoder, f"/api/logs/{seg(log_id)}")

    async def get_stats(self, *, filter: str | None = None) -> list[LogStat]:
        return await self._client.send_decoded(_log_stats_decoder, "/api/logs/stats", params={"filter": filter})

    async def truncate(self) -> None:
        """Delete every log entry (PocketBase ≥ 0.40)."""
        await self._client.send("/api/logs", method="DELETE")


class SettingsService:
    """Application settings (superuser only): `pb.settings`. Secrets are write-only on the server."""

    def __init__(self, client: PocketBase) -> None:
        self._client = client

    async def get_all(self) -> dict[str, Any]:
        return await self._client.send_decoded(_dict_decoder, "/api/settings")

    async def update(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Partial update; returns the full settings."""
        return await self._client.send_decoded(_dict_decoder, "/api/settings", method="PATCH", body=dict(body))

    async def test_s3(self, filesystem: str = "storage") -> None:
        await self._client.send("/api/settings/test/s3", method="POST", body={"filesystem": filesystem})

    async def test_email(self, to_email: str, template: str, collection: str | None = None) -> None:
        body: dict[str, Any] = {"email": to_email, "template": template}
        if collection:
            body["collection"] = collection
        await self._client.send("/api/settings/test/email", method="POST", body=body)


class HealthService:
    """`pb.health.check()`: is the server up (a superuser also sees `canBackup` and the client's IP)."""

    def __init__(self, client: PocketBase) -> None:
        self._client = client

    async def check(self) -> HealthCheck:
        return await self._client.send_decoded(_health_decoder, "/api/health")


class SubBatchService:
    """Queues record writes of one collection into a `BatchRequest`."""

    def __init__(self, batch: BatchRequest, collection: str) -> None:
        self._batch = batch
        self._path = f"/api/collections/{seg(collection)}/records"

    def create(self, body: Mapping[str, Any] | None = None, files: Sequence[FileTuple] | None = None) -> None:
        self._batch._add("POST", self._path, body, files)

    def update(
        self, record_id: str, body: Mapping[str, Any] | None = None, files: Sequence[FileTuple] | None = None
    ) -> None:
        self._batch._add("PATCH", f"{self._path}/{seg(record_id)}", body, files)

    def upsert(self, body: Mapping[str, Any], files: Sequence[FileTuple] | None = None) -> None:
        """Create or update by `body["id"]`."""
        self._batch._add("PUT", self._path, body, files)

    def delete(self, record_id: str) -> None:
        self._batch._add("DELETE", f"{self._path}/{seg(record_id)}", None, None)


class BatchRequest:
    """Record writes sent as one transaction (`POST /api/batch`); batch must be enabled in the settings."""

    def __init__(self, client: PocketBase) -> None:
        self._client = client
        self._requests: list[dict[str, Any]] = []
        self._files: list[FileTuple] = []

    def __len__(self) -> int:
        return len(self._requests)

    def collection(self, id_or_name: str) -> SubBatchService:
        return SubBatchService(self, id_or_name)

    def _add(
        self, method: str, url: str, body: Mapping[str, Any] | None, files: Sequence[FileTuple] | None
    ) -> None:
        index = len(self._requests)
        item: dict[str, Any] = {"method": method, "url": url}
        if body is not None:
            item["body"] = dict(body)
        for field, value in files or ():
            self._files.append((f"requests.{index}.{field}", value))
        self._requests.append(item)

    async def send(self) -> list[BatchResult]:
        """Run every queued write in one transaction; one failure rolls back all and raises with its reason."""
        if not self._requests:
            return []
        body = {"requests": self._requests}
        try:
            return await self._client.send_decoded(
                _batch_decoder, "/api/batch", method="POST", body=body, files=self._files or None
            )
        except ApiError as exc:
            raise _explain_batch_error(exc) from exc.original_error


def _explain_batch_error(exc: ApiError) -> ApiError:
    """Name the failing request(s) and their own reason, not just "Batch transaction failed."."""
    data = exc.response.get("data") if isinstance(exc.response, dict) else None
    failed = data.get("requests") if isinstance(data, dict) else None
    if not isinstance(failed, dict) or not failed:
        return exc
    reasons = []
    for index, info in sorted(failed.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0):
        inner = info.get("response") if isinstance(info, dict) else None
        text = ""
        if isinstance(inner, dict):
            text = str(inner.get("message") or "")
            fields = inner.get("data")
            if isinstance(fields, dict):
                details = [
                    f"{name}: {value['message']}"
                    for name, value in fields.items()
                    if isinstance(value, dict) and isinstance(value.get("message"), str)
                ]
                if details:
                    text = f"{text.rstrip('.')}: {'; '.join(details)}"
        if not text and isinstance(info, dict):
            text = str(info.get("message") or "")
        reasons.append(f"request {index}: {text or 'failed'}")
    message = f"{exc.message.rstrip('.')} ({'; '.join(reasons)})."
    return error_for_status(exc.status, message, url=exc.url, error_code=exc.error_code, response=exc.response)


def record_from(value: Any) -> RecordModel:
    """A `RecordModel` from a record-shaped mapping (batch bodies, realtime payloads)."""
    return value if isinstance(value, RecordModel) else RecordModel(value if isinstance(value, dict) else {})
