"""Reading a request body within docs/design.md §6's bounds: its size first, then its media type.

The identity headers (finish-ride) and the body's content are checked after these, by the
handler; every refusal is an ``InputRefused`` the caller turns into its JSON answer.
"""

import asyncio

from aiohttp import web

from gateway.http.error_catalog import Refusal
from gateway.http.errors import InputRefused
from gateway.http.limits import BODY_READ_TIMEOUT_S, MAX_BODY_BYTES
from gateway.http.request_validation import body_media_types

BROKEN_BODY = "the body could not be read: its chunking or content encoding is broken"


def payload_too_large() -> InputRefused:
    return InputRefused(
        Refusal.PAYLOAD_TOO_LARGE, f"the body is larger than {MAX_BODY_BYTES} bytes"
    )


def request_timeout() -> InputRefused:
    return InputRefused(Refusal.REQUEST_TIMEOUT, "the body did not arrive in time")


async def read_body(request: web.Request, operation_id: str) -> bytes:
    """The whole body, once it is known to be small enough and of a media type the spec lists."""
    try:
        # A declared Content-Length past the bound was refused by json_errors_middleware; the
        # app's client_max_size (MAX_BODY_BYTES) stops a chunked body as soon as it grows past.
        if request.content.is_eof():  # the common case: it came with the headers
            raw = await request.read()
        else:
            async with asyncio.timeout(BODY_READ_TIMEOUT_S):
                raw = await request.read()
    except TimeoutError:
        raise request_timeout() from None
    except web.HTTPRequestEntityTooLarge:
        raise payload_too_large() from None
    except web.RequestPayloadError:  # bad chunking, or a Content-Encoding it does not have
        # aiohttp's message quotes the bytes it choked on; the caller knows what it sent.
        raise InputRefused(Refusal.BAD_REQUEST, BROKEN_BODY) from None
    if request.content_type not in body_media_types(operation_id):
        accepted = ", ".join(sorted(body_media_types(operation_id)))
        raise InputRefused(Refusal.UNSUPPORTED_MEDIA_TYPE, f"the body must be {accepted}")
    return raw
