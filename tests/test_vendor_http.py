"""VendorHttp: what a vendor plugin gets back for each kind of answer, how each authentication
scheme meets its simulator guard, and the metric and log line every call leaves."""

import asyncio
import base64
import email.utils
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import REGISTRY
from pydantic import SecretStr

from gateway.plugins import (
    ApiKeyHeader,
    BearerToken,
    ClientAuthMethod,
    Fault,
    HttpBasic,
    OAuth2ClientCredentials,
    OAuth2TokenIssuer,
    Problem,
    Simulator,
    VendorAuth,
    VendorErrorStatus,
    VendorHttp,
    VendorMalformedResponse,
    VendorRateLimited,
    VendorResponse,
    api_key_auth,
    basic_auth,
    bearer_auth,
    run_simulator,
    vendor_auth,
)
from gateway.plugins.vendor_auth import CLIENT_AUTH_METHODS

Answer = Callable[[int, str], Awaitable[VendorResponse]]


def _acme_api(http: aiohttp.ClientSession, server: TestServer) -> VendorHttp:
    return VendorHttp(
        http,
        vendor="acme",
        base_url=str(server.make_url("/")),
        timeout_ms=1000,
        auth=BearerToken(SecretStr("t")),
    )


@pytest.fixture
async def answer(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Answer:
    """The VendorResponse VendorHttp makes of a vendor answering ``status`` with ``body``."""
    canned: dict[str, Any] = {}

    async def ride(_: web.Request) -> web.Response:
        return web.Response(status=canned["status"], text=canned["body"])

    app = web.Application()
    app.router.add_get("/rides/r-1", ride)
    server = await aiohttp_server(app)

    async def get(status: int, body: str) -> VendorResponse:
        canned.update(status=status, body=body)
        async with aiohttp.ClientSession() as http:
            api = _acme_api(http, server)
            return await api.request("get_ride", "GET", "/rides/r-1")

    return get


async def test_json_answer_is_decoded(answer: Answer) -> None:
    assert await answer(200, '{"state": "COMPLETED"}') == VendorResponse(
        200, {"state": "COMPLETED"}
    )


async def test_empty_answer_is_none(answer: Answer) -> None:
    assert await answer(200, "") == VendorResponse(200, None)


async def test_a_success_that_is_not_json_is_malformed(answer: Answer) -> None:
    with pytest.raises(VendorMalformedResponse):
        await answer(200, "<html>ok</html>")


async def test_a_success_holding_nan_is_malformed(answer: Answer) -> None:
    with pytest.raises(VendorMalformedResponse):
        await answer(200, '{"totalPrice": NaN}')


async def test_an_error_page_keeps_its_status_for_the_vendor_to_judge(answer: Answer) -> None:
    assert await answer(502, "<html>Bad Gateway</html>") == VendorResponse(502, None)
    assert await answer(500, '{"status": "ERROR"}') == VendorResponse(500, {"status": "ERROR"})


def _calls(vendor: str, operation: str, outcome: str) -> float:
    labels = {"vendor": vendor, "operation": operation, "outcome": outcome}
    return REGISTRY.get_sample_value("meters_vendor_call_duration_seconds_count", labels) or 0.0


async def test_a_failed_call_is_measured_and_logged_at_warning_with_its_status(
    answer: Answer,
) -> None:
    before = _calls("acme", "get_ride", "vendor_error_status")

    with structlog.testing.capture_logs() as logs:
        await answer(503, "")

    assert _calls("acme", "get_ride", "vendor_error_status") == before + 1
    [line] = [entry for entry in logs if entry["event"] == "vendor.call"]
    assert line["log_level"] == "warning"
    assert (line["vendor"], line["operation"], line["status"]) == ("acme", "get_ride", 503)


def _error_answers(status: str) -> float:
    labels = {"vendor": "acme", "operation": "get_ride", "status": status}
    return REGISTRY.get_sample_value("meters_vendor_call_error_answers_total", labels) or 0.0


async def test_error_answers_are_counted_by_status_and_one_past_599_as_other(
    answer: Answer,
) -> None:
    before = {status: _error_answers(status) for status in ("499", "599", "other")}

    await answer(499, "")
    await answer(599, "")
    await answer(999, "")
    await answer(200, "{}")

    assert {status: _error_answers(status) - before[status] for status in before} == {
        "499": 1.0,
        "599": 1.0,
        "other": 1.0,
    }
    assert _error_answers("999") == 0.0
    assert _error_answers("200") == 0.0


async def test_a_successful_call_is_logged_at_info(answer: Answer) -> None:
    with structlog.testing.capture_logs() as logs:
        await answer(200, "{}")

    [line] = [entry for entry in logs if entry["event"] == "vendor.call"]
    assert (line["log_level"], line["outcome"], line["status"]) == ("info", "ok", 200)


class GuardedApi(Simulator):
    """One endpoint behind whichever guard a test chooses; the token endpoint if OAuth2."""

    name = "guarded"

    def __init__(self, guard: Any, issuer: OAuth2TokenIssuer | None = None) -> None:
        super().__init__()
        self._guard = guard
        self.issuer = issuer

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/rides/r-1", self._ride)
        router.add_put("/rides/r-1", self._ride)
        if self.issuer is not None:
            self.issuer.add_routes(router)

    def guards(self) -> list[Any]:
        return [self._guard]

    async def _ride(self, _: web.Request) -> web.Response:
        return web.json_response({"state": "IN_PROGRESS"})


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _get_ride(http: aiohttp.ClientSession, url: str, auth: VendorAuth) -> VendorResponse:
    api = VendorHttp(http, vendor="acme", base_url=url, timeout_ms=1000, auth=auth)
    return await api.request("get_ride", "GET", "/rides/r-1")


@pytest.mark.parametrize(
    ("guard", "good", "bad"),
    [
        pytest.param(
            bearer_auth("tok"),
            BearerToken(SecretStr("tok")),
            BearerToken(SecretStr("other")),
            id="bearer",
        ),
        pytest.param(
            api_key_auth("X-Kalos-Key", "k-1"),
            ApiKeyHeader("X-Kalos-Key", SecretStr("k-1")),
            ApiKeyHeader("X-Api-Key", SecretStr("k-1")),
            id="api-key",
        ),
        pytest.param(
            basic_auth("fleet", "pw"),
            HttpBasic("fleet", SecretStr("pw")),
            HttpBasic("fleet", SecretStr("wrong")),
            id="basic",
        ),
    ],
)
async def test_each_static_scheme_meets_its_simulator_guard(
    http: aiohttp.ClientSession, guard: Any, good: VendorAuth, bad: VendorAuth
) -> None:
    simulator = GuardedApi(guard)
    async with run_simulator(simulator) as url:
        assert (await _get_ride(http, url, good)).status == 200
        # A 401 from a static credential is final: no second call.
        assert (await _get_ride(http, url, bad)).status == 401

    assert [call.status for call in simulator.calls.all()] == [200, 401]


def _oauth(issuer: OAuth2TokenIssuer, url: str, secret: str = "s3cret") -> VendorAuth:
    return OAuth2ClientCredentials(url + issuer.token_path, "acme-client", SecretStr(secret))


class FakeClock:
    """``time.monotonic`` for the token cache alone, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


async def test_oauth2_fetches_one_token_and_keeps_it_until_expiry(
    http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(vendor_auth, "time", clock)
    issuer = OAuth2TokenIssuer("acme-client", "s3cret", expires_in=3600)
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        auth = _oauth(issuer, url)

        first = await _get_ride(http, url, auth)
        # Kept until EXPIRY_MARGIN_S before the announced expiry, then fetched again.
        clock.now += 3600 - vendor_auth.EXPIRY_MARGIN_S - 1
        second = await _get_ride(http, url, auth)
        issued_before_expiry = issuer.issued
        clock.now += 1
        third = await _get_ride(http, url, auth)

    assert (first.status, second.status, third.status) == (200, 200, 200)
    assert (issued_before_expiry, issuer.issued) == (1, 2)
    assert [call.endpoint for call in simulator.calls.all()] == [
        "POST /oauth/token",
        "GET /rides/r-1",
        "GET /rides/r-1",
        "POST /oauth/token",
        "GET /rides/r-1",
    ]
    token_call = simulator.calls.all()[0]
    assert token_call.body == b"grant_type=client_credentials"
    assert (
        token_call.headers["authorization"]
        == "Basic YWNtZS1jbGllbnQ6czNjcmV0"  # acme-client:s3cret
    )


@pytest.mark.parametrize("client_auth", CLIENT_AUTH_METHODS)
async def test_oauth2_refreshes_once_on_a_401_and_repeats_the_call_once(
    http: aiohttp.ClientSession, client_auth: ClientAuthMethod
) -> None:
    issuer = OAuth2TokenIssuer("acme-client", "s3cret", client_auth=client_auth)
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        auth = _client(issuer, url, client_auth)
        await _get_ride(http, url, auth)
        issuer.expire_tokens()  # the API stops accepting the token before its announced expiry
        simulator.calls.clear()

        response = await _get_ride(http, url, auth)

    assert response.status == 200
    assert [(c.endpoint, c.status) for c in simulator.calls.all()] == [
        ("GET /rides/r-1", 401),
        ("POST /oauth/token", 200),
        ("GET /rides/r-1", 200),
    ]
    assert issuer.issued == 2


async def test_oauth2_refused_client_credentials_are_a_typed_error(
    http: aiohttp.ClientSession,
) -> None:
    issuer = OAuth2TokenIssuer("acme-client", "s3cret")
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        with pytest.raises(VendorErrorStatus) as refused:
            await _get_ride(http, url, _oauth(issuer, url, secret="wrong"))

    assert refused.value.status == 401
    assert "wrong" not in str(refused.value)
    assert [c.endpoint for c in simulator.calls.all()] == ["POST /oauth/token"]


@pytest.mark.parametrize(
    ("form_encoded", "sent"),
    [
        # RFC 6749 §2.3.1: a ':' in the id would otherwise end the user there, a '+' be a space.
        pytest.param(True, "fleet%3A7:s%2Bcr%2Ft+%C3%A9", id="form-encoded"),
        # 1.0's bytes, what a server that does not decode reads: the default.
        pytest.param(False, "fleet7:s+cr/t é", id="as-they-are"),
    ],
)
async def test_oauth2_client_secret_basic_sends_the_client_as_configured(
    http: aiohttp.ClientSession, form_encoded: bool, sent: str
) -> None:
    client_id = "fleet:7" if form_encoded else "fleet7"
    issuer = OAuth2TokenIssuer(client_id, "s+cr/t é", form_encoded_basic=form_encoded)
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        auth = OAuth2ClientCredentials(
            url + issuer.token_path,
            client_id,
            SecretStr("s+cr/t é"),
            form_encoded_basic=form_encoded,
        )
        response = await _get_ride(http, url, auth)

    assert response.status == 200
    token_call = simulator.calls.all()[0]
    encoded = base64.b64encode(sent.encode()).decode()
    assert token_call.headers["authorization"] == f"Basic {encoded}"


async def test_oauth2_a_token_endpoint_429_is_a_rate_limit(http: aiohttp.ClientSession) -> None:
    issuer = OAuth2TokenIssuer("acme-client", "s3cret")
    simulator = GuardedApi(issuer.guard(), issuer)
    simulator.faults.add(Fault("POST /oauth/token", status=429))
    async with run_simulator(simulator) as url:
        with pytest.raises(VendorRateLimited) as limited, structlog.testing.capture_logs() as logs:
            await _get_ride(http, url, _oauth(issuer, url))

    assert (limited.value.status, limited.value.reason) == (429, "vendor_rate_limited")
    assert not limited.value.may_have_taken_effect
    [line] = [entry for entry in logs if entry["event"] == "vendor.call"]
    assert (line["operation"], line["outcome"], line["status"]) == (
        "oauth_token",
        "vendor_rate_limited",
        429,
    )
    assert [c.endpoint for c in simulator.calls.all()] == ["POST /oauth/token"]


def _client(
    issuer: OAuth2TokenIssuer, url: str, client_auth: ClientAuthMethod, **options: Any
) -> VendorAuth:
    return OAuth2ClientCredentials(
        url + issuer.token_path,
        "acme-client",
        SecretStr("s3cret"),
        client_auth=client_auth,
        **options,
    )


async def test_oauth2_client_secret_post_sends_the_client_as_form_fields(
    http: aiohttp.ClientSession,
) -> None:
    issuer = OAuth2TokenIssuer("acme-client", "s3cret", client_auth="client_secret_post")
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        response = await _get_ride(http, url, _client(issuer, url, "client_secret_post"))

    assert response.status == 200
    token_call = simulator.calls.all()[0]
    assert token_call.body == (
        b"grant_type=client_credentials&client_id=acme-client&client_secret=s3cret"
    )
    assert "authorization" not in token_call.headers
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"


async def test_oauth2_scope_and_audience_are_asked_for(http: aiohttp.ClientSession) -> None:
    issuer = OAuth2TokenIssuer(
        "acme-client", "s3cret", scope="rides:write", audience="https://api.acme.example"
    )
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        auth = OAuth2ClientCredentials(
            url + issuer.token_path,
            "acme-client",
            SecretStr("s3cret"),
            scope="rides:write",
            audience="https://api.acme.example",
        )
        response = await _get_ride(http, url, auth)

    assert response.status == 200
    assert simulator.calls.all()[0].body == (
        b"grant_type=client_credentials&scope=rides%3Awrite&audience=https%3A%2F%2Fapi.acme.example"
    )


@pytest.mark.parametrize(
    ("issuer", "options", "error"),
    [
        pytest.param(
            OAuth2TokenIssuer("acme-client", "s3cret"),
            {"client_auth": "client_secret_post"},
            "invalid_client",
            id="post-to-a-basic-endpoint",
        ),
        pytest.param(
            OAuth2TokenIssuer("acme-client", "s3cret", client_auth="client_secret_post"),
            {"client_auth": "client_secret_basic"},
            "invalid_client",
            id="basic-to-a-post-endpoint",
        ),
        pytest.param(
            OAuth2TokenIssuer("acme-client", "s3cret", scope="rides:write"),
            {"scope": "rides:read"},
            "invalid_scope",
            id="another-scope",
        ),
        pytest.param(
            OAuth2TokenIssuer("acme-client", "s3cret", audience="https://api.acme.example"),
            {},
            "invalid_request",
            id="no-audience",
        ),
    ],
)
async def test_the_issuer_refuses_a_client_that_asks_otherwise(
    http: aiohttp.ClientSession, issuer: OAuth2TokenIssuer, options: dict[str, Any], error: str
) -> None:
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        auth = OAuth2ClientCredentials(
            url + issuer.token_path, "acme-client", SecretStr("s3cret"), **options
        )
        with pytest.raises(VendorErrorStatus) as refused:
            await _get_ride(http, url, auth)
        answer = await http.post(
            url + issuer.token_path,
            data=simulator.calls.all()[0].body,
            headers=dict(simulator.calls.all()[0].headers),
        )
        body = await answer.json()

    assert refused.value.status in (400, 401)
    assert body["error"] == error
    assert issuer.issued == 0
    assert "s3cret" not in str(refused.value)


async def test_the_issuer_refuses_both_client_authentications_at_once(
    http: aiohttp.ClientSession,
) -> None:
    issuer = OAuth2TokenIssuer("acme-client", "s3cret", client_auth=None)
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        answer = await http.post(
            url + issuer.token_path,
            data={
                "grant_type": "client_credentials",
                "client_id": "acme-client",
                "client_secret": "s3cret",
            },
            headers={"Authorization": "Basic YWNtZS1jbGllbnQ6czNjcmV0"},
        )
        body = await answer.json()

    assert (answer.status, body) == (400, {"error": "invalid_request"})


@pytest.mark.parametrize("client_auth", CLIENT_AUTH_METHODS)
async def test_an_issuer_taking_either_authentication_accepts_each(
    http: aiohttp.ClientSession, client_auth: ClientAuthMethod
) -> None:
    issuer = OAuth2TokenIssuer("acme-client", "s3cret", client_auth=None)
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        auth = _client(issuer, url, client_auth)
        assert (await _get_ride(http, url, auth)).status == 200


@pytest.mark.parametrize("client_auth", CLIENT_AUTH_METHODS)
async def test_oauth2_concurrent_calls_share_one_token_fetch(
    http: aiohttp.ClientSession, client_auth: ClientAuthMethod
) -> None:
    issuer = OAuth2TokenIssuer("acme-client", "s3cret", client_auth=client_auth)
    simulator = GuardedApi(issuer.guard(), issuer)
    async with run_simulator(simulator) as url:
        auth = _client(issuer, url, client_auth)
        answers = await asyncio.gather(*(_get_ride(http, url, auth) for _ in range(5)))

    assert [answer.status for answer in answers] == [200] * 5
    assert issuer.issued == 1
    assert len(simulator.calls.to("POST /oauth/token")) == 1


def test_oauth2_credentials_do_not_show_the_secret() -> None:
    auth = OAuth2ClientCredentials(
        "https://auth.acme.example/token",
        "acme-client",
        SecretStr("s3cret"),
        client_auth="client_secret_post",
    )

    assert "s3cret" not in repr(auth)
    with pytest.raises(ValueError, match="client_auth"):
        OAuth2ClientCredentials(
            "https://auth.acme.example/token",
            "acme-client",
            SecretStr("s3cret"),
            client_auth="private_key_jwt",  # type: ignore[arg-type]
        )


async def test_a_json_body_is_sent_as_json_dumps_writes_it(http: aiohttp.ClientSession) -> None:
    simulator = GuardedApi(bearer_auth("tok"))
    async with run_simulator(simulator) as url:
        api = VendorHttp(
            http, vendor="acme", base_url=url, timeout_ms=1000, auth=BearerToken(SecretStr("tok"))
        )
        await api.request("stop_ride", "PUT", "/rides/r-1", json_body={"car": "12 א", 1: True})

    [call] = simulator.calls.all()
    # A key that is not a string goes out as json.dumps writes it (orjson would refuse it).
    assert (call.endpoint, call.body) == ("PUT /rides/r-1", {"car": "12 א", "1": True})
    assert call.headers["content-type"] == "application/json"


@pytest.fixture
async def answering(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> Callable[[web.Response], Awaitable[VendorResponse]]:
    """The VendorResponse VendorHttp makes of a vendor answering exactly ``response``."""
    canned: list[web.Response] = []

    async def ride(_: web.Request) -> web.Response:
        return canned.pop()

    app = web.Application()
    app.router.add_post("/rides", ride)
    server = await aiohttp_server(app)

    async def post(response: web.Response) -> VendorResponse:
        canned.append(response)
        async with aiohttp.ClientSession() as http:
            api = _acme_api(http, server)
            return await api.request("start_ride", "POST", "/rides", json_body={})

    return post


async def test_the_answers_headers_are_found_by_any_case(
    answering: Callable[[web.Response], Awaitable[VendorResponse]],
) -> None:
    response = await answering(web.json_response({}, headers={"Idempotency-Replayed": "true"}))

    assert response.headers["idempotency-replayed"] == "true"
    assert response.headers.get("IDEMPOTENCY-REPLAYED") == "true"
    assert response.headers["Content-Type"].startswith("application/json")


async def test_a_429_is_measured_and_logged_as_rate_limited_not_as_an_error_status(
    answer: Answer,
) -> None:
    """A dashboard tells a vendor throttling us from one refusing or failing us."""
    limited_before = _calls("acme", "get_ride", "vendor_rate_limited")
    status_before = _calls("acme", "get_ride", "vendor_error_status")

    with structlog.testing.capture_logs() as logs:
        await answer(429, "")

    assert _calls("acme", "get_ride", "vendor_rate_limited") == limited_before + 1
    assert _calls("acme", "get_ride", "vendor_error_status") == status_before
    [line] = [entry for entry in logs if entry["event"] == "vendor.call"]
    assert (line["outcome"], line["status"], line["log_level"]) == (
        "vendor_rate_limited",
        429,
        "warning",
    )


@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [
        ("120", 120.0),
        (None, None),
        ("soon", None),
        ("²", None),  # a digit to str.isdigit(), not a number to float()
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
async def test_a_429_is_rate_limited_with_its_retry_after(
    answering: Callable[[web.Response], Awaitable[VendorResponse]],
    retry_after: str | None,
    seconds: float | None,
) -> None:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    response = await answering(web.json_response({}, status=429, headers=headers))

    with pytest.raises(VendorRateLimited) as limited:
        response.expect(201)

    assert (limited.value.status, limited.value.retry_after_s) == (429, seconds)
    assert isinstance(limited.value, VendorErrorStatus)
    assert not limited.value.may_have_taken_effect, "a 429 says nothing was done"


async def test_a_retry_after_date_is_the_seconds_until_it(
    answering: Callable[[web.Response], Awaitable[VendorResponse]],
) -> None:
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    response = await answering(web.json_response({}, status=429, headers={"Retry-After": later}))

    with pytest.raises(VendorRateLimited) as limited:
        response.expect(201)

    assert limited.value.retry_after_s is not None
    assert 80 < limited.value.retry_after_s <= 90


async def test_a_problem_body_is_read_by_its_type_and_title(
    answering: Callable[[web.Response], Awaitable[VendorResponse]],
) -> None:
    problem = {
        "type": "https://api.acme.example/problems/driver-busy",
        "title": "The driver has a ride in progress",
        "status": 409,
        "detail": "ride r-7 is running",
    }
    answer = web.json_response(problem, status=409, content_type="application/problem+json")

    response = await answering(answer)

    assert response.problem() == Problem(
        type="https://api.acme.example/problems/driver-busy",
        title="The driver has a ride in progress",
        detail="ride r-7 is running",
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"title": "Not Found"}, Problem("about:blank", "Not Found")),
        ({"type": "", "title": 7}, Problem("about:blank", None)),
        ({"code": "driver_busy"}, None),
        ([1, 2], None),
    ],
)
async def test_a_body_that_is_not_a_problem_is_none_and_a_bare_one_is_about_blank(
    answering: Callable[[web.Response], Awaitable[VendorResponse]],
    body: Any,
    problem: Problem | None,
) -> None:
    response = await answering(web.json_response(body, status=400))

    assert response.problem() == problem
