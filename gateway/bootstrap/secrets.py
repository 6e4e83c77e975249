"""The configured secrets, for the log formatter to mask wherever they turn up."""

from pydantic import SecretStr

from gateway.bootstrap.registry import VendorCatalog
from gateway.bootstrap.vendor_setup import validate_vendor_settings
from gateway.redis_connection import url_secrets
from gateway.settings import Settings


def configured_secrets(settings: Settings, catalog: VendorCatalog) -> list[str]:
    """Every non-empty SecretStr of every vendor section (a plugin's own keys too), and the
    broker's password."""
    found: list[str] = []
    # A Redis or Sentinel password in broker.url is as secret as a vendor token.
    found.extend(url_secrets(settings.broker.url))
    for vendor_settings in validate_vendor_settings(settings, catalog).values():
        for name in type(vendor_settings).model_fields:
            value = getattr(vendor_settings, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
    return found
