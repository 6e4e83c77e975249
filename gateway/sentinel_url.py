"""Sentinel URLs in Lettuce's convention (docs/design.md §8)::

    redis-sentinel://[:PASSWORD@]h1[:26379],h2[:26380]/DB?sentinelMasterId=NAME[&sentinelPassword=P]

The userinfo password is the data nodes', ``sentinelPassword`` the sentinels', and
``rediss-sentinel://`` uses TLS for both.
"""

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

SENTINEL_SCHEMES = ("redis-sentinel", "rediss-sentinel")
SENTINEL_DEFAULT_PORT = 26379


class BadBrokerUrl(ValueError):
    """``broker.url`` cannot be used; the message says why (never the password)."""


@dataclass(frozen=True, slots=True)
class SentinelAddress:
    sentinels: list[tuple[str, int]]
    master_name: str
    db: int = 0
    password: str | None = None
    username: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)
    tls: bool = False


def parse_sentinel_url(url: str) -> SentinelAddress:
    parts = urlsplit(url)
    if parts.scheme not in SENTINEL_SCHEMES:
        raise BadBrokerUrl(f"not a Sentinel URL (scheme {parts.scheme!r})")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    sentinels = [_host_and_port(host) for host in hosts.split(",") if host]
    if not sentinels:
        raise BadBrokerUrl("names no sentinel host")
    query = parse_qs(parts.query)
    master_name = query.get("sentinelMasterId", [""])[0]
    if not master_name:
        raise BadBrokerUrl("needs ?sentinelMasterId=NAME, the master's name in the sentinels")
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise BadBrokerUrl(f"database {db_text!r} is not a number")
    return SentinelAddress(
        sentinels=sentinels,
        master_name=master_name,
        db=int(db_text),
        password=unquote(password) or None,
        username=unquote(username) or None,
        sentinel_password=query.get("sentinelPassword", [""])[0] or None,
        tls=parts.scheme == "rediss-sentinel",
    )


def _host_and_port(host: str) -> tuple[str, int]:
    name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
    if not port:
        return host, SENTINEL_DEFAULT_PORT
    if not port.isdigit():
        raise BadBrokerUrl(f"sentinel port {port!r} is not a number")
    return name, int(port)
