"""Raw HTTP/1.1 over a socket, for requests no well-behaved client library would send."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

READ_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def exchange(
    host: str, port: int, *parts: bytes, pause_s: float = 0.0, close_write: bool = False
) -> RawAnswer:
    """Send ``parts`` (pausing between them, so the server sees them as separate reads), end
    the sending side if ``close_write``, and read the one answer (its head and as many bytes
    as its Content-Length says, so a server still draining the request is not waited for)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for index, part in enumerate(parts):
            if index and pause_s:
                await asyncio.sleep(pause_s)
            writer.write(part)
            await writer.drain()
        if close_write:
            writer.write_eof()
        async with asyncio.timeout(READ_TIMEOUT_S):
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").strip().split("\r\n")
            headers = dict(line.split(": ", 1) for line in header_lines)
            body = await reader.readexactly(int(headers["Content-Length"]))
    finally:
        writer.close()
    return RawAnswer(int(status_line.split(" ")[1]), headers, body)
