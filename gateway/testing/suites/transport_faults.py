"""Every transport fault surfaces as the core's typed VendorError, never as anything else.

The fault is injected on every endpoint of the vendor's simulator, so it meets whichever calls
the operation makes; the ride is first brought, fault-free, to where the operation applies.
"""

from dataclasses import dataclass
from typing import Any

import pytest

from gateway.plugins.faults import Fault, RecordedCall
from gateway.plugins.meter_vendor import OPERATIONS, Capability, MeterVendor
from gateway.plugins.vendor_errors import (
    VendorError,
    VendorErrorStatus,
    VendorMalformedResponse,
    VendorTimeout,
    VendorUnreachable,
)
from gateway.testing.suites.subject import (
    ServedSimulator,
    VendorUnderTest,
    WatchedSession,
    secrets_in,
    unreachable_url,
)

# Far enough apart that the vendor's timeout, not the simulator's delay, ends the call.
FAULT_TIMEOUT_MS = 300
FAULT_DELAY_MS = 3000
NO_CONTENT = 204


@dataclass(frozen=True, slots=True)
class TransportFault:
    name: str
    surfaces_as: type[VendorError]
    fault: dict[str, Any] | None
    """The simulator fault's options; None: nothing listens at the vendor's URL at all."""
    may_succeed: bool = False
    """Whether the operation may complete anyway: an empty field may be one it does not read."""

    def spared(self, call: RecordedCall) -> bool:
        """Whether the call escaped the fault: a 204 has no body to spoil."""
        return self.fault is not None and "body" in self.fault and call.status == NO_CONTENT


TRANSPORT_FAULTS = (
    TransportFault("timeout", VendorTimeout, {"delay_ms": FAULT_DELAY_MS}),
    TransportFault("connection-refused", VendorUnreachable, None),
    TransportFault("status-500", VendorErrorStatus, {"status": 500}),
    TransportFault("status-503", VendorErrorStatus, {"status": 503}),
    TransportFault("malformed-json", VendorMalformedResponse, {"body": "malformed"}),
    TransportFault("truncated-json", VendorMalformedResponse, {"body": "truncated"}),
    TransportFault("empty-fields", VendorError, {"body": "empty_fields"}, may_succeed=True),
    TransportFault("null-fields", VendorError, {"body": "null_fields"}, may_succeed=True),
    TransportFault("missing-fields", VendorError, {"body": "missing_fields"}, may_succeed=True),
)


class TransportFaultSuite(VendorUnderTest):
    @pytest.mark.asyncio
    @pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=str)
    @pytest.mark.parametrize("transport_fault", TRANSPORT_FAULTS, ids=lambda fault: fault.name)
    async def test_transport_fault_surfaces_as_a_typed_vendor_error(
        self,
        operation: Capability,
        transport_fault: TransportFault,
        kit_simulator: ServedSimulator,
        kit_http: WatchedSession,
        kit_vendor: MeterVendor,
    ) -> None:
        self.require(operation)
        ride = await self.started_ride(kit_vendor)
        if operation is Capability.GET_PRICE:
            await self.succeeds(kit_vendor.stop_ride(ride), "stop_ride")
        faulty_vendor = self._vendor_meeting(transport_fault, kit_simulator, kit_http)
        kit_simulator.simulator.calls.clear()
        requests_before = len(kit_http.requests)

        try:
            answer = await self.perform(operation, faulty_vendor, ride)
        except Exception as raised:
            self._check_failure(raised, operation, transport_fault)
            return
        met_fault = len(kit_http.requests) > requests_before and not all(
            transport_fault.spared(call) for call in kit_simulator.simulator.calls.all()
        )
        assert transport_fault.may_succeed or not met_fault, (
            f"{operation} met {transport_fault.name} and did not raise"
        )
        if operation is Capability.START_RIDE:
            assert isinstance(answer, str), "a start that answers has a ride id"
            assert answer, "a start that answers has a ride id"

    def _check_failure(
        self, error: Exception, operation: Capability, transport_fault: TransportFault
    ) -> None:
        assert isinstance(error, VendorError), (
            f"{operation} met {transport_fault.name} and raised {type(error).__name__}: {error} "
            "(a vendor raises only the types of gateway.plugins.vendor_errors)"
        )
        assert isinstance(error, transport_fault.surfaces_as), (
            f"{transport_fault.name} surfaced as {type(error).__name__}, "
            f"expected {transport_fault.surfaces_as.__name__}"
        )
        assert not secrets_in(str(error)), "error messages end up in logs and answers"

    def _vendor_meeting(
        self, transport_fault: TransportFault, served: ServedSimulator, http: WatchedSession
    ) -> MeterVendor:
        if transport_fault.fault is None:
            return self.make_vendor(unreachable_url(), http.session)
        for endpoint in served.simulator.endpoints():
            served.simulator.faults.add(Fault(endpoint, **transport_fault.fault))
        return self.make_vendor(served.url, http.session, timeout_ms=FAULT_TIMEOUT_MS)
