"""The publisher's accounting without a server: what a stop leaves behind is counted."""

from __future__ import annotations

import asyncio

from kalshi_margin_stream.fanout.connect import open_redis
from kalshi_margin_stream.fanout.entries import MESSAGE
from kalshi_margin_stream.fanout.publisher import Publisher


async def test_entries_left_in_the_buffer_at_stop_are_counted_as_dropped() -> None:
    redis = open_redis("redis://127.0.0.1:1/0", timeout=0.5)  # never reached
    try:
        pub = Publisher(redis, epoch="e1", maxlen=100, buffer=100)
        for i in range(10):
            assert pub.publish("kms:trade:T", MESSAGE, frame=b"{}", received_us=i)
        pub.stop()  # before the writer ran: nothing was written
        await asyncio.wait_for(pub.run(), 5)
        stats = pub.statistics()
        assert stats.queued == 10 and stats.written == 0
        assert stats.dropped == 10 and stats.buffered == 0
    finally:
        await redis.aclose()
