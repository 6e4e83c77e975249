"""The JSON error body every refusal shares: ``{"code": "...", "message": "..."}``."""

from aiohttp import web

from gateway.rides.finish_refusals import REFUSAL_STATUS, FinishRideRefused, Refusal


class InputRefused(FinishRideRefused):
    """A request refused for what the caller sent (docs/design.md §6), on any route; never an
    upstream call. The JSON-errors middleware answers it where a handler does not."""


def error_response(refusal: Refusal, message: str) -> web.Response:
    """The JSON answer of a refusal, with the status the refusal table gives it."""
    status = REFUSAL_STATUS[refusal]
    response = web.json_response({"code": refusal.value, "message": message}, status=status)
    if refusal is Refusal.PAYLOAD_TOO_LARGE:
        # The rest of an oversized body is not worth reading: close instead of draining it.
        response.force_close()
    return response
