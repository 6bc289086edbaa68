"""RestSync without sockets: a trade backfill that REST fails is retried, from as far back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

from kalshi_margin_stream.config import Limits
from kalshi_margin_stream.core.messages import Trade, TradeBody
from kalshi_margin_stream.exceptions import KalshiError
from kalshi_margin_stream.stream.rest_sync import RestSync


class FlakyRest:
    """``iter_trades`` fails ``failures`` times, then lists two trades."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[str | None, int | None]] = []

    async def iter_trades(self, *, ticker: str | None, min_ts: int | None
                          ) -> AsyncIterator[Any]:
        self.calls.append((ticker, min_ts))
        if self.failures:
            self.failures -= 1
            raise KalshiError("REST is down")
        for trade_id, ts in (("seen", 5_000), ("missed", 6_000)):
            yield SimpleNamespace(trade_id=trade_id, ticker="KXBTCPERP", price=Decimal("8.1"),
                                  count=Decimal("1"), taker_side="bid", created_time_ms=ts)


def trade(trade_id: str, ts_ms: int) -> Trade:
    return Trade(sid=1, msg=TradeBody(trade_id=trade_id, market_ticker="KXBTCPERP",
                                      price=Decimal("8.1"), count=Decimal("1"),
                                      taker_side="bid", ts_ms=ts_ms))


async def test_a_failed_trade_backfill_is_retried_from_the_same_mark() -> None:
    rest = FlakyRest(failures=1)
    delivered: list[Any] = []
    sync = RestSync(cast(Any, rest), cast(Any, None), cast(Any, None), Limits(),
                    logger=logging.getLogger("test"), reconcile=False, fallback=False,
                    deliver=lambda channel, msg: delivered.append(msg))
    sync.note_trade(trade("seen", 5_000))
    sync.request_backfill("trade", ("KXBTCPERP",), "gap")
    sync.note_trade(trade("revealing", 9_000))  # noted after the request, as the client does
    await sync._step()
    assert sync.errors == 1 and delivered == []
    assert sync._next_timeout() == Limits().fallback_interval  # a retry is scheduled
    await sync._step()
    assert [m.msg.trade_id for m in delivered] == ["missed"]
    assert rest.calls == [("KXBTCPERP", 5), ("KXBTCPERP", 5)]  # the retry reached as far back
    await sync._step()
    assert len(rest.calls) == 2  # done: nothing left to retry
