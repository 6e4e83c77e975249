"""The ``[vendors.monitex]`` section."""

from pydantic import Field

from gateway.plugins import VendorSettings


class MonitexSettings(VendorSettings):
    pending_polls: int = Field(default=3, ge=0)
    pending_poll_interval_ms: int = Field(default=500, ge=0)
