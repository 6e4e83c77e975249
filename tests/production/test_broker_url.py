"""``broker.url`` forms (docs/design.md §8): what a Sentinel URL says, and the replicas an
enqueue waits for."""

from pathlib import Path

import pytest

from gateway.broker.redis_connection import url_secrets
from gateway.broker.sentinel_url import SentinelAddress, parse_sentinel_url
from gateway.settings import BrokerSettings, ConfigError, load_settings


def test_a_sentinel_url_names_sentinels_master_database_and_both_passwords() -> None:
    url = (
        "redis-sentinel://:data%40pass@h1:26380,h2,10.0.0.3:26381/2"
        "?sentinelMasterId=meters&sentinelPassword=sent"
    )

    assert parse_sentinel_url(url) == SentinelAddress(
        sentinels=[("h1", 26380), ("h2", 26379), ("10.0.0.3", 26381)],
        master_name="meters",
        db=2,
        password="data@pass",
        sentinel_password="sent",
        tls=False,
    )
    assert sorted(url_secrets(url)) == ["data@pass", "sent"]


def test_rediss_sentinel_uses_tls_and_database_0_by_default() -> None:
    address = parse_sentinel_url("rediss-sentinel://h1?sentinelMasterId=m")

    assert (address.tls, address.db, address.password, address.sentinels) == (
        True,
        0,
        None,
        [("h1", 26379)],
    )


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("redis-sentinel://h1,h2/0", "sentinelMasterId"),
        ("redis-sentinel:///0?sentinelMasterId=m", "names no sentinel host"),
        ("redis-sentinel://h1:port/0?sentinelMasterId=m", "sentinel port 'port'"),
        ("redis-sentinel://h1/zero?sentinelMasterId=m", "database 'zero'"),
    ],
)
def test_an_incomplete_sentinel_url_fails_at_startup_naming_the_key(
    url: str, complaint: str, tmp_path: Path
) -> None:
    config = tmp_path / "meters.toml"
    config.write_text(f'[broker]\nurl = "{url}"\n')

    with pytest.raises(ConfigError) as refused:
        load_settings(config)

    assert str(refused.value).startswith("broker.url: ")
    assert complaint in str(refused.value)


@pytest.mark.parametrize(
    ("url", "explicit", "replicas"),
    [
        ("redis-sentinel://h1/0?sentinelMasterId=m", None, 1),
        ("rediss-sentinel://h1/0?sentinelMasterId=m", None, 1),
        ("redis://127.0.0.1:6379/0", None, 0),
        ("redis-sentinel://h1/0?sentinelMasterId=m", 2, 2),
        ("redis-sentinel://h1/0?sentinelMasterId=m", 0, 0),
        ("redis://127.0.0.1:6379/0", 1, 1),
    ],
)
def test_replicas_to_acknowledge(url: str, explicit: int | None, replicas: int) -> None:
    settings = BrokerSettings(url=url, min_replicas_acked=explicit)

    assert settings.replicas_to_acknowledge() == replicas
