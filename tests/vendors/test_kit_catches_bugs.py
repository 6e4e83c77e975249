"""The kit fails the vendors that break its rules, and shows what a vendor lacks as skipped.

Both are read from a real pytest run of the kit, as a vendor's CI would see it.
"""

import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from gateway.testing.suites.subject import KIT_NATIONAL_ID_PREFIX, KIT_TOKEN

REPOSITORY = Path(__file__).parents[2]
# Plugins the kit does not use and that take seconds to import.
UNUSED_PLUGINS = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest")
FAULT_TEST = "test_transport_fault_surfaces_as_a_typed_vendor_error"


class KitRun:
    def __init__(self, tmp_path: Path) -> None:
        report = tmp_path / "kit.xml"
        self.process = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *UNUSED_PLUGINS,
                f"--junitxml={report}",
                "tests/vendors/broken_vendors.py",
                "tests/vendors/test_optumplus_conformance.py",
            ],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.outcomes: dict[str, tuple[str, str]] = {}
        for case in ElementTree.parse(report).iter("testcase"):
            test_id = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
            verdict = next(iter(case), None)
            self.outcomes[test_id] = (
                "passed" if verdict is None else verdict.tag,
                "" if verdict is None else verdict.get("message", ""),
            )

    def outcome(self, test_id: str) -> str:
        return self.outcomes[test_id][0]

    def message(self, test_id: str) -> str:
        return self.outcomes[test_id][1]


@pytest.fixture(scope="module")
def kit_run(tmp_path_factory: pytest.TempPathFactory) -> KitRun:
    return KitRun(tmp_path_factory.mktemp("kit"))


@pytest.mark.parametrize(
    "fault", ["malformed-json", "truncated-json", "empty-fields", "null-fields", "missing-fields"]
)
def test_a_vendor_error_escaping_as_another_exception_fails(kit_run: KitRun, fault: str) -> None:
    test_id = f"TestLeakyMonitex::{FAULT_TEST}[get_price-GET /rides/{{rideId}}-{fault}]"

    assert kit_run.outcome(test_id) == "failure"
    assert "get_price met" in kit_run.message(test_id)
    assert "raised ValueError" in kit_run.message(test_id)


def test_the_same_vendor_passes_where_it_keeps_the_rules(kit_run: KitRun) -> None:
    leaky = f"TestLeakyMonitex::{FAULT_TEST}"
    assert kit_run.outcome(f"{leaky}[get_price-GET /rides/{{rideId}}-timeout]") == "passed"
    assert kit_run.outcome(f"{leaky}[stop_ride-PUT /rides/{{rideId}}-malformed-json]") == ("passed")


def test_each_fault_lands_on_each_endpoint_its_operation_calls_named_in_the_test_id(
    kit_run: KitRun,
) -> None:
    prefix = f"TestLeakyMonitex::{FAULT_TEST}["
    cases = {t.removeprefix(prefix)[:-1] for t in kit_run.outcomes if t.startswith(prefix)}

    # Each operation is faulted where it calls (the rehearsal found which), nowhere else.
    assert {
        "start_ride-POST /ride-status-500",
        "stop_ride-PUT /rides/{rideId}-status-500",
        "get_price-GET /rides/{rideId}-status-500",
        "start_ride-any-endpoint-connection-refused",
    } <= cases
    assert not {c for c in cases if c.startswith(("start_ride-PUT", "stop_ride-GET"))}


def test_a_start_the_vendor_retries_fails_naming_the_repeated_call(kit_run: KitRun) -> None:
    test_id = f"TestRetryingMonitex::{FAULT_TEST}[start_ride-POST /ride-status-500]"

    assert kit_run.outcome(test_id) == "failure"
    assert "start_ride sent POST /ride 3 times" in kit_run.message(test_id)
    assert "never retries" in kit_run.message(test_id)


def test_a_price_answered_as_a_float_fails_naming_its_type(kit_run: KitRun) -> None:
    test_id = "TestFloatMonitex::test_stopped_ride_is_completed_at_its_price"

    assert kit_run.outcome(test_id) == "failure"
    assert "get_price answered a price of type float" in kit_run.message(test_id)


def test_a_vendor_repr_showing_a_secret_fails_naming_it(kit_run: KitRun) -> None:
    test_id = "TestTellingMonitex::test_the_vendor_object_shows_no_secret"

    assert kit_run.outcome(test_id) == "failure"
    assert "repr() of the vendor object gives away" in kit_run.message(test_id)
    assert "conformance-kit-token-3e9d" in kit_run.message(test_id)
    assert kit_run.outcome("TestTellingMonitex::test_stopped_ride_is_completed_at_its_price") == (
        "passed"
    )


def test_a_key_error_on_a_missing_field_fails_naming_the_malformed_answer_error(
    kit_run: KitRun,
) -> None:
    test_id = f"TestIndexingMonitex::{FAULT_TEST}[start_ride-POST /ride-missing-fields]"

    assert kit_run.outcome(test_id) == "failure"
    message = kit_run.message(test_id)
    assert "start_ride met missing-fields on POST /ride and raised KeyError" in message
    assert "is VendorMalformedResponse" in message
    # The same vendor's emptied id is no ride id either.
    empty = f"TestIndexingMonitex::{FAULT_TEST}[start_ride-POST /ride-empty-fields]"
    assert "a start that answers has a ride id" in kit_run.message(empty)


def test_a_start_that_says_nothing_happened_after_sending_fails(kit_run: KitRun) -> None:
    test_id = f"TestSureMonitex::{FAULT_TEST}[start_ride-POST /ride-empty-fields]"

    assert kit_run.outcome(test_id) == "failure"
    assert "the start was sent and its answer lost" in kit_run.message(test_id)
    assert "may_have_taken_effect is False" in kit_run.message(test_id)


def test_io_while_constructing_fails(kit_run: KitRun) -> None:
    assert kit_run.outcome("TestChattyMonitex::test_construction_does_no_io") == "failure"


def test_a_capability_declared_but_not_implemented_fails(kit_run: KitRun) -> None:
    test_id = "TestBoastfulOptumPlus::test_declared_capability_is_implemented[start_ride]"

    assert kit_run.outcome(test_id) == "failure"
    assert "start_ride is declared" in kit_run.message(test_id)


def test_settings_that_let_a_typo_pass_fail(kit_run: KitRun) -> None:
    lax = "TestLaxMonitex::test_bad_setting_is_refused_naming_its_key"

    assert kit_run.outcome(f"{lax}[unknown_key='a typo must not pass silently']") == "failure"
    assert kit_run.outcome(f"{lax}[timeout_ms=0]") == "passed"


def test_what_a_vendor_lacks_is_skipped_with_its_reason_not_passed(kit_run: KitRun) -> None:
    optumplus = {
        test_id.removeprefix("TestOptumPlusConformance::"): outcome
        for test_id, outcome in kit_run.outcomes.items()
        if test_id.startswith("TestOptumPlusConformance::")
    }
    lacks_start = ("skipped", "capability not declared: optumplus does not declare start_ride")

    skipped_for_start = {test for test, outcome in optumplus.items() if outcome == lacks_start}

    assert len(skipped_for_start) == 14
    assert {"test_start_answers_a_ride_id", f"{FAULT_TEST}[start_ride-any-endpoint-timeout]"} <= (
        skipped_for_start
    )
    assert {outcome for outcome, _ in optumplus.values()} == {"passed", "skipped"}
    assert "optumplus does not declare start_ride: 14 tests skipped" in kit_run.process.stdout


def test_credentials_the_simulator_refuses_fail_the_auth_smoke_test_naming_the_error(
    kit_run: KitRun,
) -> None:
    test_id = "TestKeyedMonitex::test_auth_smoke_the_simulators_credentials_are_accepted"

    assert kit_run.outcome(test_id) == "failure"
    assert "raised VendorErrorStatus (vendor_error_status): vendor answered HTTP 401" in (
        kit_run.message(test_id)
    )


def test_the_auth_smoke_tests_run_first(kit_run: KitRun) -> None:
    keyed = [test for test in kit_run.outcomes if test.startswith("TestKeyedMonitex::")]

    assert keyed[:2] == [
        "TestKeyedMonitex::test_auth_smoke_the_simulators_credentials_are_accepted",
        "TestKeyedMonitex::test_auth_smoke_a_wrong_credential_is_a_typed_error",
    ]


def test_a_failing_ride_names_the_vendor_error_that_happened(kit_run: KitRun) -> None:
    test_id = "TestGrumpyMonitex::test_stopped_ride_is_completed_at_its_price"

    assert kit_run.outcome(test_id) == "failure"
    assert kit_run.message(test_id) == (
        "Failed: start_ride against the fault-free simulator raised VendorRefused "
        "(vendor_refused): "
        "the driver has a ride in progress"
    )


def test_a_secret_setting_that_is_not_a_secret_str_fails_naming_its_key(kit_run: KitRun) -> None:
    test_id = "TestPlainMonitex::test_good_settings_are_accepted_and_every_secret_kept_secret"

    assert kit_run.outcome(test_id) == "failure"
    assert "vendors.monitex.token holds a secret: declare it SecretStr" in kit_run.message(test_id)


def test_a_429_not_raised_as_a_rate_limit_fails_naming_the_type_expected(kit_run: KitRun) -> None:
    test_id = f"TestUntypedMonitex::{FAULT_TEST}[start_ride-POST /ride-status-429]"

    assert kit_run.outcome(test_id) == "failure"
    assert (
        "start_ride met status-429 on POST /ride: it surfaced as VendorErrorStatus, "
        "expected VendorRateLimited"
    ) in kit_run.message(test_id)
    # Every other fault it meets as the kit expects.
    others = [
        outcome
        for test, (outcome, _) in kit_run.outcomes.items()
        if test.startswith(f"TestUntypedMonitex::{FAULT_TEST}") and "status-429" not in test
    ]
    assert others
    assert set(others) <= {"passed", "skipped"}


def test_a_setting_named_as_a_secret_that_is_a_plain_string_fails_naming_it(
    kit_run: KitRun,
) -> None:
    suite = "TestClientSecretMonitex"
    test_id = f"{suite}::test_good_settings_are_accepted_and_every_secret_kept_secret"

    assert kit_run.outcome(test_id) == "failure"
    assert (
        "vendors.monitex.client_secret is named as a secret but is a str: declare it SecretStr"
    ) in kit_run.message(test_id)


def test_a_secret_or_national_id_in_a_vendor_log_line_fails_naming_it(kit_run: KitRun) -> None:
    test_id = "TestBabblingMonitex::test_a_whole_ride_logs_no_secret"

    assert kit_run.outcome(test_id) == "failure"
    message = kit_run.message(test_id)
    assert "the vendor's log lines during a ride give away" in message
    assert KIT_TOKEN in message
    assert re.search(rf"'{KIT_NATIONAL_ID_PREFIX}\d{{7}}'", message)
    # Its other ride checks pass: the rule it breaks is the one named.
    assert kit_run.outcome("TestBabblingMonitex::test_stopped_ride_is_completed_at_its_price") == (
        "passed"
    )
