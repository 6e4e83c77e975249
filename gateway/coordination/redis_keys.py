"""Redis keys built from outside ids (docs/design.md §3a, §4 Retries), one way for every store.

The ids come from outside (order-core, the vendors, the auth proxy's headers) and may hold the
``:`` the parts are joined with: joined bare, order ``col`` of park ``pk:1`` and order
``col:pk`` of park ``1`` make one key, and one order is answered the other's price. Each part
is therefore percent-encoded (RFC 3986 §2.1) for exactly two characters, the escape ``%``
first and then the separator ``:``: no encoded part holds a ``:``, so the join splits back into
its parts and two keys are equal only when all their parts are. Percent-encoding is the
well-known idiom (URIs join path segments this way), and a part holding neither character is
kept byte for byte, so the keys of ordinary ids (UUIDs, hex, ``order-1``) read in ``redis-cli``
as they always have (docs/operations.md "Upgrading to encoded keys").
"""

SEPARATOR = ":"


def redis_key(namespace: str, *parts: str) -> str:
    """``namespace:part:part…``, every part encoded; ``namespace`` is ours, never encoded."""
    return SEPARATOR.join([namespace, *map(_encoded, parts)])


def _encoded(part: str) -> str:
    # The escape character first, or the "%3A" of an encoded ":" would be encoded again.
    return part.replace("%", "%25").replace(SEPARATOR, "%3A")
