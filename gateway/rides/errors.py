"""How a call of the core's platform ports fails (``gateway.rides.ports``); ``reason`` is the
log and metric label. The adapters in ``gateway.platform`` raise them; the flows catch them."""

from gateway.plugins.exchange import CallFailed


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


class OrderNotFound(UpstreamErrorStatus):
    reason = "not_found"


class OrderRevisionChanged(UpstreamErrorStatus):
    """set-fields' ``race_condition``: the order changed since its revision was read."""

    reason = "race_condition"
