"""The ``[vendors.taxameter]`` section: the common keys plus the fleet the trips belong to."""

from gateway.plugins import VendorSettings
from pydantic import Field


class TaxameterSettings(VendorSettings):
    fleet_id: str = Field(pattern=r"^[A-Za-z0-9-]+$")
