"""How a vendor's API knows it is us: bearer token, API key, HTTP basic, OAuth2, or your own.

A vendor returns one of these from ``MeterVendor.authentication()``; ``VendorHttp`` asks it for
the headers of every call and, after a 401, whether it renewed its credentials (then the call
is sent once more). To write your own, implement the two methods of ``VendorAuth``::

    class HmacDate:
        def __init__(self, key: SecretStr) -> None:
            self._key = key

        async def headers(self, http: VendorHttp) -> Mapping[str, str]:
            date = email.utils.formatdate(usegmt=True)
            digest = hmac.new(self._key.get_secret_value().encode(), date.encode(), "sha256")
            return {"Date": date, "X-Signature": digest.hexdigest()}

        async def renew_after_unauthorized(self, http: VendorHttp) -> bool:
            return False  # nothing to renew: a 401 is final

Credentials never reach a log line: the exchange logs no headers, and ``SecretStr`` settings
are masked by the gateway's log formatter wherever they turn up.
"""

import asyncio
import base64
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, Protocol, get_args
from urllib.parse import quote_plus

from pydantic import SecretStr

from gateway.plugins.vendor_errors import VendorMalformedResponse

if TYPE_CHECKING:
    from gateway.plugins.vendor_http import VendorHttp

# A token is renewed this long before the expiry its endpoint announced, so that a call sent
# just before the expiry does not arrive just after it.
EXPIRY_MARGIN_S = 30.0


def basic_credentials(username: str, password: SecretStr) -> str:
    """The ``Authorization`` value of HTTP basic authentication (RFC 7617, UTF-8)."""
    pair = f"{username}:{password.get_secret_value()}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def client_basic_credentials(
    client_id: str, client_secret: SecretStr, *, form_encoded: bool
) -> str:
    """The ``Authorization`` value of OAuth2's ``client_secret_basic``. RFC 6749 §2.3.1 has the
    client id and secret form-urlencoded before they become the basic user and password
    (``form_encoded``); many servers read them as they are, as 1.0 sent them."""
    if not form_encoded:
        return basic_credentials(client_id, client_secret)
    return basic_credentials(
        quote_plus(client_id), SecretStr(quote_plus(client_secret.get_secret_value()))
    )


class VendorAuth(Protocol):
    async def headers(self, http: "VendorHttp") -> Mapping[str, str]:
        """The headers that authenticate one call (fetch or compute credentials here)."""
        ...

    async def renew_after_unauthorized(self, http: "VendorHttp") -> bool:
        """The API answered 401: renew the credentials if that can help, and say whether the
        call should be sent once more."""
        ...


class _StaticHeaders:
    """Credentials that never change: the same headers on every call, a 401 is final."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    async def headers(self, http: "VendorHttp") -> Mapping[str, str]:
        return self._headers

    async def renew_after_unauthorized(self, http: "VendorHttp") -> bool:
        return False


class BearerToken(_StaticHeaders):
    """``Authorization: Bearer <token>`` (the default: ``[vendors.NAME] token``)."""

    def __init__(self, token: SecretStr) -> None:
        super().__init__({"Authorization": f"Bearer {token.get_secret_value()}"})


class ApiKeyHeader(_StaticHeaders):
    """The key in a header of the vendor's naming, e.g. ``X-Api-Key: <key>``."""

    def __init__(self, header: str, key: SecretStr) -> None:
        super().__init__({header: key.get_secret_value()})


class HttpBasic(_StaticHeaders):
    """``Authorization: Basic base64(username:password)`` (RFC 7617)."""

    def __init__(self, username: str, password: SecretStr) -> None:
        super().__init__({"Authorization": basic_credentials(username, password)})


ClientAuthMethod = Literal["client_secret_basic", "client_secret_post"]
"""How an OAuth2 client proves itself to the token endpoint (RFC 6749 §2.3.1): the client id
and secret as HTTP basic credentials, or as the form fields ``client_id`` and
``client_secret``."""
CLIENT_AUTH_METHODS: tuple[ClientAuthMethod, ...] = get_args(ClientAuthMethod)


class OAuth2ClientCredentials:
    """OAuth2 client credentials grant (RFC 6749 §4.4): a bearer token fetched from
    ``token_url`` with the client id and secret, kept until shortly before the expiry it was
    given, and fetched again once when the API answers 401.

    ``client_auth`` is how the client authenticates (RFC 6749 §2.3.1): ``client_secret_basic``
    (HTTP basic, the default) or ``client_secret_post`` (``client_id`` and ``client_secret`` as
    form fields). ``scope`` and ``audience``, when given, are sent as form fields of the same
    names (``audience`` as Auth0 and Okta name the API a token is for). ``form_encoded_basic``:
    ``client_secret_basic`` form-urlencodes the id and secret first, as RFC 6749 §2.3.1 says
    (needed where a secret holds ``+``, ``/``, ``=`` or ``:`` and the server decodes); off by
    default, as 1.0 sent them and as servers that do not decode read them.

    The token is fetched through the vendor's own ``VendorHttp`` (operation ``oauth_token``), so
    it shares the process's HTTP session, timeout, metrics and typed errors.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scope: str | None = None,
        *,
        audience: str | None = None,
        client_auth: ClientAuthMethod = "client_secret_basic",
        form_encoded_basic: bool = False,
    ) -> None:
        if client_auth not in CLIENT_AUTH_METHODS:
            raise ValueError(f"client_auth must be one of {CLIENT_AUTH_METHODS}")
        self._form_encoded_basic = form_encoded_basic
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._client_auth = client_auth
        self._params = {
            "grant_type": "client_credentials",
            **({"scope": scope} if scope else {}),
            **({"audience": audience} if audience else {}),
        }
        self._headers: dict[str, str] | None = None
        self._expires_at = 0.0
        # Calls that find no token wait for one fetch instead of each fetching their own.
        self._fetching = asyncio.Lock()

    def __repr__(self) -> str:
        return f"OAuth2ClientCredentials({self._token_url!r}, client_auth={self._client_auth!r})"

    def _token_request(self) -> tuple[dict[str, str], dict[str, str]]:
        """The form and the headers of one token request, authenticated as configured."""
        headers = {"Accept": "application/json"}
        form = dict(self._params)
        if self._client_auth == "client_secret_post":
            form["client_id"] = self._client_id
            form["client_secret"] = self._client_secret.get_secret_value()
        else:
            headers["Authorization"] = client_basic_credentials(
                self._client_id, self._client_secret, form_encoded=self._form_encoded_basic
            )
        return form, headers

    async def headers(self, http: "VendorHttp") -> Mapping[str, str]:
        if self._headers is None or time.monotonic() >= self._expires_at:
            async with self._fetching:
                if self._headers is None or time.monotonic() >= self._expires_at:
                    await self._fetch(http)
        assert self._headers is not None
        return self._headers

    async def renew_after_unauthorized(self, http: "VendorHttp") -> bool:
        stale = self._headers
        async with self._fetching:
            if self._headers is stale:  # not renewed meanwhile by another call's 401
                await self._fetch(http)
        return True

    async def _fetch(self, http: "VendorHttp") -> None:
        self._headers = None
        form, headers = self._token_request()
        response = await http.request(
            "oauth_token", "POST", self._token_url, form=form, headers=headers, authenticate=False
        )
        # A 429 is VendorRateLimited here too: the call's outcome and the start's row say so.
        body = response.expect(200).json_object()
        token, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not token:
            raise VendorMalformedResponse("token answer has no access_token")
        if str(body.get("token_type", "bearer")).lower() != "bearer":
            raise VendorMalformedResponse("token answer is not a bearer token")
        lifetime = (
            float(expires_in)
            if isinstance(expires_in, int | float) and not isinstance(expires_in, bool)
            else 0.0
        )
        # No announced lifetime: keep the token until the API refuses it.
        self._expires_at = (
            time.monotonic() + max(lifetime - EXPIRY_MARGIN_S, lifetime / 2)
            if lifetime
            else float("inf")
        )
        self._headers = {"Authorization": f"Bearer {token}"}
