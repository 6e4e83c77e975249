"""Turns the installed vendor classes and the ``[vendors.*]`` sections into ready vendor objects."""

from collections.abc import Mapping

import aiohttp
from pydantic import BaseModel, ValidationError

from gateway.bootstrap.registry import VendorCatalog
from gateway.plugins.meter_vendor import MeterVendor, VendorSettings, secret_settings
from gateway.settings import ConfigError, Settings, describe_validation_error


def validate_vendor_settings(
    settings: Settings, catalog: VendorCatalog
) -> dict[str, VendorSettings]:
    """Each vendor a country routes to, with its section checked by the vendor's own model."""
    problems: list[str] = []
    validated: dict[str, VendorSettings] = {}
    for country, country_settings in sorted(settings.countries.items()):
        name = country_settings.vendor
        if name in validated:
            continue
        vendor_class = catalog.vendors.get(name)
        if vendor_class is None:
            problems.append(f"countries.{country}.vendor: {_not_installed(name, catalog)}")
            continue
        model = vendor_class.settings_model
        try:
            validated[name] = model.model_validate(settings.vendors.get(name, {}))
        except ValidationError as error:
            problems.append(describe_validation_error(error, model, prefix=f"vendors.{name}"))
    # A section no installed vendor owns is a typo (METERS_VENDORS__MONITX__TOKEN) or a missing
    # package; accepting it silently would leave the intended vendor without its settings.
    problems.extend(
        f"vendors.{name}: {_not_installed(name, catalog)}"
        for name in sorted(settings.vendors)
        if name not in catalog.vendors
    )
    if problems:
        raise ConfigError("\n".join(problems))
    return validated


def refuse_empty_secrets(
    settings: Settings, validated: Mapping[str, VendorSettings], catalog: VendorCatalog
) -> None:
    """An empty secret of a routed vendor: every call would be refused (401) from the first
    ride, so the settings are refused, naming where to set it and never what it holds. (The
    sandbox, the simulators and the demo call simulators, which need no real secret.)

    Required: every ``SecretStr`` the plugin's own settings model declares, and the inherited
    ``token`` where the vendor authenticates the default way (a bearer token); a plugin that
    authenticates otherwise may never read ``token``, as a 1.0 plugin without one did not."""
    routed_by: dict[str, str] = {}  # vendor -> the first country routed to it
    for country, country_settings in sorted(settings.countries.items()):
        routed_by.setdefault(country_settings.vendor, country)
    problems = [
        f"vendors.{name}.{key}: empty, and countries.{routed_by[name]} routes to {name}: "
        f"set it in the file or in METERS_VENDORS__{name.upper()}__"
        + key.upper().replace(".", "__")
        for name, vendor_settings in sorted(validated.items())
        for key, value in secret_settings(vendor_settings).items()
        if not value.get_secret_value()
        and key not in vendor_settings.optional_secrets
        and _required(key, catalog.vendors[name], vendor_settings)
    ]
    if problems:
        raise ConfigError("\n".join(problems))


def _required(key: str, vendor_class: type[MeterVendor], settings: VendorSettings) -> bool:
    if "." in key:
        # A nested model's secret is required where it is declared without a default: one with
        # a default (a key's password for a key that may have none) was optional in 1.0.
        *path, field = key.split(".")
        section: BaseModel = settings
        for part in path:
            section = getattr(section, part)
        return type(section).model_fields[field].is_required()
    if key != "token" or "token" in vendor_class.settings_model.__annotations__:
        return True
    return vendor_class.authentication is MeterVendor.authentication


def build_vendors(
    vendor_settings: Mapping[str, VendorSettings],
    catalog: VendorCatalog,
    http: aiohttp.ClientSession,
) -> dict[str, MeterVendor]:
    return {
        name: catalog.vendors[name](settings, http) for name, settings in vendor_settings.items()
    }


def _not_installed(name: str, catalog: VendorCatalog) -> str:
    failed = [failure for failure in catalog.failures if failure.plugin == name]
    if failed:
        return f"vendor {name!r} failed to load: {failed[0].error}"
    installed = ", ".join(sorted(catalog.vendors)) or "none"
    return f"vendor {name!r} is not installed (installed: {installed})"
