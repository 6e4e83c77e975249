"""Typed failures of platform service calls; ``reason`` is the log and metric label."""

from gateway.http_exchange import CallFailed


class UpstreamError(CallFailed):
    reason = "upstream_error"

    def __init__(self, service: str, message: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service


class UpstreamTimeout(UpstreamError):
    reason = "timeout"


class UpstreamUnreachable(UpstreamError):
    reason = "unreachable"


class UpstreamErrorStatus(UpstreamError):
    reason = "error_status"

    def __init__(self, service: str, status: int, code: str | None) -> None:
        super().__init__(service, f"HTTP {status}" + (f" {code}" if code else ""))
        self.status = status
        self.code = code


class UpstreamMalformedResponse(UpstreamError):
    reason = "malformed_response"


class MissingUpstreamData(UpstreamError):
    """The service answered without the value we need (no document, empty number, no permit)."""

    reason = "missing_data"
