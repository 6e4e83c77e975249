"""Configuration (docs/design.md §8): TOML plus METERS_ overrides, errors naming the key."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w

from gateway import cli
from gateway.bootstrap import process
from gateway.bootstrap.registry import catalog_from_entry_points
from gateway.bootstrap.secrets import configured_secrets
from gateway.bootstrap.vendor_setup import refuse_empty_secrets, validate_vendor_settings
from gateway.settings import ConfigError, Settings, load_settings
from tests.plugins.catalog import plugin, shipped_entry_points

SHIPPED = Path(__file__).parent.parent / "config" / "meters.toml"
CLI = [sys.executable, "-m", "gateway.cli"]


def test_shipped_config_routes_israel_to_monitex_and_latvia_to_optumplus() -> None:
    settings = load_settings(SHIPPED)
    assert settings.server.finish_ride_replay_s == 600

    assert settings.zones["tel_aviv"] == "IL"
    assert settings.zones["riga"] == "LV"
    assert settings.countries["IL"].vendor == "monitex"
    assert settings.countries["LV"].vendor == "optumplus"
    assert settings.broker.url == ""


def test_environment_overrides_the_file_at_any_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERS_SERVER__PORT", "9090")
    monkeypatch.setenv("METERS_COUNTRIES__IL__DRY_RUN", "true")
    monkeypatch.setenv("METERS_VENDORS__MONITEX__TOKEN", "from-env")

    settings = load_settings(SHIPPED)

    assert settings.server.port == 9090
    assert settings.countries["IL"].dry_run is True
    assert settings.countries["IL"].vendor == "monitex"  # the rest of the section is kept
    assert settings.vendors["monitex"]["token"] == "from-env"
    assert settings.vendors["monitex"]["pending_polls"] == 3


def test_a_countrys_currency_is_its_own_unless_the_file_says(tmp_path: Path) -> None:
    path = tmp_path / "meters.toml"
    path.write_text(
        '[countries.IL]\nvendor = "monitex"\n'
        '[countries.LV]\nvendor = "optumplus"\n'
        '[countries.PA]\nvendor = "optumplus"\ncurrency = "USD"\n'
    )

    countries = load_settings(path).countries

    assert {code: country.currency for code, country in countries.items()} == {
        "IL": "ILS",
        "LV": "EUR",
        "PA": "USD",
    }


def test_check_config_names_a_plugin_written_for_another_api_version(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    future = plugin("future_optumplus", "future_api")
    # check-config loads its catalog through the bootstrap.
    monkeypatch.setattr(
        process,
        "discover_vendor_plugins",
        lambda: catalog_from_entry_points([*shipped_entry_points(), future]),
    )

    assert cli.main(["check-config", str(SHIPPED)]) == 0

    out = capsys.readouterr().out
    assert f"{SHIPPED}: OK" in out
    assert (
        "plugin future_optumplus failed to load: IncompatiblePlugin: written for plugin API 2.x, "
        "this gateway speaks 1.1"
    ) in out


def test_vendor_tokens_do_not_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERS_VENDORS__MONITEX__TOKEN", "token-that-must-not-print")

    assert "token-that-must-not-print" not in repr(load_settings(SHIPPED))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[server]\nport = "eighty"\n', "server.port: Input should be a valid integer"),
        ("[server]\nfinish_ride_deadline_ms = 0\n", "server.finish_ride_deadline_ms"),
        ("[server]\nfinish_ride_replay_s = -1\n", "server.finish_ride_replay_s"),
        ('[broker]\nurl = "amqp://x"\n', "broker.url"),
        ('[zones]\ntel_aviv = "Israel"\n', "zones: Value error, zone 'tel_aviv'"),
        ("[countries.IL]\ndry_run = true\n", "countries.IL.vendor: Field required"),
        (
            '[countries.IL]\nvendor = "monitex"\nmin_price_ratio = 1.3\n',
            "min_price_ratio must not exceed max_price_ratio",
        ),
        ('[upstreams.order_core]\nurl = "order-core"\n', "upstreams.order_core.url"),
        ("[serverr]\nport = 1\n", "serverr: unknown key `serverr`, did you mean `server`?"),
        (
            '[countries.IL]\nvendor = "monitex"\ndryrun = true\n',
            "countries.IL.dryrun: unknown key `dryrun`, did you mean `dry_run`?",
        ),
        (
            "[server]\ncolour = 1\n",
            "server.colour: unknown key `colour` (known here: host, port, "
            "finish_ride_deadline_ms, finish_ride_replay_s)",
        ),
        (
            '[countries.ZZ]\nvendor = "monitex"\n',
            "countries.ZZ.currency: Value error, no single currency is known for this country",
        ),
        (
            '[countries.IL]\nvendor = "monitex"\ncurrency = "SHEKEL"\n',
            "countries.IL.currency: Value error, 'SHEKEL' is not an ISO 4217 currency code",
        ),
        ("not toml at all", "not valid TOML"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)

    with pytest.raises(ConfigError) as raised:
        load_settings(path)

    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (
            "METERS_SERVER__PROT",
            "METERS_SERVER__PROT: unknown key `prot`, did you mean METERS_SERVER__PORT?",
        ),
        (
            "METERS_COUNTRIES__IL__DRYRUN",
            "METERS_COUNTRIES__IL__DRYRUN: unknown key `dryrun`, "
            "did you mean METERS_COUNTRIES__IL__DRY_RUN?",
        ),
        (
            "meters_upstreams__order_core__timeout",
            "meters_upstreams__order_core__timeout: unknown key `timeout`, "
            "did you mean METERS_UPSTREAMS__ORDER_CORE__TIMEOUT_MS?",
        ),
        ("METERS_LOG_LEVEL__X", "METERS_LOG_LEVEL__X: unknown key `x` (nothing is nested here)"),
        (
            "METERS_QWERTY",
            "METERS_QWERTY: unknown key `qwerty` (known here: log_level, server, broker, "
            "worker, upstreams, zones, countries, vendors)",
        ),
    ],
)
def test_a_variable_that_names_no_setting_is_refused_naming_the_nearest(
    monkeypatch: pytest.MonkeyPatch, variable: str, message: str
) -> None:
    monkeypatch.setenv(variable, "1")

    with pytest.raises(ConfigError) as raised:
        load_settings(SHIPPED)

    assert str(raised.value) == message


def test_variables_under_tables_of_any_key_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Zones, countries and vendors are tables keyed by the operator's names; a vendor's own
    # keys are checked by its settings model once the plugins are loaded.
    monkeypatch.setenv("METERS_ZONES__HAIFA", "IL")
    monkeypatch.setenv("METERS_COUNTRIES__IL__DRY_RUN", "true")
    monkeypatch.setenv("METERS_VENDORS__MONITEX__PENDING_POLLS", "1")
    monkeypatch.setenv("METERS_CONFIG", str(SHIPPED))

    settings = load_settings(SHIPPED)

    assert settings.zones["haifa"] == "IL"
    assert settings.countries["IL"].dry_run is True
    assert settings.vendors["monitex"]["pending_polls"] == "1"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.toml")


PRODUCTION_EXAMPLE = SHIPPED.parent / "production.example.toml"
# What the production example's header says to set in the environment.
PRODUCTION_TOKENS = {
    "METERS_VENDORS__MONITEX__TOKEN": "prod-monitex-secret-1",
    "METERS_VENDORS__OPTUMPLUS__TOKEN": "prod-optumplus-secret-2",
}


def run_check_config(
    path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    inherited = {
        name: value for name, value in os.environ.items() if not name.startswith("METERS_")
    }
    return subprocess.run(
        [*CLI, "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**inherited, **(env or {})},
    )


def test_check_config_accepts_the_shipped_files() -> None:
    for path, env in ((SHIPPED, {}), (PRODUCTION_EXAMPLE, PRODUCTION_TOKENS)):
        result = run_check_config(path, env)
        assert result.returncode == 0, result.stderr
        assert f"{path}: OK" in result.stdout


def test_an_empty_secret_of_a_routed_vendor_is_refused_naming_where_to_set_it() -> None:
    """The production example without its environment: every routed vendor's token is empty,
    and the first ride would meet a 401."""
    only_monitex = {"METERS_VENDORS__MONITEX__TOKEN": "prod-monitex-secret-1"}

    result = run_check_config(PRODUCTION_EXAMPLE, only_monitex)

    assert result.returncode == 2
    assert result.stderr == (
        "configuration error:\n"
        "vendors.optumplus.token: empty, and countries.LV routes to optumplus: set it in the "
        "file or in METERS_VENDORS__OPTUMPLUS__TOKEN\n"
    )
    assert "prod-monitex-secret-1" not in result.stdout + result.stderr


def test_an_unrouted_vendor_may_keep_an_empty_secret(tmp_path: Path) -> None:
    tree = tomllib.loads(SHIPPED.read_text())
    tree["countries"] = {"IL": tree["countries"]["IL"]}
    tree["vendors"]["optumplus"]["token"] = ""
    config = tmp_path / "meters.toml"
    config.write_text(tomli_w.dumps(tree))

    result = run_check_config(config)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            # Left open at the end: third-party vendors may be installed beside the shipped two.
            '[countries.FR]\nvendor = "no_such_vendor"\n',
            "countries.FR.vendor: vendor 'no_such_vendor' is not installed "
            "(installed: monitex, optumplus",
        ),
        (
            '[countries.IL]\nvendor = "monitex"\n[vendors.monitex]\nurl = "ftp://meter"\n',
            "vendors.monitex.url: String should match pattern",
        ),
        (
            '[countries.IL]\nvendor = "monitex"\n'
            '[vendors.monitex]\nurl = "http://m"\npending_polls = -1\n',
            "vendors.monitex.pending_polls: Input should be greater than or equal to 0",
        ),
        (
            '[countries.IL]\nvendor = "monitex"\n[vendors.monitex]\nurl = "http://m"\ncolour = 1\n',
            "vendors.monitex.colour: unknown key `colour` (known here: url, token, timeout_ms, "
            "max_answer_bytes, pending_polls",
        ),
        ('[countries.IL]\nvendor = "monitex"\n', "vendors.monitex.url: Field required"),
    ],
)
def test_check_config_names_the_bad_key_and_fails(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)

    result = run_check_config(path)

    assert result.returncode == 2
    assert message in result.stderr


def test_check_config_does_not_print_tokens(tmp_path: Path) -> None:
    path = tmp_path / "meters.toml"
    path.write_text(
        '[countries.IL]\nvendor = "monitex"\n'
        '[vendors.monitex]\nurl = "ftp://m"\ntoken = "tok-3141592653"\n'
    )

    result = run_check_config(path)

    assert result.returncode == 2
    assert "tok-3141592653" not in result.stdout + result.stderr


def test_an_upstream_section_without_url_keeps_its_default_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("METERS_UPSTREAMS__ORDER_CORE__TIMEOUT_MS", "300")
    path = tmp_path / "meters.toml"
    path.write_text("[upstreams.personal]\ntimeout_ms = 200\n")

    settings = load_settings(path)

    assert settings.upstreams.order_core.url == "http://127.0.0.1:8101"
    assert settings.upstreams.order_core.timeout_ms == 300
    assert settings.upstreams.personal.url == "http://127.0.0.1:8103"
    assert settings.upstreams.personal.timeout_ms == 200


def test_vendor_tokens_do_not_show_in_settings_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METERS_VENDORS__MONITEX__TOKEN", "token-that-must-not-print")
    settings = load_settings(SHIPPED)

    assert "token-that-must-not-print" not in settings.model_dump_json()
    assert "token-that-must-not-print" not in str(settings.model_dump())


def test_check_config_refuses_a_vendor_section_no_plugin_owns(tmp_path: Path) -> None:
    path = tmp_path / "meters.toml"
    path.write_text(
        '[countries.IL]\nvendor = "monitex"\n[vendors.monitex]\nurl = "http://m"\n'
        '[vendors.monitx]\ntoken = "typo"\n'
    )

    result = run_check_config(path)

    assert result.returncode == 2
    assert "vendors.monitx: vendor 'monitx' is not installed" in result.stderr


def test_an_inherited_token_is_not_required_of_a_vendor_that_authenticates_its_own_way(
    tmp_path: Path,
) -> None:
    """A 1.0 plugin whose API takes no token kept it empty and ran: the gateway cannot see
    whether an overridden ``authentication()`` reads it, so only the default bearer
    authentication requires it. (The example vendor does read it, for its API-key header:
    the price of keeping 1.0 plugins starting.)"""
    config = tmp_path / "meters.toml"
    config.write_text(
        '[zones]\nberlin = "DE"\n[countries.DE]\nvendor = "taxameter"\n'
        'id_document_type = "national_id_deu"\n'
        '[vendors.taxameter]\nurl = "https://api.taxameter.example"\nfleet_id = "north"\n'
    )

    result = run_check_config(config)

    assert result.returncode == 0, result.stderr


def nested_secret_settings(
    client_secret: str, key_password: str = "", vendor: str = "nested_secret_monitex"
) -> Settings:
    return Settings.model_validate(
        {
            "zones": {"tel_aviv": "IL"},
            "countries": {"IL": {"vendor": vendor}},
            "vendors": {
                vendor: {
                    "url": "https://meters.example",
                    "token": "t-1",
                    "tls": {"client_secret": client_secret, "key_password": key_password},
                }
            },
        }
    )


NESTED_SECRET_CATALOG = [plugin("nested_secret_monitex", "nested_secret_monitex")]


def refused_empty_secrets(settings: Settings) -> str | None:
    catalog = catalog_from_entry_points(NESTED_SECRET_CATALOG)
    try:
        refuse_empty_secrets(settings, validate_vendor_settings(settings, catalog), catalog)
    except ConfigError as refused:
        return str(refused)
    return None


def test_an_empty_required_secret_in_a_nested_section_is_refused_naming_its_dotted_key() -> None:
    assert refused_empty_secrets(nested_secret_settings("")) == (
        "vendors.nested_secret_monitex.tls.client_secret: empty, and countries.IL routes to "
        "nested_secret_monitex: set it in the file or in "
        "METERS_VENDORS__NESTED_SECRET_MONITEX__TLS__CLIENT_SECRET"
    )


def test_a_nested_secret_with_a_default_or_named_optional_may_stay_empty() -> None:
    # key_password has a default (a 1.0 plugin's optional secret); the second model names its
    # nested client_secret in optional_secrets.
    assert refused_empty_secrets(nested_secret_settings("cs-1", key_password="")) is None
    optional = nested_secret_settings("", vendor="optional_nested_secret_monitex")
    assert refused_empty_secrets(optional) is None


def test_a_secret_in_a_nested_section_is_masked_in_the_logs() -> None:
    catalog = catalog_from_entry_points(NESTED_SECRET_CATALOG)
    settings = nested_secret_settings("cs-9a1", key_password="pw-7f3")

    assert configured_secrets(settings, catalog) == ["t-1", "cs-9a1", "pw-7f3"]
