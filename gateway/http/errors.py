"""The JSON error body every refusal shares: ``{"code": "...", "message": "..."}``."""

from aiohttp import web


class InputRefused(Exception):
    """A request refused for what the caller sent (docs/design.md §6); never an upstream call."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> web.Response:
    response = web.json_response({"code": code, "message": message}, status=status)
    if status == 413:
        # The rest of an oversized body is not worth reading: close instead of draining it.
        response.force_close()
    return response
