"""The time budget of one outgoing HTTP call, enforced by aiohttp itself."""

import math
from functools import cache

import aiohttp


@cache
def call_timeout(timeout_ms: int) -> aiohttp.ClientTimeout:
    """The whole call (connect, send, answer headers and body) within ``timeout_ms``.

    aiohttp times every request anyway (five minutes in total by default): handing it the call's
    own budget, instead of wrapping the call in ``asyncio.timeout``, keeps one timer per call
    rather than two. Running out raises ``TimeoutError``, as ``asyncio.timeout`` does; without
    ``ceil_threshold`` aiohttp would round a budget over 5 s up to a whole second.
    """
    return aiohttp.ClientTimeout(total=timeout_ms / 1000, ceil_threshold=math.inf)
