"""Distributed traces (docs/design.md §9), with the OpenTelemetry SDK, set by ``OTEL_*`` alone.

Tracing is on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is
set and ``OTEL_SDK_DISABLED`` is not true; spans then go to that endpoint as OTLP
http/protobuf, and every other ``OTEL_*`` variable (service name, headers, timeouts, sampler)
means what the OpenTelemetry specification says, read by the SDK itself.

On, a finish-ride request and a start-ride task run each get a span, continued from the
caller's W3C ``traceparent`` (for a task: the one its enqueuer put in the task's labels), with
a child span per upstream and vendor call, whose context travels on as ``traceparent``.

Off, no span is made and nothing is exported; the incoming ``traceparent`` and ``tracestate``
are still passed on unchanged, to every call and across the queue, so a trace that reaches the
gateway is not cut there. That path costs a context-variable lookup per call.
"""

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SERVICE_NAME = "meters-integration-api"
# W3C Trace Context: a traceparent is passed on only if well-formed (and then its tracestate,
# within the specification's 512 characters); anything else is dropped, as the spec says.
_VALID_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
_VALID_TRACESTATE = re.compile(r"[\x20-\x7e]{1,512}")

_provider: TracerProvider | None = None
# Tracing off: the trace headers the request or task came with, passed on unchanged.
_passed_on: ContextVar[dict[str, str] | None] = ContextVar("passed_on_trace", default=None)


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(variable) for variable in ENDPOINT_VARIABLES)


def configure_tracing() -> bool:
    """Install the SDK's tracer provider if the environment asks for traces; say whether it did."""
    global _provider
    if _provider is not None or not tracing_requested():
        return _provider is not None
    # Imported only when used: the exporter pulls in protobuf and requests.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES still win over this default.
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    return True


def shutdown_tracing() -> None:
    """Export what is still buffered; called once as the process stops."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None


def continued_trace(
    name: str, carrier: Mapping[str, str], kind: SpanKind
) -> AbstractContextManager[Span | None]:
    """The span of a request (``SERVER``) or a task run (``CONSUMER``), continuing ``carrier``'s
    trace; with tracing off, only remembers the carrier's trace headers to pass them on."""
    if _provider is None:
        return _PassingOn(carrier)
    return _continued_span(_provider, name, carrier, kind)


def outgoing_call(name: str, headers: dict[str, str]) -> AbstractContextManager[Span | None]:
    """A call to an upstream or a vendor: a child span whose context ``headers`` carry on; with
    tracing off, ``headers`` get the trace headers the request came with, if any."""
    if _provider is None:
        passed_on = _passed_on.get()
        if passed_on:
            headers.update(passed_on)
        return _NO_SPAN
    return _client_span(_provider, name, headers)


# Tracing off is the common case and runs per request and per call: plain objects rather than
# generator-based context managers keep it to a context-variable lookup.
_NO_SPAN: AbstractContextManager[None] = nullcontext()


class _PassingOn:
    __slots__ = ("_carrier", "_token")

    def __init__(self, carrier: Mapping[str, str]) -> None:
        self._carrier = carrier

    def __enter__(self) -> None:
        self._token = _passed_on.set(_valid_trace_headers(self._carrier))

    def __exit__(self, *_: object) -> None:
        _passed_on.reset(self._token)


# An exception's message may come from a vendor plugin and hold anything: a span records only
# the outcome the code sets (end_call_span), never the exception itself.
@contextmanager
def _continued_span(
    provider: TracerProvider, name: str, carrier: Mapping[str, str], kind: SpanKind
) -> Iterator[Span]:
    with provider.get_tracer(__name__).start_as_current_span(
        name,
        context=extract(carrier),
        kind=kind,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


@contextmanager
def _client_span(provider: TracerProvider, name: str, headers: dict[str, str]) -> Iterator[Span]:
    with provider.get_tracer(__name__).start_as_current_span(
        name, kind=SpanKind.CLIENT, record_exception=False, set_status_on_exception=False
    ) as span:
        inject(headers)
        yield span


def end_call_span(span: Span | None, outcome: str, status: int | None) -> None:
    """Mark a call's span with how the call ended (no body, price or id number goes on it)."""
    if span is None:
        return
    span.set_attribute("meters.outcome", outcome)
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if outcome != "ok":
        span.set_status(Status(StatusCode.ERROR, outcome))


def trace_headers_to_send() -> dict[str, str]:
    """The trace context to put in a task's labels at enqueue, so its run joins this trace."""
    if _provider is None:
        return dict(_passed_on.get() or {})
    carrier: dict[str, str] = {}
    inject(carrier, context=otel_context.get_current())
    return carrier


def current_trace_id() -> str | None:
    """The trace id for the canonical log line: this span's, or the one passed on untouched."""
    if _provider is not None:
        span_context = trace.get_current_span().get_span_context()
        return format(span_context.trace_id, "032x") if span_context.is_valid else None
    passed_on = _passed_on.get()
    # version-traceid-parentid-flags, checked when it came in.
    return passed_on[TRACEPARENT].split("-")[1] if passed_on else None


def _valid_trace_headers(carrier: Mapping[str, str]) -> dict[str, str] | None:
    traceparent = carrier.get(TRACEPARENT, "")
    if not _VALID_TRACEPARENT.fullmatch(traceparent):
        return None
    headers = {TRACEPARENT: traceparent}
    tracestate = carrier.get(TRACESTATE, "")
    if _VALID_TRACESTATE.fullmatch(tracestate):
        headers[TRACESTATE] = tracestate
    return headers
