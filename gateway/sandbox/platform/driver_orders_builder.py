"""driver-orders-builder: the setcar a driver app polls, of which only the meter flag may change."""

from typing import Any

from aiohttp import web

from gateway.plugins.simulator import (
    BadRequest,
    Simulator,
    control_json,
    expect_object,
    expect_query,
    expect_str,
    json_error,
    read_json,
)

UPDATE_LITE = "/v1/setcar/update-lite"
EXTERNAL_METER_FIELD = "taximeter_settings.is_external_meter_run"
ALLOWED_VALUES = ("true", "false")

SetcarKey = tuple[str, str, str]


class DriverOrdersBuilderSimulator(Simulator):
    name = "driver-orders-builder"

    def __init__(self) -> None:
        super().__init__()
        # The value of the meter flag per (alias id, park id, driver profile id); None = never set.
        self._setcars: dict[SetcarKey, str | None] = {}

    def add_setcar(self, alias_id: str, park_id: str, driver_profile_id: str) -> None:
        self._setcars[(alias_id, park_id, driver_profile_id)] = None

    def setcar_value(self, alias_id: str, park_id: str, driver_profile_id: str) -> str | None:
        """The meter flag last written, None if never; KeyError if no such setcar was seeded."""
        return self._setcars[(alias_id, park_id, driver_profile_id)]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(UPDATE_LITE, self._update_lite)
        router.add_post("/_sim/setcars", self._seed_setcar)
        router.add_get("/_sim/setcars", self._show_setcars)

    async def _update_lite(self, request: web.Request) -> web.Response:
        key = (
            expect_query(request, "order_id"),
            expect_query(request, "park_id"),
            expect_query(request, "driver_profile_id"),
        )
        changes = expect_object(await read_json(request)).get("changes")
        if not isinstance(changes, list) or not changes:
            raise BadRequest('"changes" must be a non-empty list')
        values = [_change_value(expect_object(change, "change")) for change in changes]
        if key not in self._setcars:
            return json_error(404, "setcar_not_found", "no setcar for this order and driver")
        if None in values:
            return json_error(409, "field_not_allowed", f"only {EXTERNAL_METER_FIELD} true/false")
        self._setcars[key] = values[-1]
        return web.json_response({})

    async def _seed_setcar(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        self.add_setcar(
            expect_str(body, "order_id"),
            expect_str(body, "park_id"),
            expect_str(body, "driver_profile_id"),
        )
        return web.json_response({}, status=201)

    async def _show_setcars(self, _: web.Request) -> web.Response:
        return control_json(
            [
                {"order_id": alias, "park_id": park, "driver_profile_id": driver, "value": value}
                for (alias, park, driver), value in self._setcars.items()
            ]
        )


def _change_value(change: dict[str, Any]) -> str | None:
    """The new flag value, or None when the change is not one the service allows."""
    field, value = expect_str(change, "field"), expect_str(change, "value")
    if field != EXTERNAL_METER_FIELD or value not in ALLOWED_VALUES:
        return None
    return value
