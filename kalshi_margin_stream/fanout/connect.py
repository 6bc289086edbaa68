"""How both sides open Redis: bounded timeouts, no hidden retries.

redis-py retries a failed command by itself by default; here a failure must
surface at once, so the gateway counts and repairs it and the consumer marks
its books stale, instead of a write or a read silently waiting out a restart.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

__all__ = ["open_redis", "raise_if_cancelled"]


def open_redis(url: str, *, timeout: float | None) -> aioredis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://``, ``unix://``); bytes replies.

    ``timeout`` bounds connecting and every reply (``None``: no bound, for
    blocking reads whose own ``BLOCK`` is shorter).
    """
    return aioredis.Redis.from_url(url, socket_timeout=timeout,
                                   socket_connect_timeout=timeout or 5.0,
                                   retry=Retry(NoBackoff(), 0), health_check_interval=0)


def raise_if_cancelled() -> None:
    """Re-raise a cancellation that arrived as a Redis timeout.

    On Python 3.11, a cancel landing as redis-py's own read timeout expires can
    come out as ``TimeoutError``; a loop that retries on timeouts must check,
    or it would never stop.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
