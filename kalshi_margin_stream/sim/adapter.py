"""Engine views and events -> wire Structs and feed items (the one translation layer).

Pure functions; the server calls them after every engine state change.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ..core.messages import (
    FillBody,
    FundingRate,
    OrderbookDeltaBody,
    OrderbookSnapshotBody,
    OrderGroupBody,
    TickerBody,
    TickerPrice,
    TradeBody,
    UserOrderBody,
)
from ..core.numbers import fmt_count, fmt_dollars
from .engine.events import (
    BookDelta,
    Event,
    FillEvent,
    OrderGroupEvent,
    OrderUpdate,
    PublicTrade,
    TickerUpdate,
)
from .engine.views import BookView, MarketStats, OrderView, PricePoint
from .feed import BookChange, FeedItem, GroupChange, OrderChange, TradePrint, UserFill

__all__ = [
    "BOOK_WORST_FIRST",
    "book_levels",
    "dollars",
    "count",
    "feed_items",
    "snapshot_body",
    "ticker_body",
    "user_order_body",
]

# Live captures list both sides worst -> best (best level last) on REST and WS snapshots
# (rest.md §6.2, websocket.md §6.1); the simulator does the same so clients that trust
# the order break here too. Flip to False for best-first.
BOOK_WORST_FIRST = True


def dollars(value: Decimal) -> Decimal:
    """A price/amount with Kalshi's 4-place minimum (``Decimal`` keeps the exponent)."""
    return Decimal(fmt_dollars(value))


def count(value: Decimal) -> Decimal:
    """A contract count with exactly 2 places."""
    return Decimal(fmt_count(value))


def book_levels(levels: list[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    """Best-first engine levels in wire order, formatted."""
    out = [(dollars(p), count(s)) for p, s in levels]
    return out[::-1] if BOOK_WORST_FIRST else out


def snapshot_body(book: BookView) -> OrderbookSnapshotBody:
    return OrderbookSnapshotBody(market_ticker=book.ticker, bid=book_levels(book.bids),
                                 ask=book_levels(book.asks))


def _tp(point: PricePoint) -> TickerPrice:
    return TickerPrice(price=dollars(point.price), ts_ms=point.ts_ms)


def ticker_body(s: MarketStats) -> TickerBody:
    """The ``ticker`` payload; an empty side reports price 0 (a required field)."""
    zero = Decimal(0)
    return TickerBody(
        market_ticker=s.ticker,
        price=dollars(s.price if s.price is not None else zero),
        bid=dollars(s.bid if s.bid is not None else zero),
        ask=dollars(s.ask if s.ask is not None else zero),
        bid_size_fp=count(s.bid_size),
        ask_size_fp=count(s.ask_size),
        last_trade_size_fp=count(s.last_trade_size),
        volume=count(s.volume),
        volume_notional_value_dollars=dollars(s.volume_notional),
        volume_24h=count(s.volume_24h),
        volume_24h_notional_value_dollars=dollars(s.volume_24h_notional),
        open_interest=count(s.open_interest),
        open_interest_notional_value_dollars=dollars(s.open_interest_notional),
        reference_price=_tp(s.reference_price),
        settlement_mark_price=_tp(s.settlement_mark_price),
        liquidation_mark_price=_tp(s.liquidation_mark_price),
        funding_rate=FundingRate(rate=s.funding_rate, next_funding_time_ms=s.next_funding_time_ms,
                                 ts_ms=s.funding_ts_ms),
        ts_ms=s.ts_ms,
    )


def user_order_body(o: OrderView) -> UserOrderBody:
    return UserOrderBody(
        order_id=o.order_id,
        user_id=o.user_id,
        client_order_id=o.client_order_id,
        ticker=o.ticker,
        side=o.side,
        price=dollars(o.price),
        fill_count=count(o.fill_count),
        remaining_count=count(o.remaining_count),
        created_ts_ms=o.created_ts_ms,
        last_updated_ts_ms=o.last_update_ts_ms,
        expiration_ts_ms=o.expiration_ts_ms,
        self_trade_prevention_type=o.self_trade_prevention_type,
        order_group_id=o.order_group_id or None,
        last_update_reason=o.last_update_reason or None,
        subaccount_number=o.subaccount,
        order_source=o.order_source,
        order_reason=o.order_reason,  # UNCONFIRMED: the AsyncAPI lists it on neither frame
    )


def _feed_one(ev: Event) -> FeedItem | None:
    match ev:
        case BookDelta():
            own = ev.user_id is not None
            body = OrderbookDeltaBody(
                market_ticker=ev.ticker, price_text=fmt_dollars(ev.price),
                delta_text=fmt_count(ev.delta),
                side=ev.side, ts_ms=ev.ts_ms,
                client_order_id=ev.client_order_id if own else None,
                subaccount=ev.subaccount if own else None,
                last_update_reason=(ev.last_update_reason or None) if own else None)
            return BookChange(body, ev.user_id)
        case PublicTrade():
            return TradePrint(TradeBody(trade_id=ev.trade_id, market_ticker=ev.ticker,
                                        price=dollars(ev.price), count=count(ev.count),
                                        taker_side=ev.taker_side, ts_ms=ev.ts_ms))
        case FillEvent():
            return UserFill(ev.user_id, FillBody(
                trade_id=ev.trade_id, order_id=ev.order_id, market_ticker=ev.ticker,
                is_taker=ev.is_taker, side=ev.side, ts_ms=ev.ts_ms, price=dollars(ev.price),
                count=count(ev.count), fee_cost=dollars(ev.fee_cost),
                post_position=count(ev.post_position),
                client_order_id=ev.client_order_id or None, subaccount=ev.subaccount,
                order_source=ev.order_source, order_reason=ev.order_reason))
        case OrderUpdate():
            return OrderChange(ev.order.user_id, user_order_body(ev.order))
        case OrderGroupEvent():
            limit = None if ev.contracts_limit is None else count(ev.contracts_limit)
            return GroupChange(ev.user_id, OrderGroupBody(
                event_type=ev.event_type, order_group_id=ev.order_group_id, ts_ms=ev.ts_ms,
                contracts_limit_fp=limit))
    return None


def feed_items(events: Iterable[Event]) -> tuple[list[FeedItem], dict[str, MarketStats]]:
    """Feed items for the sessions, and the latest stats of markets whose ticker changed."""
    items: list[FeedItem] = []
    tickers: dict[str, MarketStats] = {}
    for ev in events:
        if isinstance(ev, TickerUpdate):
            tickers[ev.stats.ticker] = ev.stats
            continue
        item = _feed_one(ev)
        if item is not None:
            items.append(item)
    return items, tickers
