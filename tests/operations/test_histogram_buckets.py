"""Latency histograms have a bucket boundary just above every shipped timeout, so a call that
ran into its timeout reads as that timeout at p99 (0.5 s, not 0.995 s)."""

import tomllib

from gateway.sandbox.world import RideSeed
from tests.gateway_world import Gateway, RunningWorld
from tests.observability.scrape import samples, scrape
from tests.operations.artifacts import ROOT

HISTOGRAMS = (
    "meters_finish_ride_duration_seconds",
    "meters_start_ride_task_duration_seconds",
    "meters_upstream_call_duration_seconds",
    "meters_vendor_call_duration_seconds",
)
# "Just above": within a tenth of the timeout, so interpolation cannot stretch it far.
MARGIN = 1.1


def shipped_timeouts_s() -> set[float]:
    config = tomllib.loads((ROOT / "config" / "meters.toml").read_text())
    sections = [*config["upstreams"].values(), *config["vendors"].values()]
    timeouts_ms = {section["timeout_ms"] for section in sections}
    timeouts_ms.add(config["server"]["finish_ride_deadline_ms"])
    return {timeout / 1000 for timeout in timeouts_ms}


async def test_every_latency_histogram_has_a_boundary_just_above_each_timeout(
    world: RunningWorld, gateway: Gateway
) -> None:
    ride = RideSeed(order_id="order-buckets", alias_id="alias-buckets")
    world.sims.seed_ride(ride)
    await gateway.start_ride(ride.order_id)
    status, _ = await gateway.finish_ride(ride.alias_id)
    assert status == 200
    text = await scrape(gateway.client)

    for histogram in HISTOGRAMS:
        boundaries = {float(dict(labels)["le"]) for labels in samples(text, histogram + "_bucket")}
        assert boundaries, f"{histogram} has no samples"
        for timeout in shipped_timeouts_s():
            above = [bound for bound in boundaries if timeout < bound <= timeout * MARGIN]
            assert above, f"{histogram}: no bucket boundary just above the {timeout} s timeout"
