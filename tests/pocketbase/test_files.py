"""Multipart uploads, file URLs, thumbs and protected files against a real PocketBase."""

from __future__ import annotations

import struct
import zlib

import httpx
import pytest

from console.errors import ApiError
from console.pocketbase import PocketBase


def _png(width: int, height: int) -> bytes:
    """A valid RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80\x20\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_create_with_files_keeps_types_and_bytes(pb, make_collection) -> None:
    col = await make_collection()
    photo = _png(300, 200)
    record = await pb.collection(col.name).create(
        body={"name": "with files", "temperature": 7, "active": True, "meta": {"fw": "2.0"}, "tags": ["a", "c"]},
        files=[("photo", ("photo.png", photo, "image/png")), ("manual", ("manual.txt", b"read me", "text/plain"))],
    )
    # regular fields went in as JSON (numbers, bools and objects keep their types)
    assert record.get("temperature") == 7 and record.get("active") is True and record.get("meta") == {"fw": "2.0"}
    assert record.get_list_value("tags") == ["a", "c"]
    filename = record.get_string_value("photo")
    assert filename.startswith("photo_") and filename.endswith(".png")
    url = pb.files.get_url(record, filename)
    assert url.startswith(pb.base_url) and record.collection_id in url
    async with httpx.AsyncClient() as http:
        assert (await http.get(url)).content == photo
        thumb = await http.get(pb.files.get_url(record, filename, thumb="100x100"))
        assert _png_size(thumb.content) == (100, 100)
        download = await http.get(pb.files.get_url(record, filename, download=True))
        assert download.headers["content-disposition"].startswith("attachment")


async def test_update_replaces_and_removes_files(pb, make_collection) -> None:
    col = await make_collection()
    record = await pb.collection(col.name).create({"name": "x"}, files=[("photo", ("a.png", _png(4, 4), "image/png"))])
    first = record.get_string_value("photo")
    updated = await pb.collection(col.name).update(
        record.id, {"name": "y"}, files=[("photo", ("b.png", _png(8, 8), "image/png"))]
    )
    assert updated.get_string_value("photo") not in ("", first)
    assert updated.get_string_value("name") == "y"
    cleared = await pb.collection(col.name).update(record.id, {"photo": None})
    assert cleared.get_string_value("photo") == ""


async def test_protected_file_needs_a_file_token(pb_server, pb, make_collection) -> None:
    col = await make_collection(viewRule='@request.auth.id != ""', listRule='@request.auth.id != ""')
    record = await pb.collection(col.name).create({"name": "p"}, files=[("manual", ("m.txt", b"secret", "text/plain"))])
    filename = record.get_string_value("manual")
    token = await pb.files.get_token()
    async with httpx.AsyncClient() as http:
        assert (await http.get(pb.files.get_url(record, filename))).status_code == 404
        allowed = await http.get(pb.files.get_url(record, filename, token=token))
        assert allowed.status_code == 200 and allowed.content == b"secret"
    async with PocketBase(pb_server.url) as guest:
        with pytest.raises(ApiError) as caught:
            await guest.files.get_token()
        assert caught.value.status == 401


async def test_get_url_without_a_file_is_empty(pb) -> None:
    assert pb.files.get_url({"id": "abc", "collectionId": "x"}, "") == ""
    assert pb.files.get_url({"collectionId": "x"}, "f.png") == ""


async def test_wrong_mime_type_is_refused(pb, make_collection) -> None:
    col = await make_collection(
        fields=[{"name": "doc", "type": "file", "maxSelect": 1, "mimeTypes": ["application/pdf"]}]
    )
    with pytest.raises(ApiError) as caught:
        await pb.collection(col.name).create(files=[("doc", ("a.txt", b"text", "text/plain"))])
    assert caught.value.status == 400 and "doc" in caught.value.message
