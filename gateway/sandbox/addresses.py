"""Where each simulator listens: the address the gateway's settings point that section at."""

from collections.abc import Mapping
from ipaddress import ip_address

from yarl import URL

from gateway.plugins.meter_vendor import VendorSettings
from gateway.settings import ConfigError, Settings, UpstreamsSettings

Address = tuple[str, int]


def simulator_addresses(
    settings: Settings, vendor_settings: Mapping[str, VendorSettings]
) -> dict[str, Address]:
    """The host and port of every upstream and vendor URL, by section name.

    Raises ConfigError naming each URL a simulator on this machine cannot answer.
    """
    urls = {
        f"upstreams.{name}": getattr(settings.upstreams, name).url
        for name in UpstreamsSettings.model_fields
    }
    urls.update({f"vendors.{name}": vendor.url for name, vendor in vendor_settings.items()})
    addresses: dict[str, Address] = {}
    problems: list[str] = []
    for key, url in urls.items():
        try:
            addresses[key.split(".", 1)[1]] = _local_address(url)
        except ValueError as error:
            problems.append(f"{key}.url: {error}")
    if problems:
        raise ConfigError("\n".join(problems))
    return addresses


def _local_address(url: str) -> Address:
    parsed = URL(url)
    if parsed.host is None or parsed.port is None:
        raise ValueError(f"{url} names no host and port")
    if not _is_loopback(parsed.host):
        raise ValueError(f"{url}: the sandbox serves its simulators on this machine only")
    if parsed.path not in ("", "/"):
        raise ValueError(f"{url}: a simulator answers at the root, not under {parsed.path}")
    return parsed.host, parsed.port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
