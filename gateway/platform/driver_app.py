"""The driver app port (``gateway.rides.ports.DriverApp``): driver-orders-builder's setcar
tells the app whether the meter runs, client-notify's push makes it read its order again."""

from gateway.platform.client_notify import ClientNotifyClient
from gateway.platform.driver_orders_builder import DriverOrdersBuilderClient


class DriverAppChannel:
    def __init__(
        self, driver_orders_builder: DriverOrdersBuilderClient, client_notify: ClientNotifyClient
    ) -> None:
        self._driver_orders_builder = driver_orders_builder
        self._client_notify = client_notify

    async def set_external_meter_run(
        self, alias_id: str, park_id: str, driver_profile_id: str, *, running: bool
    ) -> None:
        await self._driver_orders_builder.set_external_meter_run(
            alias_id, park_id, driver_profile_id, running=running
        )

    async def force_polling_order(self, park_id: str, driver_profile_id: str) -> None:
        await self._client_notify.force_polling_order(park_id, driver_profile_id)
