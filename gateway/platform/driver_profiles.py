"""driver-profiles: which personal-vault id holds the driver's national id number."""

from gateway.platform.upstream_http import CONSUMER, UpstreamClient, expect_dict, expect_list
from gateway.rides.errors import MissingUpstreamData

RETRIEVE_DOCS = "/v1/identity-docs/retrieve_by_park_driver_profile_id"


class DriverProfilesClient(UpstreamClient):
    service = "driver_profiles"

    async def national_id_pd_id(self, park_id: str, driver_profile_id: str, doc_type: str) -> str:
        """The ``number_pd_id`` of the driver's document of ``doc_type``."""
        key = f"{park_id}_{driver_profile_id}"
        answer = expect_dict(
            self.service,
            await self._post(
                "retrieve_identity_docs",
                RETRIEVE_DOCS,
                {"park_driver_profile_id_in_set": [key]},
                {"consumer": CONSUMER},
            ),
            "answer",
        )
        for profile in expect_list(
            self.service,
            answer.get("docs_by_park_driver_profile_id"),
            "docs_by_park_driver_profile_id",
        ):
            if not isinstance(profile, dict) or profile.get("park_driver_profile_id") != key:
                continue
            for doc in expect_list(self.service, profile.get("docs", []), "docs"):
                data = doc.get("data") if isinstance(doc, dict) else None
                if isinstance(data, dict) and data.get("type") == doc_type:
                    pd_id = data.get("number_pd_id")
                    if isinstance(pd_id, str) and pd_id:
                        return pd_id
        raise MissingUpstreamData(self.service, f"no usable {doc_type} document")
