"""Configured secrets are masked in every log line, whichever route the line took.

Our flows never log a token; this is the last line of defence for what they do not control,
such as a vendor plugin's exception message or a library's own log record.
"""

import json
import subprocess
import sys
from typing import Any

from gateway.bootstrap.registry import discover_vendor_plugins
from gateway.bootstrap.secrets import configured_secrets
from gateway.logging_setup import REDACTED
from gateway.settings import Settings
from tests.gateway_world import MONITEX_TOKEN, OPTUMPLUS_TOKEN

# Quotes, a backslash and a non-ASCII letter: the line holds this one JSON-escaped.
AWKWARD_SECRET = 'tok"en\\é-9f3a'

# Logging is configured process-wide, so the logging happens in a process of its own.
LOGGING_PROCESS = """
import logging, sys
import structlog
from gateway.logging_setup import configure_logging

token, awkward = sys.argv[1:]
configure_logging("INFO", secrets=[token, awkward])
try:
    raise RuntimeError(f"vendor answered for Bearer {token} and {awkward}")
except RuntimeError:
    structlog.get_logger("gateway.vendor").exception("vendor.crashed", detail=token)
try:
    raise RuntimeError(f"Authorization: Bearer {token}")
except RuntimeError:
    logging.getLogger("some.library").exception("request with %s failed", awkward)
"""


def _log_in_a_process(script: str) -> "subprocess.CompletedProcess[str]":
    """What the script logged on stdout, given the two secrets; it wrote nothing else."""
    written = subprocess.run(
        [sys.executable, "-c", script, MONITEX_TOKEN, AWKWARD_SECRET],
        capture_output=True,
        text=True,
        check=True,
    )
    assert written.stderr == ""
    return written


def test_secrets_are_masked_in_our_events_and_in_library_records() -> None:
    written = _log_in_a_process(LOGGING_PROCESS)
    lines: list[dict[str, Any]] = [json.loads(line) for line in written.stdout.splitlines()]
    assert [(line["logger"], line["level"]) for line in lines] == [
        ("gateway.vendor", "error"),
        ("some.library", "error"),
    ]
    escaped = json.dumps(AWKWARD_SECRET)[1:-1]
    for secret in (MONITEX_TOKEN, AWKWARD_SECRET, escaped):
        assert secret not in written.stdout
    ours, theirs = lines
    assert ours["detail"] == REDACTED
    assert f"Bearer {REDACTED} and {REDACTED}" in ours["exception"]
    assert theirs["event"] == f"request with {REDACTED} failed"
    assert f"Bearer {REDACTED}" in theirs["exception"]


# Values orjson refuses to write: a lone surrogate (a hand-written stream entry's order id) and
# an integer past 64 bits.
UNWRITABLE_PROCESS = """
import sys
import structlog
from gateway.logging_setup import configure_logging

token, awkward = sys.argv[1:]
configure_logging("INFO", secrets=[token, awkward])
structlog.get_logger("gateway.broker").error(
    "broker.dead_lettered", order_id="\\udfff", price=2**70, detail=f"{token} {awkward}"
)
"""


def test_a_line_holding_what_orjson_refuses_is_written_escaped_and_masked() -> None:
    written = _log_in_a_process(UNWRITABLE_PROCESS)
    [line] = [json.loads(text) for text in written.stdout.splitlines()]
    assert (line["event"], line["order_id"], line["price"]) == (
        "broker.dead_lettered",
        "\udfff",
        2**70,
    )
    assert line["detail"] == f"{REDACTED} {REDACTED}"


def test_every_configured_vendor_token_is_a_secret(settings_tree: dict[str, Any]) -> None:
    settings = Settings(**settings_tree)

    assert configured_secrets(settings, discover_vendor_plugins()) == [
        MONITEX_TOKEN,
        OPTUMPLUS_TOKEN,
    ]
