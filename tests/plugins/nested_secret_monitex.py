"""Monitex with secrets inside a nested settings model, as a vendor with a client certificate
would keep them: ``[vendors.nested_secret_monitex.tls] client_secret`` and ``key_password``."""

from collections.abc import Callable
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr

from gateway.plugins import MeterVendor, hookimpl
from vendors.monitex.settings import MonitexSettings
from vendors.monitex.vendor import MonitexVendor

PLUGIN_API_MAJOR = 1


class TlsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_secret: SecretStr  # no default: required
    key_password: SecretStr = SecretStr("")  # a key may have none: optional, as in 1.0


class NestedSecretMonitexSettings(MonitexSettings):
    tls: TlsSettings


class NestedSecretMonitex(MonitexVendor):
    name = "nested_secret_monitex"
    settings_model = NestedSecretMonitexSettings


class OptionalNestedSecretSettings(NestedSecretMonitexSettings):
    optional_secrets: ClassVar[frozenset[str]] = frozenset({"tls.client_secret"})


class OptionalNestedSecretMonitex(MonitexVendor):
    """The same, naming its nested secret among those that may stay empty."""

    name = "optional_nested_secret_monitex"
    settings_model = OptionalNestedSecretSettings


@hookimpl
def register_vendors(register: Callable[[type[MeterVendor]], None]) -> None:
    register(NestedSecretMonitex)
    register(OptionalNestedSecretMonitex)
