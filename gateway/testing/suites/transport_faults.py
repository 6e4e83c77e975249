"""Every transport fault surfaces as the core's typed VendorError, never as anything else.

Each fault is injected on each distinct endpoint an operation calls (the token endpoint, the
start, a poll, the stop, the price...), one endpoint at a time, so that a fault on the first
call does not hide the others; the test id names the operation, the endpoint and the fault.
Which endpoints an operation calls the kit learns while collecting, by running each operation
once against a fault-free simulator (a rehearsal); the ride is first brought, fault-free, to
where the operation applies.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import structlog

from gateway.plugins.faults import Fault, RecordedCall
from gateway.plugins.meter_vendor import OPERATIONS, Capability, MeterVendor
from gateway.plugins.simulator import run_simulator
from gateway.plugins.vendor_errors import (
    VendorError,
    VendorErrorStatus,
    VendorMalformedResponse,
    VendorRateLimited,
    VendorTimeout,
    VendorUnreachable,
)
from gateway.plugins.vendor_http import TOO_MANY_REQUESTS
from gateway.testing.suites.subject import (
    ENDPOINT_NOT_CALLED,
    ServedSimulator,
    VendorUnderTest,
    WatchedSession,
    unreachable_url,
)

# Far enough apart that the vendor's timeout, not the simulator's delay, ends the call.
FAULT_TIMEOUT_MS = 300
FAULT_DELAY_MS = 3000
NO_CONTENT = 204
# The rehearsal runs each declared operation once while collecting; a vendor that hangs must
# not hang the collection (its tests then fault every endpoint and say what is wrong).
REHEARSAL_TIMEOUT_S = 30.0
READS = frozenset({"GET", "HEAD"})
# What a vendor's code raises when it reads a field the answer lacks, or reads it as what it
# is not: each a missing check, never what the gateway should see.
FIELD_BUGS = (KeyError, IndexError, TypeError, AttributeError, ValueError)


@dataclass(frozen=True, slots=True)
class TransportFault:
    name: str
    surfaces_as: type[VendorError]
    fault: dict[str, Any] | None
    """The simulator fault's options; None: nothing listens at the vendor's URL at all."""
    may_succeed: bool = False
    """Whether the operation may complete anyway: an empty field may be one it does not read."""
    says_nothing_was_done: bool = False
    """Whether the answer says the call was not carried out (a 429): a start meeting it must
    not say the ride may have been started, or the gateway marks a driver for no ride."""

    def spared(self, call: RecordedCall) -> bool:
        """Whether the call escaped the fault: a 204 has no body to spoil."""
        return self.fault is not None and "body" in self.fault and call.status == NO_CONTENT

    @property
    def spoils_fields(self) -> bool:
        return self.fault is not None and self.fault.get("body", "").endswith("_fields")


TRANSPORT_FAULTS = (
    TransportFault("timeout", VendorTimeout, {"delay_ms": FAULT_DELAY_MS}),
    TransportFault("connection-refused", VendorUnreachable, None),
    TransportFault("status-500", VendorErrorStatus, {"status": 500}),
    TransportFault("status-503", VendorErrorStatus, {"status": 503}),
    TransportFault(
        "status-429", VendorRateLimited, {"status": TOO_MANY_REQUESTS}, says_nothing_was_done=True
    ),
    TransportFault("malformed-json", VendorMalformedResponse, {"body": "malformed"}),
    TransportFault("truncated-json", VendorMalformedResponse, {"body": "truncated"}),
    TransportFault("empty-fields", VendorError, {"body": "empty_fields"}, may_succeed=True),
    TransportFault("null-fields", VendorError, {"body": "null_fields"}, may_succeed=True),
    TransportFault("missing-fields", VendorError, {"body": "missing_fields"}, may_succeed=True),
)


@dataclass(frozen=True, slots=True)
class FaultCase:
    """One fault on one endpoint of one operation."""

    operation: Capability
    transport_fault: TransportFault
    endpoint: str | None
    """The endpoint faulted; None: every one (connection refused, an undeclared operation)."""
    start_may_have_happened: bool = False
    """A start met the fault on its own call or after it: its error must say the ride may
    have been started (``may_have_taken_effect``)."""
    after_the_start: bool = False
    """The fault met a call after the start's own (a poll): whatever that call's answer says,
    the start it follows was sent and may have made a ride."""

    def __str__(self) -> str:
        return f"{self.operation}-{self.endpoint or 'any-endpoint'}-{self.transport_fault.name}"


def fault_cases(
    declared: frozenset[Capability],
    rehearsal: dict[Capability, list[str]] | None,
    every_endpoint: list[str],
) -> list[FaultCase]:
    """Each fault on each endpoint each declared operation called in the rehearsal (on every
    endpoint of the simulator if the rehearsal failed); one case per fault for the rest."""
    cases: list[FaultCase] = []
    for operation in sorted(OPERATIONS):
        called = every_endpoint if rehearsal is None else rehearsal.get(operation, [])
        writes = [endpoint for endpoint in called if endpoint.split(" ")[0] not in READS]
        # A start is the last call that is not a read (after a token fetch, before its polls).
        start_at = called.index(writes[-1]) if writes and rehearsal is not None else None
        for transport_fault in TRANSPORT_FAULTS:
            if operation not in declared or transport_fault.fault is None:
                cases.append(FaultCase(operation, transport_fault, None))
                continue
            cases.extend(
                FaultCase(
                    operation,
                    transport_fault,
                    endpoint,
                    start_may_have_happened=operation is Capability.START_RIDE
                    and start_at is not None
                    and index >= start_at,
                    after_the_start=operation is Capability.START_RIDE
                    and start_at is not None
                    and index > start_at,
                )
                for index, endpoint in enumerate(called)
            )
    return cases


class TransportFaultSuite(VendorUnderTest):
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        super().pytest_generate_tests(metafunc)
        if "fault_case" in metafunc.fixturenames:
            declared = self.vendor_class.capabilities & OPERATIONS
            cases = fault_cases(declared, self.rehearse(declared), self.every_endpoint())
            metafunc.parametrize("fault_case", cases, ids=str)

    def every_endpoint(self) -> list[str]:
        try:
            return sorted(self.simulator_for(self.kit_settings()).endpoints())
        except Exception:  # the kit's own tests then say what is wrong with the simulator
            return []

    def rehearse(self, declared: frozenset[Capability]) -> dict[Capability, list[str]] | None:
        """The endpoints each declared operation calls, in the order of their first call,
        against a fault-free simulator; None if the vendor fails it (its tests will say why)."""

        async def rehearsal() -> dict[Capability, list[str]]:
            served = self.simulator_for(self.kit_settings())
            called: dict[Capability, list[str]] = {}
            async with run_simulator(served) as url, aiohttp.ClientSession() as http:
                for operation in sorted(declared):
                    ride = await self.ready_for(operation, self.make_vendor(url, http))
                    served.calls.clear()
                    await self.perform(operation, self.make_vendor(url, http), ride)
                    endpoints = [call.endpoint for call in served.calls.all()]
                    called[operation] = list(dict.fromkeys(endpoints))
            return called

        try:
            # Its calls' log lines are the rehearsal's, not a test's: kept out of the output.
            with structlog.testing.capture_logs():
                return asyncio.run(asyncio.wait_for(rehearsal(), REHEARSAL_TIMEOUT_S))
        except (Exception, pytest.fail.Exception):  # TimeoutError included
            return None

    @pytest.mark.asyncio
    async def test_transport_fault_surfaces_as_a_typed_vendor_error(
        self,
        fault_case: FaultCase,
        kit_simulator: ServedSimulator,
        kit_http: WatchedSession,
        kit_vendor: MeterVendor,
    ) -> None:
        operation, transport_fault = fault_case.operation, fault_case.transport_fault
        self.require(operation)
        ride = await self.ready_for(operation, kit_vendor)
        faulty_vendor = self._vendor_meeting(fault_case, kit_simulator, kit_http)
        kit_simulator.simulator.calls.clear()
        requests_before = len(kit_http.requests)

        try:
            answer = await self.perform(operation, faulty_vendor, ride)
        except Exception as raised:
            self._check_sent_once(fault_case, kit_simulator.simulator.calls.all())
            self._check_failure(raised, fault_case)
            return
        calls = kit_simulator.simulator.calls.all()
        self._check_sent_once(fault_case, calls)
        met = [c for c in calls if fault_case.endpoint in (None, c.endpoint)]
        if fault_case.endpoint is not None and not met:
            pytest.skip(f"{ENDPOINT_NOT_CALLED}: {operation} did not call {fault_case.endpoint}")
        met_fault = len(kit_http.requests) > requests_before and not all(
            transport_fault.spared(call) for call in met
        )
        assert transport_fault.may_succeed or not met_fault, (
            f"{operation} met {transport_fault.name} on {fault_case.endpoint} and did not raise"
        )
        if operation is Capability.START_RIDE:
            assert isinstance(answer, str), "a start that answers has a ride id"
            assert answer, "a start that answers has a ride id"
        elif answer is not None:
            self.checked_reading(answer, str(operation))

    def _check_sent_once(self, fault_case: FaultCase, calls: list[RecordedCall]) -> None:
        sent = Counter(
            call.endpoint
            for call in calls
            if call.method not in READS and call.endpoint not in self.repeatable_endpoints
        )
        repeated = {endpoint: count for endpoint, count in sent.items() if count > 1}
        times = ", ".join(f"{endpoint} {count} times" for endpoint, count in repeated.items())
        assert not repeated, (
            f"{fault_case.operation} sent {times}"
            f" when it met {fault_case.transport_fault.name} on "
            f"{fault_case.endpoint or 'every endpoint'}: an operation sends each call once and "
            "never retries (the gateway decides what follows; a start sent twice can start two "
            "meter rides). A poll that is not a GET goes in repeatable_endpoints"
        )

    def _check_failure(self, error: Exception, fault_case: FaultCase) -> None:
        operation, transport_fault = fault_case.operation, fault_case.transport_fault
        met = f"{operation} met {transport_fault.name} on {fault_case.endpoint or 'every endpoint'}"
        if transport_fault.spoils_fields and isinstance(error, FIELD_BUGS):
            pytest.fail(
                f"{met} and raised {type(error).__name__}: {error} (an answer missing a field, "
                "or holding an empty or null one, is VendorMalformedResponse: check each field "
                "you read, with .get() and a type check, not answer['field'])",
                pytrace=False,
            )
        assert isinstance(error, VendorError), (
            f"{met} and raised {type(error).__name__}: {error} "
            "(a vendor raises only the types of gateway.plugins.vendor_errors)"
        )
        # A refusal of a call after the start (a poll's 429) is the vendor's to word: what
        # matters is that it says the start it follows may have made a ride (below).
        expected = (
            VendorError
            if transport_fault.says_nothing_was_done and fault_case.after_the_start
            else transport_fault.surfaces_as
        )
        assert isinstance(error, expected), (
            f"{met}: it surfaced as {type(error).__name__}, expected {expected.__name__}"
        )
        leaked = self.secrets_in(f"{error} {error!r}")
        assert not leaked, (
            f"{met} and its error gives away {leaked}: error messages end up in logs and answers"
        )
        if operation is not Capability.START_RIDE:
            return
        nothing_done = transport_fault.says_nothing_was_done and not fault_case.after_the_start
        if transport_fault.fault is None or nothing_done:
            done = "nothing was sent" if transport_fault.fault is None else "nothing was done"
            assert not error.may_have_taken_effect, (
                f"{met}: {done}, yet {type(error).__name__} says the ride may have "
                "been started (may_have_taken_effect)"
            )
        elif fault_case.start_may_have_happened:
            assert error.may_have_taken_effect, (
                f"{met}: the start was sent and its answer lost, yet {type(error).__name__} "
                "says no ride can have been started (may_have_taken_effect is False). Raise "
                "the SDK's error for it, or one whose may_have_taken_effect is True"
            )

    def _vendor_meeting(
        self, fault_case: FaultCase, served: ServedSimulator, http: WatchedSession
    ) -> MeterVendor:
        options = fault_case.transport_fault.fault
        if options is None:
            return self.make_vendor(unreachable_url(), http.session)
        endpoints = served.simulator.endpoints()
        for endpoint in [fault_case.endpoint] if fault_case.endpoint else endpoints:
            served.simulator.faults.add(Fault(endpoint, **options))
        return self.make_vendor(served.url, http.session, timeout_ms=FAULT_TIMEOUT_MS)
