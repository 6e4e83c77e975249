"""A start-ride's trace crosses the Redis queue to a worker process (docs/design.md §9).

The gateway (tracing off in this test process) passes the caller's ``traceparent`` on in the
task's labels; a real worker process with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set continues that
trace: its run's span is the caller's span's child, and every call the task makes carries the
trace id.
"""

from typing import Any

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from gateway.http.app import START_RIDE_PATH
from gateway.sandbox.world import RideSeed
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.observability.otlp_collector import collecting
from tests.production.rides import meter_flag
from tests.production.stream import StreamProbe, eventually
from tests.production.workers import Workers

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLERS_SPAN = "00f067aa0ba902b7"
RIDE = RideSeed("order-traced", "alias-traced")
WAIT_S = 15.0


@pytest.mark.timeout(60)
async def test_the_trace_of_a_start_ride_reaches_the_workers_calls(
    world: RunningWorld,
    production_tree: dict[str, Any],
    workers: Workers,
    probe: StreamProbe,
    make_gateway: GatewayFactory,
) -> None:
    world.sims.seed_ride(RIDE)
    gateway = await make_gateway()
    async with collecting() as collector:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "OTEL_BSP_SCHEDULE_DELAY": "50"}
        await workers.start("traced-worker", env=env)
        response = await gateway.client.post(
            START_RIDE_PATH,
            json={"order_id": RIDE.order_id},
            headers={"traceparent": f"00-{TRACE_ID}-{CALLERS_SPAN}-01"},
        )
        assert response.status == 202
        await eventually(lambda: meter_flag(world.sims, RIDE) == "true", WAIT_S, "started")
        # The run goes on after storing the ride (setcar, the push): its calls are counted
        # once it is acknowledged, which it is after its last one.
        await eventually(probe.is_empty, WAIT_S, "the run is acknowledged")
        calls = [
            call for simulator in world.sims.simulators().values() for call in simulator.calls.all()
        ]
        # Exported within the 50 ms batch delay; the run's span ends after its last call.
        await eventually(
            lambda: any(span.name == "start-ride task" for span in collector.of_trace(TRACE_ID)),
            WAIT_S,
            "the run's span exported",
        )
        await eventually(
            lambda: len(collector.of_trace(TRACE_ID)) == len(calls) + 1, WAIT_S, "every span"
        )

    assert len(calls) == 9
    assert {call.headers["traceparent"].split("-")[1] for call in calls} == {TRACE_ID}
    spans = collector.of_trace(TRACE_ID)
    [run] = [span for span in spans if span.name == "start-ride task"]
    assert (run.kind, run.parent_span_id) == (Span.SPAN_KIND_CONSUMER, CALLERS_SPAN)
    children = [span for span in spans if span is not run]
    assert {(span.kind, span.parent_span_id) for span in children} == {
        (Span.SPAN_KIND_CLIENT, run.span_id)
    }
    await eventually(probe.is_empty, WAIT_S, "acknowledged")
