"""The delivery policy of one Subscription, for each way of consuming it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from kalshi_margin_stream.stream.subscriptions import Books, Stale, Subscription, Trades


class Harness:
    def __init__(self, queue: int = 4, *, inline: bool = False, spec: Any = None) -> None:
        self.closed: list[Any] = []
        self.repairs = 0
        self.seen: list[Any] = []
        self.sub: Subscription[Any] = Subscription(
            spec or Books(("A",)), queue=queue, on_close=self.closed.append,
            on_overflow=self._repair, callback=self.seen.append if inline else None)

    def _repair(self, sub: Subscription[Any]) -> None:
        self.repairs += 1


async def drain(sub: Subscription[Any], n: int) -> list[Any]:
    out = []
    async with asyncio.timeout(2):
        for _ in range(n):
            out.append(await sub.__anext__())
    return out


async def test_the_queue_is_bounded_and_an_overflow_is_told_before_fresh_data() -> None:
    h = Harness(queue=4)
    for i in range(10):
        h.sub.offer(i, "A")
    assert len(h.sub._items) == 4 and h.sub.overflows == 1 and h.sub.missed == 6
    assert h.repairs == 0  # the repair waits until the queue has room for what it brings
    first = await drain(h.sub, 3)  # down to one queued: half empty, the marker goes in
    assert first == [0, 1, 2] and h.repairs == 1
    h.sub.offer("fresh snapshot", "A")
    rest = await drain(h.sub, 3)
    assert rest[0] == 3
    assert rest[1] == Stale("orderbook_delta", ("A",), "overflow", 6)
    assert rest[2] == "fresh snapshot"
    assert h.sub.missed_total == 6 and h.sub.high_water == 4


async def test_updates_while_a_marker_waits_are_counted_in_it() -> None:
    h = Harness(queue=4)
    for i in range(4):
        h.sub.offer(i, "A")
    h.sub.mark_stale(("A",), "gap")  # no room yet: the marker waits
    h.sub.offer("skipped", "A")
    assert h.sub.health == "resyncing"
    items = await drain(h.sub, 5)
    assert items[:4] == [0, 1, 2, 3]
    assert items[4] == Stale("orderbook_delta", ("A",), "gap", 1)
    assert h.repairs == 1  # what was skipped (maybe a snapshot) is asked for again


async def test_batches_take_everything_queued_in_order() -> None:
    h = Harness(queue=8)
    for i in range(3):
        h.sub.offer(i, "A")
    h.sub.mark_stale(None, "disconnected")
    h.sub.offer("fresh", "A")
    batches = h.sub.batches()
    async with asyncio.timeout(2):
        batch = await batches.__anext__()
        assert batch == [0, 1, 2, Stale("orderbook_delta", None, "disconnected"), "fresh"]
        waiting = asyncio.ensure_future(batches.__anext__())
        await asyncio.sleep(0)
        assert not waiting.done()  # nothing queued: it sleeps
        h.sub.offer(7, "A")
        assert await waiting == [7]
        await h.sub.aclose()
        with pytest.raises(StopAsyncIteration):
            await batches.__anext__()


async def test_an_inline_callback_gets_markers_in_order_and_never_overflows() -> None:
    h = Harness(queue=2, inline=True)
    for i in range(5):
        h.sub.offer(i, "A")
    h.sub.mark_stale(("A",), "gap")
    h.sub.offer("fresh", "A")
    assert h.seen == [0, 1, 2, 3, 4, Stale("orderbook_delta", ("A",), "gap"), "fresh"]
    assert h.sub.overflows == 0 and h.sub.health == "synced"


async def test_an_inline_callback_that_raises_ends_only_its_subscription() -> None:
    calls: list[Any] = []

    def bad(item: Any) -> None:
        calls.append(item)
        raise ValueError("consumer bug")

    closed: list[Any] = []
    sub: Subscription[Any] = Subscription(Trades(), queue=2, on_close=closed.append,
                                          on_overflow=lambda s: None, callback=bad)
    sub.offer("t1", "A")
    sub.offer("t2", "A")
    assert calls == ["t1"] and sub.closed and isinstance(sub.error, ValueError)
    assert closed == [sub]


async def test_a_fatal_error_is_raised_from_async_for_and_queued_items_are_void() -> None:
    h = Harness(queue=4)
    h.sub.offer(1, "A")
    h.sub.fail(RuntimeError("fatal"))
    with pytest.raises(RuntimeError, match="fatal"):
        await h.sub.__anext__()
    h.sub.offer(2, "A")  # after the end: ignored
    assert h.sub.delivered == 1


async def test_a_waiting_consumer_is_woken_by_an_offer_and_by_the_end() -> None:
    h = Harness(queue=4)
    task = asyncio.ensure_future(h.sub.__anext__())
    await asyncio.sleep(0)
    h.sub.offer("x", "A")
    assert await asyncio.wait_for(task, 2) == "x"
    task = asyncio.ensure_future(h.sub.__anext__())
    await asyncio.sleep(0)
    await h.sub.aclose()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(task, 2)
    assert h.closed == [h.sub]


async def test_a_busy_consumer_yields_to_the_loop_now_and_then() -> None:
    h = Harness(queue=1000)
    for i in range(200):
        h.sub.offer(i, "A")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    t = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    start = ticks
    assert await drain(h.sub, 200) == list(range(200))
    t.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await t
    assert ticks - start >= 2  # the reader (here: the ticker) got turns meanwhile


async def test_a_callback_returning_a_coroutine_is_a_clear_error_not_a_lost_await() -> None:
    async def handler(item: Any) -> None:
        pass

    closed: list[Any] = []
    sub: Subscription[Any] = Subscription(
        Trades(), queue=2, on_close=closed.append, on_overflow=lambda s: None,
        callback=lambda item: handler(item))  # a lambda hides the async def
    sub.offer("t1", "A")
    assert sub.closed and isinstance(sub.error, TypeError) and "async def" in str(sub.error)
    assert closed == [sub]
