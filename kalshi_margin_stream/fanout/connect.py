"""How both sides open Redis: bounded timeouts, no hidden retries.

redis-py retries a failed command by itself by default; here a failure must
surface at once, so the gateway counts and repairs it and the consumer marks
its books stale, instead of a write or a read silently waiting out a restart.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

__all__ = ["open_redis"]


def open_redis(url: str, *, timeout: float | None) -> aioredis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://``, ``unix://``); bytes replies.

    ``timeout`` bounds connecting and every reply (``None``: no bound, for
    blocking reads whose own ``BLOCK`` is shorter).
    """
    return aioredis.Redis.from_url(url, socket_timeout=timeout,
                                   socket_connect_timeout=timeout or 5.0,
                                   retry=Retry(NoBackoff(), 0), health_check_interval=0)
