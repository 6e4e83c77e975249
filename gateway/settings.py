"""The settings tree (docs/design.md §8): a TOML file overridden by ``METERS_`` variables."""

import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Self, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.money import check_currency, currency_of_country
from gateway.redis_connection import check_broker_url
from gateway.sentinel_url import SENTINEL_SCHEMES

ENV_PREFIX = "METERS_"
ENV_NESTED_DELIMITER = "__"
CONFIG_PATH_VARIABLE = f"{ENV_PREFIX}CONFIG"
# An answer is read up to this many bytes (``max_answer_bytes`` of each upstream and vendor;
# gateway.plugins.exchange reads them): the platform's and the meters' answers are a few KiB; a
# 200 MB one would be held in memory whole, and read for longer than any deadline.
DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024


class ConfigError(Exception):
    """Bad configuration; the message names the offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    finish_ride_deadline_ms: int = Field(default=3000, gt=0)
    # A priced order's repeated finish-ride is answered again, vendor not called; 0 = off.
    finish_ride_replay_s: int = Field(default=600, ge=0)


class BrokerSettings(_Section):
    # "" = in-memory; redis:// or rediss:// = one Redis; redis-sentinel:// or rediss-sentinel://
    # = the master a set of sentinels names (docs/design.md §8).
    url: str = Field(default="", pattern=r"^(|rediss?://.+|rediss?-sentinel://.+)$")
    redelivery_timeout_ms: int = Field(default=60000, gt=0)
    queue_name: str = "meters_integration_api"
    # How many replicas must hold an enqueued task before start-ride answers 202 (unset: see
    # replicas_to_acknowledge).
    min_replicas_acked: int | None = Field(default=None, ge=0)
    # A task delivered this many times without being acknowledged goes to the dead letters.
    max_deliveries: int = Field(default=5, ge=1)

    @field_validator("url")
    @classmethod
    def _url_is_usable(cls, url: str) -> str:
        # Checked here as start-up builds from it, so check-config refuses what serve, worker
        # and dead-letters would; BadBrokerUrl, a ValueError, says what is wrong.
        check_broker_url(url)
        return url

    @property
    def redelivers(self) -> bool:
        """Whether a task left unacknowledged is delivered again: Redis Streams' pending
        entries are; the in-memory broker's task is gone once its run ends."""
        return bool(self.url)

    @property
    def uses_sentinel(self) -> bool:
        return self.url.split("://", 1)[0] in SENTINEL_SCHEMES

    def replicas_to_acknowledge(self) -> int:
        """Replicas a write must reach before it counts as done (Redis WAIT): the explicit
        ``min_replicas_acked``, else 1 under Sentinel, whose failover promotes a replica, and
        0 for a single Redis, which has none to wait for."""
        if self.min_replicas_acked is not None:
            return self.min_replicas_acked
        return 1 if self.uses_sentinel else 0


class WorkerSettings(_Section):
    processes: int = Field(default=1, ge=1)
    max_concurrent_tasks: int = Field(default=32, ge=1)
    shutdown_grace_ms: int = Field(default=30000, gt=0)
    # One endpoint per worker host sums all its worker processes; 0 turns it off.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9101, ge=0, le=65535)


class UpstreamSettings(_Section):
    url: str = Field(pattern=r"^https?://")
    timeout_ms: int = Field(default=500, gt=0)
    # A longer answer fails as malformed, read no further (gateway.plugins.exchange).
    max_answer_bytes: int = Field(default=DEFAULT_MAX_ANSWER_BYTES, gt=0)


_UPSTREAM_DEFAULT_URLS = {
    "order_core": "http://127.0.0.1:8101",
    "driver_profiles": "http://127.0.0.1:8102",
    "personal": "http://127.0.0.1:8103",
    "fleet_vehicles": "http://127.0.0.1:8104",
    "driver_orders_builder": "http://127.0.0.1:8105",
    "client_notify": "http://127.0.0.1:8106",
}


class UpstreamsSettings(_Section):
    order_core: UpstreamSettings = UpstreamSettings(url=_UPSTREAM_DEFAULT_URLS["order_core"])
    driver_profiles: UpstreamSettings = UpstreamSettings(
        url=_UPSTREAM_DEFAULT_URLS["driver_profiles"]
    )
    personal: UpstreamSettings = UpstreamSettings(url=_UPSTREAM_DEFAULT_URLS["personal"])
    fleet_vehicles: UpstreamSettings = UpstreamSettings(
        url=_UPSTREAM_DEFAULT_URLS["fleet_vehicles"]
    )
    driver_orders_builder: UpstreamSettings = UpstreamSettings(
        url=_UPSTREAM_DEFAULT_URLS["driver_orders_builder"]
    )
    client_notify: UpstreamSettings = UpstreamSettings(url=_UPSTREAM_DEFAULT_URLS["client_notify"])

    @model_validator(mode="before")
    @classmethod
    def _sections_keep_their_default_url(cls, sections: Any) -> Any:
        # `METERS_UPSTREAMS__ORDER_CORE__TIMEOUT_MS=300` alone must not lose order-core's url.
        if not isinstance(sections, dict):
            return sections
        return {
            name: {"url": _UPSTREAM_DEFAULT_URLS[name], **section}
            if name in _UPSTREAM_DEFAULT_URLS and isinstance(section, dict)
            else section
            for name, section in sections.items()
        }


ALL_DRIVERS = "*"


class CountrySettings(_Section):
    vendor: str = Field(min_length=1)
    currency: str
    """ISO 4217; Settings fills in the country's own currency when the file names none."""
    drivers: list[str] = Field(default_factory=lambda: [ALL_DRIVERS])
    dry_run: bool = False
    min_price_ratio: Decimal = Field(default=Decimal("0.8"), gt=0)
    max_price_ratio: Decimal = Field(default=Decimal("1.2"), gt=0)
    id_document_type: str = "national_id_isr"

    @field_validator("currency", mode="before")
    @classmethod
    def _currency_is_iso_4217(cls, currency: Any) -> Any:
        if currency is None:
            raise ValueError(
                "no single currency is known for this country: set an ISO 4217 code (EUR)"
            )
        if isinstance(currency, str):
            check_currency(currency)
        return currency

    @model_validator(mode="after")
    def _band_is_ordered(self) -> Self:
        if self.min_price_ratio > self.max_price_ratio:
            raise ValueError("min_price_ratio must not exceed max_price_ratio")
        return self

    def includes_driver(self, park_id: str | None, driver_profile_id: str | None) -> bool:
        """An order missing its park or its driver is admitted only by ``ALL_DRIVERS``: no
        entry of the list names it (``_driver1`` is not a driver of no park)."""
        if ALL_DRIVERS in self.drivers:
            return True
        if park_id is None or driver_profile_id is None:
            return False
        return f"{park_id}_{driver_profile_id}" in self.drivers


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        extra="forbid",
        frozen=True,
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    server: ServerSettings = ServerSettings()
    broker: BrokerSettings = BrokerSettings()
    worker: WorkerSettings = WorkerSettings()
    upstreams: UpstreamsSettings = UpstreamsSettings()
    zones: dict[str, str] = Field(default_factory=dict)
    countries: dict[str, CountrySettings] = Field(default_factory=dict)
    # Validated against each vendor plugin's own settings model once plugins are loaded.
    vendors: dict[str, dict[str, Any]] = Field(default_factory=dict, repr=False, exclude=True)

    @field_validator("zones")
    @classmethod
    def _zones_name_countries(cls, zones: dict[str, str]) -> dict[str, str]:
        for zone, country in zones.items():
            if len(country) != 2 or not country.isalpha():
                raise ValueError(f"zone {zone!r}: {country!r} is not an ISO 3166-1 alpha-2 code")
        return {zone: country.upper() for zone, country in zones.items()}

    @field_validator("countries", mode="before")
    @classmethod
    def _country_codes_upper(cls, countries: Any) -> Any:
        # Environment variable names arrive lower-cased (METERS_COUNTRIES__IL__DRY_RUN -> "il")
        # while the file spells "IL": fold both together, the environment's keys winning.
        if not isinstance(countries, dict):
            return countries
        folded: dict[str, Any] = {}
        for code in sorted(countries, key=str.islower):
            value = countries[code]
            previous = folded.get(code.upper())
            if isinstance(previous, dict) and isinstance(value, dict):
                value = {**previous, **value}
            folded[code.upper()] = value
        # A country's currency defaults to its own (IL -> ILS, the euro area -> EUR); None when
        # it has no single one, which CountrySettings refuses naming the key.
        return {
            code: {"currency": currency_of_country(code), **value}
            if isinstance(value, dict) and "currency" not in value
            else value
            for code, value in folded.items()
        }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values come in as init arguments; the environment overrides them.
        return (env_settings, init_settings)

    def country_of_zone(self, zone: str | None) -> str | None:
        return self.zones.get(zone) if zone else None

    def zones_of_country(self, country: str) -> list[str]:
        return sorted(zone for zone, code in self.zones.items() if code == country)


def load_settings(path: Path | None) -> Settings:
    """Read the TOML file (if any) and the environment; raise ConfigError naming the bad key."""
    file_values: dict[str, Any] = {}
    if path is not None:
        try:
            file_values = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from error
    # pydantic-settings reads only the variables that name a section it knows and ignores the
    # rest: METERS_SERVR__PORT would leave the port at its default without a word.
    misspelled = unknown_variables(os.environ)
    if misspelled:
        raise ConfigError("\n".join(misspelled))
    try:
        return Settings(**file_values)
    except ValidationError as error:
        raise ConfigError(describe_validation_error(error, Settings)) from None


def describe_validation_error(
    error: ValidationError, model: type[BaseModel], prefix: str = ""
) -> str:
    """One line per problem, ``key: what is wrong``; an unknown key names the nearest known one
    (``model`` is the model validated, whose fields are the known keys)."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        location = tuple(str(part) for part in problem["loc"])
        key = ".".join(part for part in (prefix, *location) if part != "")
        if problem["type"] == "extra_forbidden":
            known = _keys_at(model, location[:-1])
            lines.append(f"{key}: {_unknown_key(location[-1], known or ())}")
        else:
            lines.append(f"{key}: {problem['msg']}")
    return "\n".join(lines)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A line for each ``METERS_`` variable that names no setting, with the nearest that does."""
    problems = []
    for name in sorted(environ):
        # Case-insensitive, as pydantic-settings reads them.
        if not name.upper().startswith(ENV_PREFIX) or name.upper() == CONFIG_PATH_VARIABLE:
            continue
        path = name[len(ENV_PREFIX) :].lower().split(ENV_NESTED_DELIMITER)
        for depth in range(len(path)):
            known = _keys_at(Settings, path[:depth])
            if known is None or path[depth] in known:
                continue
            nearest = difflib.get_close_matches(path[depth], known, n=1)
            suggestion = (
                f", did you mean {_variable([*path[:depth], nearest[0], *path[depth + 1 :]])}?"
                if nearest
                else _known_list(known)
            )
            problems.append(f"{name}: unknown key `{path[depth]}`{suggestion}")
            break
    return problems


def _variable(path: Sequence[str]) -> str:
    return ENV_PREFIX + ENV_NESTED_DELIMITER.join(path).upper()


def _unknown_key(key: str, known: Sequence[str]) -> str:
    nearest = difflib.get_close_matches(key, known, n=1)
    if nearest:
        return f"unknown key `{key}`, did you mean `{nearest[0]}`?"
    return f"unknown key `{key}`{_known_list(known)}"


def _known_list(known: Sequence[str]) -> str:
    return f" (known here: {', '.join(known)})" if known else " (nothing is nested here)"


def _keys_at(model: type[BaseModel], path: Sequence[str]) -> list[str] | None:
    """The keys ``model`` accepts under ``path``: its fields, a section's fields; ``[]`` below
    a plain value, and ``None`` where any key goes (a table of zones, countries or vendors)."""
    annotation: Any = model
    for part in path:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return None  # reported at that depth already
            annotation = field.annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]  # ``part`` is the table's own key
        elif annotation is Any:
            return None
        else:
            return []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    if get_origin(annotation) is dict or annotation is Any:
        return None
    return []
