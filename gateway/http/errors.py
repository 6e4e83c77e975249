"""The JSON error body every refusal shares: ``{"code": "...", "message": "..."}``."""

from aiohttp import web

from gateway.http.error_catalog import REFUSAL_STATUS, Refusal


class InputRefused(Exception):
    """A request refused for what the caller sent (docs/design.md §6), on any route; never an
    upstream call. The JSON-errors middleware answers it where a handler does not."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


def error_response(refusal: Refusal, message: str) -> web.Response:
    """The JSON answer of a refusal, with the status the error catalog gives it."""
    status = REFUSAL_STATUS[refusal]
    response = web.json_response({"code": refusal.value, "message": message}, status=status)
    if refusal is Refusal.PAYLOAD_TOO_LARGE:
        # The rest of an oversized body is not worth reading: close instead of draining it.
        response.force_close()
    return response
