"""The taskiq task other services enqueue (DESIGN §3): meters_integration_api_call(order_id)."""

from typing import Annotated

import structlog
from taskiq import Context, TaskiqDepends, TaskiqState

from gateway.rides.start_ride import start_ride
from gateway.services import Services

START_RIDE_TASK_NAME = "meters_integration_api_call"


def services_of(state: TaskiqState) -> Services:
    services: Services = state.services
    return services


async def meters_integration_api_call(
    order_id: str, context: Annotated[Context, TaskiqDepends()]
) -> None:
    # Completes after applying the fallback policy: a failed step must not make taskiq retry,
    # since a retry would call the vendor a second time.
    with structlog.contextvars.bound_contextvars(
        order_id=order_id, task_id=context.message.task_id
    ):
        await start_ride(order_id, services_of(context.state))
