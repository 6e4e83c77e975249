"""client-notify: pushes to client apps; the simulator only acknowledges them."""

import uuid

from aiohttp import web

from gateway.plugins.simulator import Simulator, expect_object, expect_str, read_json

PUSH = "/v2/push"


class ClientNotifySimulator(Simulator):
    name = "client-notify"

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(PUSH, self._push)

    async def _push(self, request: web.Request) -> web.Response:
        body = expect_object(await read_json(request))
        for key in ("service", "intent", "client_id"):
            expect_str(body, key)
        return web.json_response({"notification_id": str(uuid.uuid4())})
