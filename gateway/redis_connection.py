"""Connections to the broker's Redis from ``broker.url``: one server, or the master that a set
of sentinels names (docs/design.md §8).

``redis://`` and ``rediss://`` go to redis-py as they are; ``redis-sentinel://`` and
``rediss-sentinel://`` are read by sentinel_url. Under Sentinel the pool is redis-py's
``SentinelConnectionPool``: each new connection asks the sentinels for the current master, and
a connection to a master that turned replica (``READONLY``) is dropped, so every client of the
pool follows a failover.

A leaf module, below the broker: the settings refuse a ``broker.url`` these pools could not be
built from, and the log formatter masks the passwords it carries.
"""

from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import redis
import redis.sentinel
from redis.asyncio import BlockingConnectionPool, ConnectionPool
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.sentinel import (
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)
from redis.exceptions import RedisError

from gateway.logging_setup import REDACTED
from gateway.sentinel_url import (
    SENTINEL_SCHEMES,
    BadBrokerUrl,
    SentinelAddress,
    parse_sentinel_url,
)
from gateway.workarounds.cpython import cancellable_connection_class

CONNECT_TIMEOUT_S = 1.0
# Longer than a worker's blocking read, so only a Redis that stopped answering trips it.
SOCKET_TIMEOUT_S = 5.0

_CONNECTION_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": CONNECT_TIMEOUT_S,
    "socket_timeout": SOCKET_TIMEOUT_S,
    # RESP2: the replies come in the shapes the broker reads. It also keeps redis-py 8.1's RESP3
    # maintenance notifications off, whose default ("auto") skips the check for pooled
    # connections the server has closed: after a Redis restart, the first command on each of
    # them would fail.
    "protocol": 2,
}


# Characters that end a URL's userinfo early: in a password they must be percent-encoded, or
# the host, port and database are read out of the password (and error messages quote it).
_USERINFO_ENDERS = "/?#"


def check_broker_url(url: str) -> None:
    """Refuse a ``broker.url`` that start-up could not use, as start-up would build from it:
    the pools below parse host, port, database and every option without connecting. Raises
    BadBrokerUrl saying what is wrong; no message holds the URL's passwords."""
    if not url:
        return
    userinfo = url.partition("://")[2].rpartition("@")[0]
    if any(character in userinfo for character in _USERINFO_ENDERS):
        raise BadBrokerUrl(
            f"{masked_url(url)}: the part before the last '@' (user and password) holds '/', "
            "'?' or '#', so the host, port and database would be read from the password: "
            "percent-encode them (%2F, %3F, %23), and any '@' after it (%40)"
        )
    try:
        # A connection object takes the URL's options (an unknown one is a TypeError here, not
        # at the first command); none connects.
        connection_pool(url).make_connection()  # type: ignore[no-untyped-call]  # redis-py's
        blocking_client(url).connection_pool.make_connection()
    except BadBrokerUrl:
        raise
    except (ValueError, TypeError, RedisError) as error:
        # redis-py's and urllib's own words, which may quote parts of the URL.
        raise BadBrokerUrl(f"{masked_url(url)}: {_masked(str(error), url)}") from None


def masked_url(url: str) -> str:
    """The URL with its user and password and any sentinelPassword shown as ``***``."""
    scheme, _, rest = url.partition("://")
    _userinfo, at, address = rest.rpartition("@")
    shown = f"{scheme}://{'***@' if at else ''}{address}"
    return _masked(shown, url)


def _masked(text: str, url: str) -> str:
    for secret in sorted(url_secrets(url), key=len, reverse=True):
        text = text.replace(secret, REDACTED).replace(quote(secret, safe=""), REDACTED)
    return text


def url_secrets(url: str) -> list[str]:
    """The passwords a broker URL carries, for the log formatter to mask."""
    if not url:
        return []
    parts = urlsplit(url)
    found = [parts.password] if parts.password else []
    found += [value for value in parse_qs(parts.query).get("sentinelPassword", []) if value]
    return [unquote(secret) for secret in found]


def connection_pool(url: str) -> ConnectionPool:
    """The asyncio pool every part of the broker (and whatever is built on it) uses."""
    if urlsplit(url).scheme not in SENTINEL_SCHEMES:
        pool: ConnectionPool = BlockingConnectionPool.from_url(url, **_CONNECTION_OPTIONS)
        # Whatever class the URL chose (TCP, TLS or Unix socket); no connection exists yet.
        pool.connection_class = cancellable_connection_class(pool.connection_class)
        return pool
    address = parse_sentinel_url(url)
    connection_class: type[AbstractConnection] = (
        SentinelManagedSSLConnection if address.tls else SentinelManagedConnection
    )
    sentinel = Sentinel(
        address.sentinels,
        sentinel_kwargs=_sentinel_options(address),
        **_data_node_options(address),
    )
    # Each new data-node connection first asks a sentinel for the master, on these clients.
    for client in sentinel.sentinels:
        pool = client.connection_pool
        pool.connection_class = cancellable_connection_class(pool.connection_class)
    # redis-py's asyncio SentinelConnectionPool is untyped.
    return SentinelConnectionPool(  # type: ignore[no-untyped-call]
        address.master_name,
        sentinel,
        connection_class=cancellable_connection_class(connection_class),
        **_data_node_options(address),
    )


def blocking_client(url: str, socket_timeout_s: float = SOCKET_TIMEOUT_S) -> redis.Redis:
    """A synchronous client of the same Redis, for the worker host's health endpoint thread."""
    options = {**_CONNECTION_OPTIONS, "socket_timeout": socket_timeout_s}
    if urlsplit(url).scheme not in SENTINEL_SCHEMES:
        return redis.Redis.from_url(url, **options)
    address = parse_sentinel_url(url)
    sentinel = redis.sentinel.Sentinel(
        address.sentinels,
        sentinel_kwargs=_sentinel_options(address),
        **{**_data_node_options(address), **options},
    )
    client: redis.Redis = sentinel.master_for(address.master_name)
    return client


def _sentinel_options(address: SentinelAddress) -> dict[str, Any]:
    return {
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "socket_timeout": CONNECT_TIMEOUT_S,
        "password": address.sentinel_password,
        "ssl": address.tls,
    }


def _data_node_options(address: SentinelAddress) -> dict[str, Any]:
    return {
        **_CONNECTION_OPTIONS,
        "db": address.db,
        "username": address.username,
        "password": address.password,
        # Popped by the Sentinel pools, which pick their (TLS) connection class from it.
        "ssl": address.tls,
    }
