"""The JSON error body every refusal shares: ``{"code": "...", "message": "..."}``."""

from aiohttp import web


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)
