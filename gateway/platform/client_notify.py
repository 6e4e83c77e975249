"""client-notify: a push that makes the driver app re-read its setcar."""

from gateway.platform.upstream_http import UpstreamClient

PUSH = "/v2/push"
FORCE_POLLING_ORDER_CODE = 1600


class ClientNotifyClient(UpstreamClient):
    service = "client_notify"

    async def force_polling_order(self, park_id: str, driver_profile_id: str) -> None:
        await self._post(
            "push_force_polling_order",
            PUSH,
            {
                "service": "taximeter",
                "intent": "ForcePollingOrder",
                "client_id": f"{park_id}-{driver_profile_id}",
                "data": {"code": FORCE_POLLING_ORDER_CODE},
            },
            decode_answer=False,
        )
