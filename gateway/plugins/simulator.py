"""The base of every simulator, the ``/_sim/`` control API and a runner that serves one on a port.

Every call to a simulator's own routes is recorded and may be answered by an injected fault;
calls under ``/_sim/`` control the simulator and are neither recorded nor faulted.
"""

import asyncio
import base64
import json
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, ClassVar
from urllib.parse import unquote_plus

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import SecretStr

from gateway.plugins.faults import (
    PROXY_PAGE,
    CallLog,
    Fault,
    FaultBook,
    Headers,
    RecordedCall,
    decode_body,
    mangle_body,
)
from gateway.plugins.serving import serve_app
from gateway.plugins.vendor_auth import (
    CLIENT_AUTH_METHODS,
    ClientAuthMethod,
    basic_credentials,
)

CONTROL_PREFIX = "/_sim/"
FAULT_KEY = web.RequestKey("sandbox_fault", Fault)
# A delay fault leaves its handler sleeping; stopping a simulator must not wait for it.
SHUTDOWN_TIMEOUT_S = 1.0


class BadRequest(Exception):
    """A request the simulated service refuses with 400; each simulator words the answer."""


def applied_fault(request: web.Request) -> Fault | None:
    """The fault that matched this call, for effects only a handler can apply (pending_forever)."""
    fault: Fault | None = request.get(FAULT_KEY)
    return fault


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def _jsonable(value: Any) -> Any:
    # Undecodable bodies are recorded as bytes and seeded BSON documents may hold ObjectIds or
    # datetimes; the control API still has to show them.
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def control_json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=partial(json.dumps, default=_jsonable))


async def read_json(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError as error:
        raise BadRequest("body is not JSON") from error


def expect_object(value: Any, what: str = "body") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be an object")
    return value


def expect_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f'"{key}" must be a non-empty string')
    return value


def expect_number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadRequest(f'"{key}" must be a non-negative number')
    return float(value)


def expect_str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f'"{key}" must be a list of strings')
    return value


def expect_query(request: web.Request, key: str) -> str:
    value = request.query.get(key)
    if not value:
        raise BadRequest(f"query parameter {key} is required")
    return value


def _endpoint_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else request.path
    return f"{request.method} {template}"


class Simulator(ABC):
    """A stand-in for one upstream service: real HTTP, a call log and fault injection."""

    name: ClassVar[str]

    def __init__(self) -> None:
        self.calls = CallLog()
        self.faults = FaultBook()

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._observe, *self.guards()])
        self.add_routes(app.router)
        app.router.add_routes(
            [
                web.get("/_sim/calls", self._get_calls),
                web.delete("/_sim/calls", self._clear_calls),
                web.post("/_sim/faults", self._add_fault),
                web.get("/_sim/faults", self._get_faults),
                web.delete("/_sim/faults", self._clear_faults),
            ]
        )
        return app

    def endpoints(self) -> set[str]:
        """The service's own endpoints as ``METHOD /template``: those faults can be injected on."""
        router = web.UrlDispatcher()
        self.add_routes(router)
        return _faultable_endpoints(router)

    @abstractmethod
    def add_routes(self, router: web.UrlDispatcher) -> None:
        """The service's own routes, and its ``/_sim/`` seeding routes."""

    def guards(self) -> list[Middleware]:
        """Middlewares that run after recording and faults, such as a vendor's token check."""
        return []

    def bad_request(self, message: str) -> web.Response:
        return json_error(400, "bad_request", message)

    @web.middleware
    async def _observe(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        endpoint = _endpoint_of(request)
        raw = await request.read()
        call = RecordedCall(
            endpoint=endpoint,
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=Headers(request.headers.items()),
            body=decode_body(raw, request.content_type),
            received_at=time.time(),
        )
        # Recorded before it is answered, so a call whose caller gives up is still in the log.
        self.calls.record(call)
        started = time.perf_counter()
        try:
            response = await self._faulted_answer(request, handler, call)
            call.status = response.status
            return response
        finally:
            call.duration_ms = (time.perf_counter() - started) * 1000

    async def _faulted_answer(
        self, request: web.Request, handler: Handler, call: RecordedCall
    ) -> web.StreamResponse:
        fault = self.faults.take(call.endpoint)
        if fault is None:
            return await self._answer(request, handler)
        request[FAULT_KEY] = fault
        call.fault = fault.describe()
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status is not None and not fault.after_effect:
            return json_error(fault.status, "injected_fault", f"fault injected on {call.endpoint}")
        response = await self._answer(request, handler)
        if fault.status is not None:  # after the effect: the answer lost behind a proxy's page
            return web.Response(
                status=fault.status,
                text=PROXY_PAGE.format(status=fault.status),
                content_type="text/html",
            )
        if fault.body is not None and isinstance(response, web.Response):
            raw_answer = response.body
            if isinstance(raw_answer, bytes):
                response.body = mangle_body(raw_answer, response.content_type, fault.body)
        return response

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadRequest as error:
            return self.bad_request(str(error))

    async def _get_calls(self, _: web.Request) -> web.Response:
        return control_json([call.to_json() for call in self.calls.all()])

    async def _clear_calls(self, _: web.Request) -> web.Response:
        self.calls.clear()
        return web.Response(status=204)

    async def _add_fault(self, request: web.Request) -> web.Response:
        try:
            fault = Fault.from_json(json.loads(await request.read()))
        except ValueError as error:
            return json_error(400, "bad_fault", str(error))
        endpoints = self.endpoints()
        if fault.endpoint not in endpoints:
            return json_error(400, "bad_fault", f"unknown endpoint; known: {sorted(endpoints)}")
        self.faults.add(fault)
        return control_json(fault.to_json(), status=201)

    async def _get_faults(self, _: web.Request) -> web.Response:
        return control_json([fault.to_json() for fault in self.faults.active()])

    async def _clear_faults(self, _: web.Request) -> web.Response:
        self.faults.clear()
        return web.Response(status=204)


def _faultable_endpoints(router: web.UrlDispatcher) -> set[str]:
    return {
        f"{route.method} {route.resource.canonical}"
        for route in router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and not route.resource.canonical.startswith(CONTROL_PREFIX)
    }


Unauthorized = Callable[[], web.Response]
"""The simulated API's own answer to a call without valid credentials."""


def _unauthorized() -> web.Response:
    return json_error(401, "unauthorized", "invalid or missing credentials")


def _guard(accepts: Callable[[web.Request], bool], unauthorized: Unauthorized) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX) or accepts(request):
            return await handler(request)
        return unauthorized()

    return check


def bearer_auth(token: str, unauthorized: Unauthorized = _unauthorized) -> Middleware:
    """Refuse calls without ``Authorization: Bearer <token>`` (matches ``BearerToken``)."""
    expected = f"Bearer {token}"
    return _guard(lambda request: request.headers.get("Authorization") == expected, unauthorized)


def api_key_auth(header: str, key: str, unauthorized: Unauthorized = _unauthorized) -> Middleware:
    """Refuse calls without ``<header>: <key>`` (matches ``ApiKeyHeader``)."""
    return _guard(lambda request: request.headers.get(header) == key, unauthorized)


def basic_auth(
    username: str, password: str, unauthorized: Unauthorized = _unauthorized
) -> Middleware:
    """Refuse calls without HTTP basic credentials ``username:password`` (matches
    ``HttpBasic``)."""
    expected = basic_credentials(username, SecretStr(password))
    return _guard(lambda request: request.headers.get("Authorization") == expected, unauthorized)


def _basic_client(authorization: str | None, form_encoded: bool) -> tuple[str, str] | None:
    """The client id and secret of a ``client_secret_basic`` header, decoded as a server does
    (base64, then, ``form_encoded``, each half form-urldecoded as RFC 6749 §2.3.1 has it);
    None if it holds none."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme != "Basic":
        return None
    try:
        client_id, colon, client_secret = (
            base64.b64decode(encoded, validate=True).decode().partition(":")
        )
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None
    if not colon:
        return None
    return (
        (unquote_plus(client_id), unquote_plus(client_secret))
        if form_encoded
        else (
            client_id,
            client_secret,
        )
    )


class OAuth2TokenIssuer:
    """An OAuth2 client-credentials token endpoint and the guard that accepts its tokens
    (matches ``OAuth2ClientCredentials``).

    A simulator adds ``add_routes(router)`` to its routes and ``guard()`` to its guards.
    ``client_auth`` is the client authentication the endpoint accepts (RFC 6749 §2.3.1):
    ``client_secret_basic`` (the default), ``client_secret_post``, or None for either; a client
    that uses both at once is refused (``invalid_request``), as the RFC says. ``scope`` and
    ``audience``, when given, must be asked for exactly (``invalid_scope``,
    ``invalid_request``). ``expire_tokens()`` makes every issued token refused, as an API whose
    tokens expired early; ``issued`` counts the tokens handed out.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        token_path: str = "/oauth/token",
        expires_in: int = 3600,
        client_auth: ClientAuthMethod | None = "client_secret_basic",
        scope: str | None = None,
        audience: str | None = None,
        form_encoded_basic: bool = False,
    ) -> None:
        if client_auth is not None and client_auth not in CLIENT_AUTH_METHODS:
            raise ValueError(f"client_auth must be one of {CLIENT_AUTH_METHODS} or None")
        self.token_path = token_path
        self.expires_in = expires_in
        self.client_auth = client_auth
        self.scope = scope
        self.audience = audience
        self.form_encoded_basic = form_encoded_basic
        self.issued = 0
        self._client_id = client_id
        self._client_secret = client_secret
        self._valid: set[str] = set()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(self.token_path, self._issue)

    def guard(self, unauthorized: Unauthorized = _unauthorized) -> Middleware:
        def accepts(request: web.Request) -> bool:
            if request.path == self.token_path:
                return True
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            return scheme == "Bearer" and token in self._valid

        return _guard(accepts, unauthorized)

    def expire_tokens(self) -> None:
        self._valid.clear()

    def _client_error(self, request: web.Request, form: Mapping[str, Any]) -> str | None:
        """Why the client is not authenticated as this endpoint wants it; None if it is."""
        authorization = request.headers.get("Authorization")
        posted = "client_id" in form or "client_secret" in form
        if authorization is not None and posted:
            return "invalid_request"  # RFC 6749 §2.3: one authentication method per request
        method: ClientAuthMethod = "client_secret_post" if posted else "client_secret_basic"
        if self.client_auth is not None and method != self.client_auth:
            return "invalid_client"
        if method == "client_secret_post":
            good = (form.get("client_id"), form.get("client_secret")) == (
                self._client_id,
                self._client_secret,
            )
        else:
            decoded = _basic_client(authorization, self.form_encoded_basic)
            good = decoded == (self._client_id, self._client_secret)
        return None if good else "invalid_client"

    async def _issue(self, request: web.Request) -> web.Response:
        form = await request.post()
        refused = self._client_error(request, form)
        if refused == "invalid_client":
            # RFC 6749 §5.2: 401, with the scheme the client should have used.
            return web.json_response(
                {"error": "invalid_client"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="oauth"'}
                if self.client_auth != "client_secret_post"
                else None,
            )
        if refused is not None:
            return web.json_response({"error": refused}, status=400)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if self.scope is not None and form.get("scope") != self.scope:
            return web.json_response({"error": "invalid_scope"}, status=400)
        if self.audience is not None and form.get("audience") != self.audience:
            return web.json_response(
                {"error": "invalid_request", "error_description": "unknown audience"}, status=400
            )
        token = secrets.token_urlsafe(16)
        self._valid.add(token)
        self.issued += 1
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        )


@asynccontextmanager
async def run_simulator(
    sim: Simulator, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Serve the simulator until the block exits; yields its base URL (port 0 = any free port)."""
    async with serve_app(
        sim.build_app(), host, port, shutdown_timeout=SHUTDOWN_TIMEOUT_S, handler_cancellation=True
    ) as url:
        yield url
