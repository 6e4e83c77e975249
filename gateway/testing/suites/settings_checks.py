"""The vendor's settings section: good settings pass, bad ones fail at startup naming the key."""

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import pytest
from pydantic import BaseModel, SecretStr

from gateway.bootstrap.registry import VendorCatalog
from gateway.bootstrap.vendor_setup import validate_vendor_settings
from gateway.plugins.meter_vendor import setting_values
from gateway.settings import ConfigError, Settings
from gateway.testing.suites.subject import KIT_TOKEN, KIT_URL, VendorUnderTest

REMOVED: Final = object()
"""As an ``InvalidSetting`` value: the key is left out of the section."""
KIT_COUNTRY = "ZZ"


@dataclass(frozen=True, slots=True)
class InvalidSetting:
    """One key of otherwise good settings set to a value the vendor must refuse."""

    key: str
    value: Any

    def __str__(self) -> str:
        return f"{self.key}-removed" if self.value is REMOVED else f"{self.key}={self.value!r}"

    def applied_to(self, tree: dict[str, Any]) -> dict[str, Any]:
        changed = {**tree, self.key: self.value}
        if self.value is REMOVED:
            del changed[self.key]
        return changed


COMMON_INVALID_SETTINGS = (
    InvalidSetting("url", REMOVED),
    InvalidSetting("url", "ftp://meters.example"),
    InvalidSetting("timeout_ms", 0),
    InvalidSetting("timeout_ms", "soon"),
    InvalidSetting("unknown_key", "a typo must not pass silently"),
)


# A text setting so named holds a secret (client_secret, password, api_key, refresh_token),
# whatever value the kit gives it; token_url, key_id, api_key_header (a header's name),
# password_file and private_key_path (where one is) do not, nor does a number or a flag
# (password_min_length, use_client_secret).
SECRET_NAME = re.compile(
    r"(^|_)(secret|password|passphrase|apikey|api_key|private_key)(_|$)|(^|_)token$"
)
NOT_A_SECRET = re.compile(r"_(header|name|path|file|url|id|length|days|min|max)$|^(use|has|is)_")


def _named_as_secrets(settings: BaseModel) -> list[tuple[str, str]]:
    """The settings, nested ones too, named as secrets whose value is text, not a SecretStr."""
    return [
        (key, type(value).__name__)
        for key, value in setting_values(settings).items()
        if isinstance(value, str | bytes)
        and SECRET_NAME.search(name := key.rsplit(".", 1)[-1])
        and not NOT_A_SECRET.search(name)
    ]


class SettingsSuite(VendorUnderTest):
    extra_invalid_settings: ClassVar[tuple[InvalidSetting, ...]] = ()
    """The vendor's own keys set to values it must refuse, checked besides the common ones."""

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        super().pytest_generate_tests(metafunc)
        if "invalid_setting" in metafunc.fixturenames:
            cases = [*COMMON_INVALID_SETTINGS, *self.extra_invalid_settings]
            metafunc.parametrize("invalid_setting", cases, ids=str)

    def gateway_settings(self, section: dict[str, Any]) -> Settings:
        """The gateway's settings routing a country to the vendor with this section."""
        # model_validate, unlike the constructor, ignores METERS_* variables of the shell.
        return Settings.model_validate(
            {
                "zones": {"kit_zone": KIT_COUNTRY},
                "countries": {KIT_COUNTRY: {"vendor": self.vendor_name, "currency": "EUR"}},
                "vendors": {self.vendor_name: section},
            }
        )

    def test_good_settings_are_accepted_and_every_secret_kept_secret(self) -> None:
        catalog = VendorCatalog(vendors={self.vendor_name: self.vendor_class})
        section = self.vendor_settings(KIT_URL, KIT_TOKEN)

        validated = validate_vendor_settings(self.gateway_settings(section), catalog)

        settings = validated[self.vendor_name]
        assert isinstance(settings, self.vendor_class.settings_model)
        shown = f"{settings!r} {settings} {settings.model_dump_json()} {settings.model_dump()}"
        for name, value in section.items():
            if isinstance(value, str) and value and value in self.kit_secrets():
                assert isinstance(getattr(settings, name, None), SecretStr), (
                    f"vendors.{self.vendor_name}.{name} holds a secret: declare it SecretStr"
                )
        for name, kind in _named_as_secrets(settings):
            pytest.fail(
                f"vendors.{self.vendor_name}.{name} is named as a secret but is a {kind}: "
                "declare it SecretStr, so that no repr, log line or error shows it",
                pytrace=False,
            )
        leaked = self.secrets_in(shown)
        assert not leaked, f"the settings show {leaked}: every secret setting is a SecretStr"

    def test_bad_setting_is_refused_naming_its_key(self, invalid_setting: InvalidSetting) -> None:
        catalog = VendorCatalog(vendors={self.vendor_name: self.vendor_class})
        section = invalid_setting.applied_to(self.vendor_settings(KIT_URL, KIT_TOKEN))

        with pytest.raises(ConfigError) as refused:
            validate_vendor_settings(self.gateway_settings(section), catalog)

        assert f"vendors.{self.vendor_name}.{invalid_setting.key}" in str(refused.value)
        leaked = self.secrets_in(str(refused.value))
        assert not leaked, f"the settings error gives away {leaked}"
