"""The taskiq task other services enqueue (docs/design.md §3):
meters_integration_api_call(order_id)."""

from typing import Annotated

from opentelemetry.trace import SpanKind
from taskiq import Context, TaskiqDepends, TaskiqState

from gateway.broker.delivery import deliveries_of
from gateway.broker.start_ride_record import run_start_ride
from gateway.observability.request_ids import BoundRequestId
from gateway.observability.tracing import continued_trace
from gateway.rides.ports import Services

START_RIDE_TASK_NAME = "meters_integration_api_call"
REQUEST_ID_LABEL = "request_id"


def services_of(state: TaskiqState) -> Services:
    services: Services = state.services
    return services


async def meters_integration_api_call(
    order_id: str, context: Annotated[Context, TaskiqDepends()]
) -> None:
    # Completes after applying the fallback policy: a failed step must not make taskiq retry,
    # since a retry would call the vendor a second time.
    task_id = context.message.task_id
    # Producers other than our endpoint send no request id; the task id then traces the calls.
    request_id = context.message.labels.get(REQUEST_ID_LABEL) or task_id
    deliveries = deliveries_of(context.message.labels)
    with (
        BoundRequestId(
            str(request_id),
            order_id=order_id,
            task_id=task_id,
            redelivered=deliveries > 1,
            deliveries=deliveries,
        ),
        # The run's span continues the trace its enqueuer put in the labels.
        continued_trace("start-ride task", context.message.labels, SpanKind.CONSUMER),
    ):
        services = services_of(context.state)
        # The broker dead-letters a delivery past max_deliveries instead of running it; the
        # in-memory broker's every delivery is its last, a run it left pending would be lost.
        broker = services.settings.broker
        last = not broker.redelivers or deliveries >= broker.max_deliveries
        await run_start_ride(
            order_id, services.ports, last_delivery=last, redelivered=deliveries > 1
        )
