"""A vendor's business refusal (VendorRefused): fallback ``vendor_refused``, the order not
written, the vendor's code in the log line and in a metric label bounded to declared codes."""

from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.bootstrap.registry import catalog_from_entry_points
from gateway.broker import start_ride_record
from gateway.rides import start_ride as start_ride_module
from gateway.sandbox.world import RideSeed
from tests.calls import PUSH, SET_FIELDS, setcar_values
from tests.gateway_world import GatewayFactory, RunningWorld
from tests.log_capture import capture_log_of
from tests.plugins.catalog import plugin, shipped_entry_points
from tests.plugins.refusing_monitex import RefusingMonitex


def _count(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("code", "label"),
    [("driver_busy", "driver_busy"), ("Some Free Text, not declared", "other")],
)
async def test_a_refused_start_falls_back_with_the_vendors_code_bounded(
    world: RunningWorld,
    settings_tree: dict[str, Any],
    make_gateway: GatewayFactory,
    monkeypatch: pytest.MonkeyPatch,
    code: str,
    label: str,
) -> None:
    settings_tree["countries"]["IL"]["vendor"] = "refusing_monitex"
    settings_tree["vendors"]["refusing_monitex"] = settings_tree["vendors"]["monitex"]
    catalog = catalog_from_entry_points(
        [*shipped_entry_points(), plugin("refusing_monitex", "refusing_monitex")]
    )
    gateway = await make_gateway(catalog)
    world.sims.seed_ride(RideSeed("order-il-1", "alias-il-1"))
    monkeypatch.setattr(RefusingMonitex, "refuse_with", code)
    refusals = {"vendor": "refusing_monitex", "vendor_code": label}
    fallbacks = {
        "vendor": "refusing_monitex",
        "country": "IL",
        "result": "fallback",
        "reason": "vendor_refused",
    }
    refusals_before = _count("meters_vendor_refusals_total", refusals)
    fallbacks_before = _count("meters_rides_started_total", fallbacks)

    log = capture_log_of(monkeypatch, start_ride_module, start_ride_record)

    await gateway.start_ride("order-il-1")

    assert setcar_values(world.sims) == ["false"]
    assert len(world.sims.client_notify.calls.to(PUSH)) == 1
    assert world.sims.order_core.calls.to(SET_FIELDS) == []
    assert _count("meters_vendor_refusals_total", refusals) == refusals_before + 1
    assert _count("meters_rides_started_total", fallbacks) == fallbacks_before + 1
    # The run's canonical line states the refusal, its bounded code and the policy's row.
    (refused,) = log.events("start_ride.vendor_refused")
    assert (refused["log_level"], refused["vendor_code"]) == ("debug", label)
    (line,) = log.events("start_ride.finished")
    assert (line["log_level"], line["result"], line["reason"], line["vendor_code"]) == (
        "warning",
        "fallback",
        "vendor_refused",
        label,
    )
    assert line["failed_steps"] == [
        {"step": "vendor_refused", "cause": "vendor_refused", "reaction": "FALLBACK"}
    ]
