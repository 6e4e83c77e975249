"""Schemathesis against the live ``serve`` process, from the ``/openapi.yaml`` it serves.

The schema is loaded at collection, from the document the process serves (the first test
checks they are the same text): schemathesis's lazy fixture loader does not run on pytest 9.
The gateway is wired to the simulators, seeded with the rides the spec's examples name, so
generated requests reach every layer. Every answer must be one the spec lists, with a body
that matches its schema and content type, and no 5xx but the spec'd 502, 503 and 504.
"""

import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis

from gateway.http.request_validation import openapi_text
from gateway.sandbox.world import RideSeed, settings_for
from tests.gateway_world import MONITEX_TOKEN, OPTUMPLUS_TOKEN, ShippedWorld
from tests.processes import in_background, serving

MAX_EXAMPLES = 50
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
        "checks": {
            "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", 502, 503, 504]},
            # A well-formed finish-ride may still break a rule no schema can state (the two
            # prices differ, or differ from the order's): docs/design.md §4 answers those with 400.
            # That 400 must never be invalid_request, which the check below holds it to.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", 400, 401, 404, 409, 502, 503, 504]
            },
        },
    }
)


@asynccontextmanager
async def gateway_on_simulators(workdir: Path) -> AsyncIterator[str]:
    sims = ShippedWorld()
    sims.seed_ride(RideSeed(order_id="order-il-1", alias_id="alias-il-1"))
    sims.seed_ride(RideSeed(order_id="order-lv-1", alias_id="alias-lv-1", zone="riga"))
    async with sims.running() as urls:
        tree = settings_for(urls, monitex_token=MONITEX_TOKEN, optumplus_token=OPTUMPLUS_TOKEN)
        async with serving(tree, workdir) as served:
            yield served.base_url


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("fuzz")
    with in_background(lambda: gateway_on_simulators(workdir)) as url:
        yield url


schema = schemathesis.openapi.from_file(openapi_text(), config=CONFIG)


def test_the_process_serves_the_document_fuzzed_here(base_url: str) -> None:
    with urllib.request.urlopen(f"{base_url}/openapi.yaml") as response:
        assert response.read().decode() == openapi_text()


def schema_valid_data_passes_validation(
    _: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> None:
    """The server validates bodies against the very spec the data was generated from."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code == 400:
        assert response.json()["code"] != "invalid_request", response.text


@schema.parametrize()
def test_every_answer_conforms_to_the_spec(case: schemathesis.Case[Any], base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url, additional_checks=[schema_valid_data_passes_validation]
    )
