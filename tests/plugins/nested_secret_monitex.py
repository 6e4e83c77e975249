"""Monitex with a secret inside a nested settings model, as a vendor whose client certificate
has a password would keep it: ``[vendors.nested_secret_monitex.tls] key_password``."""

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, SecretStr

from gateway.plugins import MeterVendor, hookimpl
from vendors.monitex.settings import MonitexSettings
from vendors.monitex.vendor import MonitexVendor

PLUGIN_API_MAJOR = 1


class TlsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key_password: SecretStr = SecretStr("")


class NestedSecretMonitexSettings(MonitexSettings):
    tls: TlsSettings = TlsSettings()


class NestedSecretMonitex(MonitexVendor):
    name = "nested_secret_monitex"
    settings_model = NestedSecretMonitexSettings


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(NestedSecretMonitex)
