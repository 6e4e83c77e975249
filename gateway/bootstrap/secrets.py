"""The configured secrets, for the log formatter to mask wherever they turn up."""

from gateway.bootstrap.registry import VendorCatalog
from gateway.bootstrap.vendor_setup import validate_vendor_settings
from gateway.plugins.meter_vendor import secret_settings
from gateway.redis_connection import url_secrets
from gateway.settings import Settings


def configured_secrets(settings: Settings, catalog: VendorCatalog) -> list[str]:
    """Every non-empty SecretStr of every vendor section (a plugin's own keys too, nested ones
    included), and the broker's password."""
    found: list[str] = []
    # A Redis or Sentinel password in broker.url is as secret as a vendor token.
    found.extend(url_secrets(settings.broker.url))
    for vendor_settings in validate_vendor_settings(settings, catalog).values():
        found.extend(
            secret.get_secret_value()
            for secret in secret_settings(vendor_settings).values()
            if secret.get_secret_value()
        )
    return found
