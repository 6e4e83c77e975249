"""``broker.url`` forms (docs/design.md §8): what a Sentinel URL says, the replicas an enqueue
waits for, and both passwords against a protected Sentinel setup."""

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from gateway.bootstrap.process import build_broker, redis_pool
from gateway.broker.enqueue import BrokerUnavailable, enqueue_start_ride
from gateway.redis_connection import url_secrets
from gateway.sentinel_url import SentinelAddress, parse_sentinel_url
from gateway.settings import BrokerSettings, ConfigError, load_settings
from tests.processes import CLI
from tests.production.sentinel_cluster import SentinelCluster


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


DATA_PASSWORD = "data-secret-77"
SENTINEL_PASSWORD = "sentinel-secret-42"


@pytest.fixture
def protected_cluster(tmp_path: Path) -> Iterator[SentinelCluster]:
    workdir = tmp_path / "protected"
    workdir.mkdir()
    cluster = SentinelCluster(workdir, DATA_PASSWORD, SENTINEL_PASSWORD)
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.mark.timeout(60)
async def test_both_passwords_of_the_url_open_a_protected_sentinel_setup(
    protected_cluster: SentinelCluster,
) -> None:
    url = protected_cluster.url()
    assert f":{DATA_PASSWORD}@" in url
    assert f"sentinelPassword={SENTINEL_PASSWORD}" in url
    without_data_password = url.replace(f":{DATA_PASSWORD}@", "")
    without_sentinel_password = url.replace(f"&sentinelPassword={SENTINEL_PASSWORD}", "")

    assert await enqueued(url) == "ok"
    # The data node refuses at once; sentinels that refuse are asked again (redis-py retries a
    # connection that found no master) until the enqueue's bound runs out.
    assert await enqueued(without_data_password) == "unreachable"
    assert await enqueued(without_sentinel_password) in {"unreachable", "timeout"}


async def enqueued(url: str) -> str:
    """The enqueue metric's result for one start-ride enqueued through ``url``."""
    settings = BrokerSettings(url=url, queue_name=f"meters-test-{uuid.uuid4().hex}")
    broker = build_broker(settings, redis_pool(settings))
    await broker.startup()
    try:
        await enqueue_start_ride(broker, "order-1", task_id=None)
    except BrokerUnavailable as refused:
        return refused.result
    finally:
        await broker.shutdown()
    return "ok"


# A broker URL start-up cannot use, and the one line saying so (after "broker.url: "). A '/',
# '?' or '#' in a password (common in base64 ones) ends the userinfo early: the host, port and
# database would be read out of the password, and the libraries' messages quote it.
UNUSABLE_URLS = [
    pytest.param(
        "redis-sentinel://:12/secretpart@127.0.0.1:19998/0?sentinelMasterId=m",
        "redis-sentinel://***@127.0.0.1:19998/0?sentinelMasterId=m: the part before the last "
        "'@' (user and password) holds '/', '?' or '#', so the host, port and database would "
        "be read from the password: percent-encode them (%2F, %3F, %23), and any '@' after it "
        "(%40)",
        id="slash-in-sentinel-password",
    ),
    pytest.param(
        "redis://:Ab/CdSecret@127.0.0.1:6379/0",
        "redis://***@127.0.0.1:6379/0: the part before the last '@' (user and password) holds "
        "'/', '?' or '#', so the host, port and database would be read from the password: "
        "percent-encode them (%2F, %3F, %23), and any '@' after it (%40)",
        id="slash-in-password",
    ),
    pytest.param(
        "redis://:Ab?CdSecret@127.0.0.1:6379/0",
        "redis://***@127.0.0.1:6379/0: the part before the last '@' (user and password) holds "
        "'/', '?' or '#', so the host, port and database would be read from the password: "
        "percent-encode them (%2F, %3F, %23), and any '@' after it (%40)",
        id="question-mark-in-password",
    ),
    pytest.param(
        "redis://127.0.0.1:99999/0",
        "redis://127.0.0.1:99999/0: Port out of range 0-65535",
        id="port-out-of-range",
    ),
    pytest.param(
        "redis://:CdSecret@127.0.0.1:6379/0?socket_timeout=abc",
        "redis://***@127.0.0.1:6379/0?socket_timeout=abc: "
        "Invalid value for 'socket_timeout' in connection URL.",
        id="bad-option",
    ),
    pytest.param(
        "redis://127.0.0.1:6379/0?no_such_option=1",
        "redis://127.0.0.1:6379/0?no_such_option=1: "
        "AbstractConnection.__init__() got an unexpected keyword argument 'no_such_option'",
        id="unknown-option",
    ),
]
SECRET_PARTS = ("secretpart", "CdSecret")


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("METERS_")}
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )


@pytest.mark.parametrize(("url", "complaint"), UNUSABLE_URLS)
def test_check_config_refuses_a_broker_url_start_up_could_not_use(
    url: str, complaint: str, tmp_path: Path
) -> None:
    config = tmp_path / "meters.toml"
    config.write_text(tomli_w.dumps({"broker": {"url": url}}))

    checked = _run_cli("check-config", str(config))

    assert (checked.returncode, checked.stdout) == (2, "")
    assert checked.stderr == f"configuration error:\nbroker.url: Value error, {complaint}\n"


@pytest.mark.parametrize("command", ["serve", "worker", "dead-letters"])
@pytest.mark.parametrize(("url", "complaint"), UNUSABLE_URLS[1:2] + UNUSABLE_URLS[-1:])
def test_start_up_refuses_it_in_one_line_naming_the_key(
    command: str, url: str, complaint: str, tmp_path: Path
) -> None:
    config = tmp_path / "meters.toml"
    config.write_text(tomli_w.dumps({"broker": {"url": url}}))
    action = ["list"] if command == "dead-letters" else []

    started = _run_cli(command, "--config", str(config), *action)

    assert (started.returncode, started.stdout) == (2, "")
    assert started.stderr == f"configuration error:\nbroker.url: Value error, {complaint}\n"
    assert not any(part in started.stderr for part in SECRET_PARTS)
