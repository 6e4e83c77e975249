"""A vendor whose API wants OAuth2 client credentials, through the kit: Monitex's rides behind a
token endpoint that takes the client as form fields (``client_secret_post``) and wants a scope,
its secret in a ``client_secret`` setting and no ``token`` at all. The kit builds its simulator
from the validated settings (``simulator_for``), so the issuer checks the configured client id
and secret. The kit's own suites (all but those needing an installed entry point) pass it,
faulting the token endpoint and the ride endpoints alike."""

from typing import Any, ClassVar

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import Field, SecretStr

from gateway.plugins import (
    OAuth2ClientCredentials,
    OAuth2TokenIssuer,
    Simulator,
    VendorAuth,
    VendorSettings,
)
from gateway.testing import (
    AuthenticationSuite,
    InvalidSetting,
    RideSuite,
    SettingsSuite,
    TransportFaultSuite,
)
from vendors.monitex.settings import MonitexSettings
from vendors.monitex.simulator import MonitexSimulator
from vendors.monitex.vendor import MonitexVendor

CLIENT_ID = "kit-client"
SCOPE = "rides"


class OAuth2MonitexSettings(MonitexSettings):
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    token_url: str = Field(pattern=r"^https?://")


class OAuth2Monitex(MonitexVendor):
    """Monitex as it would be behind OAuth2, its client secret a setting of its own."""

    name = "oauth2_monitex"
    settings_model = OAuth2MonitexSettings
    settings: OAuth2MonitexSettings

    def authentication(self) -> VendorAuth:
        return OAuth2ClientCredentials(
            self.settings.token_url,
            self.settings.client_id,
            self.settings.client_secret,
            scope=SCOPE,
            client_auth="client_secret_post",
        )


class OAuth2MonitexSimulator(MonitexSimulator):
    def __init__(self, settings: OAuth2MonitexSettings) -> None:
        client_secret = settings.client_secret.get_secret_value()
        super().__init__(client_secret)
        self.issuer = OAuth2TokenIssuer(
            settings.client_id, client_secret, client_auth="client_secret_post", scope=SCOPE
        )

    def guards(self) -> list[Middleware]:
        return [self.issuer.guard()]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        super().add_routes(router)
        self.issuer.add_routes(router)


class TestOAuth2MonitexThroughTheKit(
    AuthenticationSuite, SettingsSuite, RideSuite, TransportFaultSuite
):
    vendor_class = OAuth2Monitex
    extra_invalid_settings: ClassVar[tuple[InvalidSetting, ...]] = (
        InvalidSetting("client_id", ""),
        InvalidSetting("token_url", "ftp://auth"),
    )

    def simulator_for(self, settings: VendorSettings) -> Simulator:
        assert isinstance(settings, OAuth2MonitexSettings)
        return OAuth2MonitexSimulator(settings)

    def vendor_settings(self, url: str, token: str) -> dict[str, Any]:
        return {
            "url": url,
            "client_secret": token,
            "client_id": CLIENT_ID,
            "token_url": url + "/oauth/token",
            "pending_poll_interval_ms": 0,
        }
