"""The seed's file upload: one text file together with regular fields, as multipart.

    python examples/pocketbase/file_upload.py --url URL --email ADMIN --password PASS
"""

from __future__ import annotations

import asyncio

import httpx
from _common import ensure_demo_user, ensure_example_collection, parse_args, superuser_client

from console.pocketbase import PocketBase


async def main() -> None:
    args = parse_args(__doc__ or "")
    async with await superuser_client(args) as admin:
        await ensure_example_collection(admin)
        email, password = await ensure_demo_user(admin)

    async with PocketBase(args.url) as client:
        await client.collection("users").auth_with_password(email, password)
        record = await client.collection("example").create(
            body={
                "title": "Hello world!",
                # ... any other regular field
            },
            files=[
                # the name of the file field, then (filename, content, content type)
                ("document", ("example_document.txt", b"example content...", "text/plain")),
            ],
        )
        filename = record.get_string_value("document")
        print("uploaded", filename)
        async with httpx.AsyncClient() as http:
            content = (await http.get(client.files.get_url(record, filename))).content
        print("downloaded back:", content.decode())
        assert content == b"example content..."


if __name__ == "__main__":
    asyncio.run(main())
