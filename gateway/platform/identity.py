"""The driver's identity port (``gateway.rides.ports.Identity``): driver-profiles names the
national id document, personal holds its number."""

from gateway.platform.driver_profiles import DriverProfilesClient
from gateway.platform.personal import PersonalClient
from gateway.plugins.meter_vendor import NationalIdNumber


class DriverIdentity:
    def __init__(self, driver_profiles: DriverProfilesClient, personal: PersonalClient) -> None:
        self._driver_profiles = driver_profiles
        self._personal = personal

    async def national_id_number(
        self, park_id: str, driver_profile_id: str, id_document_type: str
    ) -> NationalIdNumber:
        pd_id = await self._driver_profiles.national_id_pd_id(
            park_id, driver_profile_id, id_document_type
        )
        return await self._personal.national_id_number(pd_id)
