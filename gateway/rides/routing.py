"""Which meter vendor serves an order: its zone names a country, the country names a vendor."""

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.plugins.meter_vendor import MeterVendor
from gateway.settings import CountrySettings, Settings


@dataclass(frozen=True, slots=True)
class MeterRoute:
    country: str
    country_settings: CountrySettings
    vendor: MeterVendor


class VendorRouter:
    def __init__(self, settings: Settings, vendors: Mapping[str, MeterVendor]) -> None:
        self._settings = settings
        self._vendors = vendors

    def country_of(self, zone: str | None) -> str | None:
        return self._settings.country_of_zone(zone)

    def route(self, zone: str | None) -> MeterRoute | None:
        """The route for a zone, or None when its country has no vendor configured."""
        country = self.country_of(zone)
        country_settings = self._settings.countries.get(country) if country else None
        if country is None or country_settings is None:
            return None
        return MeterRoute(country, country_settings, self._vendors[country_settings.vendor])
