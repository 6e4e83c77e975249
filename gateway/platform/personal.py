"""personal, the PII vault: turns a personal-data id into the national id number it stands for."""

import json

from gateway.platform.upstream_http import UpstreamClient, expect_dict
from gateway.plugins.meter_vendor import NationalIdNumber
from gateway.rides.errors import MissingUpstreamData, UpstreamMalformedResponse

RETRIEVE = "/v1/identifications/retrieve"


class PersonalClient(UpstreamClient):
    service = "personal"

    async def national_id_number(self, pd_id: str) -> NationalIdNumber:
        answer = expect_dict(
            self.service,
            await self._post(
                "retrieve_identification", RETRIEVE, {"id": pd_id, "primary_replica": False}
            ),
            "answer",
        )
        value = answer.get("value")
        if not isinstance(value, str) or not value:
            raise MissingUpstreamData(self.service, "empty identification value")
        # ``value`` is itself a JSON document held in a string.
        try:
            number = json.loads(value).get("number")
        except (ValueError, AttributeError):
            # Not chained: the decoder's error holds the whole value, the id number included.
            raise UpstreamMalformedResponse(self.service, "value is not a JSON object") from None
        if not isinstance(number, str) or not number.strip():
            raise MissingUpstreamData(self.service, "identification holds no number")
        return NationalIdNumber(number.strip())
