"""Orphaned meter rides (docs/design.md §3a Orphans): when storing the ride id fails, the order
is read again, and the vendor may end the ride only if the order holds none and this run's
ledger claim was new; a vendor whose start is idempotent never ends an orphan by closing it."""

from typing import Any

import pytest

from gateway.plugins.faults import Fault
from gateway.sandbox.world import RideSeed
from tests.calls import MONITEX_STOP, SET_FIELDS, setcar_values
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.plugins.cancellable_monitex import CancellableMonitex
from tests.plugins.catalog import catalog_with_cancellable_monitex, catalog_with_closing_monitex

RIDE = RideSeed("order-il-1", "alias-il-1")


def route_israel_to(vendor: str, settings_tree: dict[str, Any]) -> None:
    settings_tree["countries"]["IL"]["vendor"] = vendor
    settings_tree["vendors"][vendor] = settings_tree["vendors"]["monitex"]


async def test_an_orphan_claimed_by_an_earlier_run_is_not_cancelled(
    world: RunningWorld, settings_tree: dict[str, Any], make_gateway: GatewayFactory
) -> None:
    route_israel_to("cancellable_monitex", settings_tree)
    gateway = await make_gateway(catalog_with_cancellable_monitex())
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500, times=2))
    CancellableMonitex.cancelled.clear()

    await gateway.start_ride("order-il-1")
    # The redelivery is answered the same ride, which its first run already claimed.
    await gateway.start_ride("order-il-1")

    (ride_id,) = world.sims.monitex.rides
    assert CancellableMonitex.cancelled == [ride_id]
    assert setcar_values(world.sims) == ["false", "false"]


@pytest.mark.parametrize(
    ("vendor", "closed"),
    [
        pytest.param("closing_monitex", True, id="close-ends-orphan"),
        pytest.param("idempotent_closing_monitex", False, id="idempotent-start-never-closed"),
    ],
)
async def test_an_orphan_is_closed_only_by_a_vendor_whose_start_is_not_idempotent(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    vendor: str,
    closed: bool,
) -> None:
    route_israel_to(vendor, settings_tree)
    gateway = await make_gateway(catalog_with_closing_monitex())
    world.sims.seed_ride(RIDE)
    world.sims.order_core.faults.add(Fault(SET_FIELDS, status=500))

    await gateway.start_ride("order-il-1")

    (ride,) = world.sims.monitex.rides.values()
    assert len(world.sims.monitex.calls.to(MONITEX_STOP)) == (1 if closed else 0)
    assert ride.is_open is not closed
    assert setcar_values(world.sims) == ["false"]
