"""The gateway's settings for a benchmark: every platform service and Monitex on stand-ins."""

from pathlib import Path
from typing import Any

import tomli_w

from bench import canned
from gateway.sandbox.world import settings_for

PLATFORM_SERVICES = (
    "order_core",
    "driver_profiles",
    "personal",
    "fleet_vehicles",
    "driver_orders_builder",
    "client_notify",
)


def settings_tree(
    platform_url: str,
    vendor_url: str,
    *,
    port: int = 0,
    broker_url: str = "",
) -> dict[str, Any]:
    """The sandbox's routing (Israel on Monitex), pointed at stand-ins, at the shipped log level."""
    urls = {name: platform_url for name in PLATFORM_SERVICES}
    urls["monitex"] = urls["optumplus"] = vendor_url
    tree = settings_for(urls, monitex_token=canned.MONITEX_TOKEN, optumplus_token="unused")
    tree["log_level"] = "INFO"
    # The load repeats one order's finish-ride: with replay on, every request after the first
    # would be answered after the order read alone. Off, each does the whole path, as the bare
    # handler and the peers do.
    tree["server"] = {"host": "127.0.0.1", "port": port, "finish_ride_replay_s": 0}
    tree["broker"] = {"url": broker_url}
    return tree


def write_config(tree: dict[str, Any], path: Path) -> Path:
    path.write_text(tomli_w.dumps(tree), encoding="utf-8")
    return path
