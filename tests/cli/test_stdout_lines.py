"""A stdout nobody reads never freezes the event loop (``stream``'s writer thread)."""

from __future__ import annotations

import asyncio
import os

from kalshi_margin_stream.cli.common import StdoutLines


async def test_an_unread_pipe_does_not_block_the_loop() -> None:
    read, write = os.pipe()
    sink = os.fdopen(write, "wb", buffering=0)
    out = StdoutLines(sink, capacity=100)
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:  # stands for the socket reader
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    async def writer() -> None:
        for i in range(20_000):  # ~1.2 MB: far more than a pipe holds
            await out.put(b"x" * 60 + f"{i:05d}\n".encode())

    tick_task = asyncio.ensure_future(ticker())
    write_task = asyncio.ensure_future(writer())
    await asyncio.sleep(0.3)
    before = ticks
    await asyncio.sleep(0.3)
    assert not write_task.done()  # the pipe is full and nobody reads it...
    assert ticks - before > 20  # ...yet the loop goes on
    # Now the reader closes the pipe: the writer notices and lets everything go.
    os.close(read)
    await asyncio.wait_for(write_task, 10)
    assert out.closed
    await out.aclose()
    stop.set()
    await tick_task
    sink.close()
