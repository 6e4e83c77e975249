"""A stand-in for OptumPlus's price submission API (docs/design.md §7), for tests and the
sandbox."""

from dataclasses import asdict, dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from gateway.plugins import (
    Simulator,
    bearer_auth,
    control_json,
    expect_number,
    expect_object,
    expect_str,
    read_json,
)


@dataclass(frozen=True, slots=True)
class Submission:
    car_number: str
    price: float
    """Cents, as submitted."""


class OptumPlusSimulator(Simulator):
    name = "optumplus"

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.submissions: list[Submission] = []

    def guards(self) -> list[Middleware]:
        return [bearer_auth(self.token, lambda: _error(401, "invalid or missing bearer token"))]

    def bad_request(self, message: str) -> web.Response:
        return _error(400, message)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/submit_price", self._submit_price)
        router.add_get("/_sim/submissions", self._show_submissions)

    async def _submit_price(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        self.submissions.append(
            Submission(
                car_number=expect_str(body, "car_number"), price=expect_number(body, "price")
            )
        )
        return web.json_response({"status": "OK"})

    async def _show_submissions(self, _: web.Request) -> web.Response:
        return control_json([asdict(submission) for submission in self.submissions])


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": "ERROR", "message": message}, status=status)
