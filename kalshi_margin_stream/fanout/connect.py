"""How both sides open Redis: bounded timeouts, no hidden retries.

redis-py retries a failed command by itself by default; here a failure must
surface at once, so the gateway counts and repairs it and the consumer marks
its books stale, instead of a write or a read silently waiting out a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

__all__ = ["open_redis", "raise_if_cancelled", "sleep_unless", "stop_tasks"]


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


async def stop_tasks(tasks: Sequence[asyncio.Task[Any]], *, grace: float,
                     log: logging.Logger) -> None:
    """Let ``tasks`` end by themselves for ``grace`` seconds, then cancel them, bounded.

    A task still running after its cancel (a library that swallowed it) is
    reported instead of waited for forever.
    """
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    if pending:
        _, stuck = await asyncio.wait(pending, timeout=max(grace, 1.0))
        for task in stuck:
            log.error("task %s did not stop after its cancel", task.get_name())
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("task %s failed: %r", task.get_name(), task.exception())


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, but wake at once when ``stop`` is set (a loop that closes)."""
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass
