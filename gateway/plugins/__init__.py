"""The vendor SDK: everything a meter vendor package imports, and nothing else.

A vendor package imports only this module (and, in its tests, ``gateway.testing``); the rest of
``gateway`` may move between releases. ``PLUGIN_API_VERSION`` versions this surface; a plugin
module states the major version it was written for as ``PLUGIN_API_MAJOR = 1``.
docs/vendor-guide.md explains each name.

The simulator names (``Simulator`` and its helpers) are loaded on first use, so that a gateway
that only serves rides never imports the sandbox.
"""

import importlib
from typing import TYPE_CHECKING, Any

from gateway.money import CENT, AmountOutOfRange, from_minor_units, to_minor_units
from gateway.plugins.api_version import PLUGIN_API_MAJOR, PLUGIN_API_VERSION
from gateway.plugins.hookspecs import SimulatorFactory, hookimpl
from gateway.plugins.meter_vendor import (
    Capability,
    MeterReading,
    MeterRideFinish,
    MeterRideStart,
    MeterRideState,
    MeterVendor,
    NationalIdNumber,
    PaymentMethod,
    VendorSettings,
)
from gateway.plugins.vendor_auth import (
    ApiKeyHeader,
    BearerToken,
    HttpBasic,
    OAuth2ClientCredentials,
    VendorAuth,
)
from gateway.plugins.vendor_errors import (
    VendorCapabilityMissing,
    VendorError,
    VendorErrorStatus,
    VendorMalformedResponse,
    VendorMissingRideId,
    VendorRefused,
    VendorRequestIncomplete,
    VendorRideStillPending,
    VendorTimeout,
    VendorUnreachable,
)
from gateway.plugins.vendor_http import VendorHttp, VendorResponse

if TYPE_CHECKING:
    from gateway.sandbox.faults import Fault, RecordedCall
    from gateway.sandbox.simulator import (
        BadRequest,
        OAuth2TokenIssuer,
        Simulator,
        Unauthorized,
        api_key_auth,
        applied_fault,
        basic_auth,
        bearer_auth,
        control_json,
        expect_number,
        expect_object,
        expect_str,
        expect_str_list,
        json_error,
        read_json,
        run_simulator,
    )

_SIMULATOR_NAMES = {
    "BadRequest": "gateway.sandbox.simulator",
    "OAuth2TokenIssuer": "gateway.sandbox.simulator",
    "Simulator": "gateway.sandbox.simulator",
    "Unauthorized": "gateway.sandbox.simulator",
    "api_key_auth": "gateway.sandbox.simulator",
    "applied_fault": "gateway.sandbox.simulator",
    "basic_auth": "gateway.sandbox.simulator",
    "bearer_auth": "gateway.sandbox.simulator",
    "control_json": "gateway.sandbox.simulator",
    "expect_number": "gateway.sandbox.simulator",
    "expect_object": "gateway.sandbox.simulator",
    "expect_str": "gateway.sandbox.simulator",
    "expect_str_list": "gateway.sandbox.simulator",
    "json_error": "gateway.sandbox.simulator",
    "read_json": "gateway.sandbox.simulator",
    "run_simulator": "gateway.sandbox.simulator",
    "Fault": "gateway.sandbox.faults",
    "RecordedCall": "gateway.sandbox.faults",
}


def __getattr__(name: str) -> Any:
    module = _SIMULATOR_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CENT",
    "PLUGIN_API_MAJOR",
    "PLUGIN_API_VERSION",
    "AmountOutOfRange",
    "ApiKeyHeader",
    "BadRequest",
    "BearerToken",
    "Capability",
    "Fault",
    "HttpBasic",
    "MeterReading",
    "MeterRideFinish",
    "MeterRideStart",
    "MeterRideState",
    "MeterVendor",
    "NationalIdNumber",
    "OAuth2ClientCredentials",
    "OAuth2TokenIssuer",
    "PaymentMethod",
    "RecordedCall",
    "Simulator",
    "SimulatorFactory",
    "Unauthorized",
    "VendorAuth",
    "VendorCapabilityMissing",
    "VendorError",
    "VendorErrorStatus",
    "VendorHttp",
    "VendorMalformedResponse",
    "VendorMissingRideId",
    "VendorRefused",
    "VendorRequestIncomplete",
    "VendorResponse",
    "VendorRideStillPending",
    "VendorSettings",
    "VendorTimeout",
    "VendorUnreachable",
    "api_key_auth",
    "applied_fault",
    "basic_auth",
    "bearer_auth",
    "control_json",
    "expect_number",
    "expect_object",
    "expect_str",
    "expect_str_list",
    "from_minor_units",
    "hookimpl",
    "json_error",
    "read_json",
    "run_simulator",
    "to_minor_units",
]
