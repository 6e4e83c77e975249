"""The orders the sandbox seeds: two for every country the settings route to a vendor."""

from dataclasses import dataclass

from gateway.sandbox.world import RideSeed
from gateway.settings import Settings

# One per driver, since a meter vendor may key its running rides by the driver's id number;
# both pass Israel's check digit.
NATIONAL_IDS = ("123456782", "111111118")


@dataclass(frozen=True, slots=True)
class DemoRide:
    country: str
    vendor: str
    seed: RideSeed


def demo_rides(settings: Settings) -> list[DemoRide]:
    rides = []
    for country, country_settings in sorted(settings.countries.items()):
        zones = settings.zones_of_country(country)
        if not zones:
            continue
        code = country.lower()
        for number, national_id in enumerate(NATIONAL_IDS, start=1):
            seed = RideSeed(
                order_id=f"demo-{code}-{number}",
                alias_id=f"demo-{code}-{number}-alias",
                zone=zones[0],
                driver_profile_id=f"driver-{code}-{number}",
                car_id=f"car-{code}-{number}",
                car_number=f"{country}-{number:03}",
                national_id=national_id,
                id_document_type=country_settings.id_document_type,
                permit=f"PERMIT-{country}-{number}",
            )
            rides.append(DemoRide(country, country_settings.vendor, seed))
    return rides
