"""A tiny SMTP sink on 127.0.0.1 so PocketBase's emails (and their tokens) can be read by tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from email.message import EmailMessage

WAIT = 30.0  # seconds; generous, only a hung server ever reaches it
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class SmtpSink:
    """Accepts every message; `await sink.next_token()` returns the JWT found in the next email."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[EmailMessage] = asyncio.Queue()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> SmtpSink:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def next_message(self) -> EmailMessage:
        async with asyncio.timeout(WAIT):
            return await self.messages.get()

    async def next_token(self) -> tuple[str, str]:
        """(recipient, token) of the next email."""
        message = await self.next_message()
        body = message.get_body(("html", "plain"))
        text = body.get_content() if body is not None else str(message)
        found = _JWT.search(text)
        assert found, f"no token in the email: {text[:500]}"
        return str(message["To"]), found.group(0)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        try:
            await reply("220 sink ESMTP")
            while line := await reader.readline():
                command = line.decode("utf-8", "replace").strip().upper()
                if command.startswith("EHLO"):
                    await reply("250-sink")
                    await reply("250 8BITMIME")
                elif command.startswith("DATA"):
                    await reply("354 go ahead")
                    lines = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        lines.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    parsed = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                    assert isinstance(parsed, EmailMessage)
                    self.messages.put_nowait(parsed)
                    await reply("250 queued")
                elif command.startswith("QUIT"):
                    await reply("221 bye")
                    break
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    await reply("250 OK")
        finally:
            writer.close()
