"""fleet-vehicles: the taxi permit number of the car on the order."""

from gateway.platform.upstream_http import CONSUMER, UpstreamClient, expect_dict, expect_list
from gateway.rides.errors import MissingUpstreamData

RETRIEVE = "/v1/vehicles/retrieve"


class FleetVehiclesClient(UpstreamClient):
    service = "fleet_vehicles"

    async def permit_number(self, park_id: str, car_id: str) -> str:
        key = f"{park_id}_{car_id}"
        answer = expect_dict(
            self.service,
            await self._post(
                "retrieve_vehicle",
                RETRIEVE,
                {"id_in_set": [key], "projection": ["data.permit_num"]},
                {"consumer": CONSUMER},
            ),
            "answer",
        )
        for vehicle in expect_list(self.service, answer.get("vehicles"), "vehicles"):
            if not isinstance(vehicle, dict) or vehicle.get("park_id_car_id") != key:
                continue
            data = vehicle.get("data")
            permit = data.get("permit_num") if isinstance(data, dict) else None
            if isinstance(permit, str) and permit.strip():
                return permit.strip()
        raise MissingUpstreamData(self.service, "vehicle has no permit number")
