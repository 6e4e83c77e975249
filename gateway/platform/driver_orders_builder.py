"""driver-orders-builder: tells the driver app (through setcar) whether the external meter runs."""

from gateway.platform.upstream_http import UpstreamClient

UPDATE_LITE = "/v1/setcar/update-lite"
EXTERNAL_METER_FIELD = "taximeter_settings.is_external_meter_run"


class DriverOrdersBuilderClient(UpstreamClient):
    service = "driver_orders_builder"

    async def set_external_meter_run(
        self, alias_id: str, park_id: str, driver_profile_id: str, *, running: bool
    ) -> None:
        await self._post(
            "setcar_update_lite",
            UPDATE_LITE,
            {"changes": [{"field": EXTERNAL_METER_FIELD, "value": "true" if running else "false"}]},
            {"order_id": alias_id, "park_id": park_id, "driver_profile_id": driver_profile_id},
            decode_answer=False,
        )
