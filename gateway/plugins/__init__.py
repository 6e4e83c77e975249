"""The vendor SDK: everything a meter vendor package imports, and nothing else.

A vendor package imports only this module (and, in its tests, ``gateway.testing``); the rest of
``gateway`` may move between releases. ``PLUGIN_API_VERSION`` versions this surface; a plugin
module states the major version it was written for as ``PLUGIN_API_MAJOR = 1``.
docs/vendor-guide.md explains each name.

The simulator kit (``Simulator``, its helpers and faults) is part of it: a vendor's plugin
module registers its simulator, so the kit is loaded wherever the plugins are. The sandbox, the
demo and the conformance kit build on it.
"""

from gateway.money import (
    CENT,
    AmountOutOfRange,
    from_decimal_string,
    from_minor_units,
    to_decimal_string,
    to_minor_units,
)
from gateway.plugins.api_version import PLUGIN_API_MAJOR, PLUGIN_API_VERSION
from gateway.plugins.faults import Fault, RecordedCall
from gateway.plugins.hookspecs import (
    RegisterSimulator,
    SettingsSimulatorFactory,
    SimulatorFactory,
    hookimpl,
)
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
from gateway.plugins.simulator import (
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
from gateway.plugins.vendor_auth import (
    ApiKeyHeader,
    BearerToken,
    ClientAuthMethod,
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
    VendorRateLimited,
    VendorRefused,
    VendorRequestIncomplete,
    VendorRideStillPending,
    VendorTimeout,
    VendorUnreachable,
)
from gateway.plugins.vendor_http import Problem, VendorHttp, VendorResponse

__all__ = [
    "CENT",
    "PLUGIN_API_MAJOR",
    "PLUGIN_API_VERSION",
    "AmountOutOfRange",
    "ApiKeyHeader",
    "BadRequest",
    "BearerToken",
    "Capability",
    "ClientAuthMethod",
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
    "Problem",
    "RecordedCall",
    "RegisterSimulator",
    "SettingsSimulatorFactory",
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
    "VendorRateLimited",
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
    "from_decimal_string",
    "from_minor_units",
    "hookimpl",
    "json_error",
    "read_json",
    "run_simulator",
    "to_decimal_string",
    "to_minor_units",
]
