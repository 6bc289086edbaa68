"""Typed messages of the margin WebSocket: what the server sends, what we send.

Field names follow the wire (``/trade-api/ws/v2/margin``). Every timestamp is an
int of Unix milliseconds (``ts_ms``, ``*_ts_ms``, ``sending_ts_ms``). Every
price, amount and count is a :class:`decimal.Decimal` (see ``numbers.py``).
Unknown fields are ignored, so new server fields never break decoding. The
simulator encodes these same Structs, so client and server cannot drift.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

__all__ = [
    "CHANNELS",
    "CHANNEL_OF",
    "DataMessage",
    "Channel",
    "ClientCommand",
    "ErrorBody",
    "ErrorMessage",
    "Fill",
    "FillBody",
    "FundingRate",
    "ListSubscriptions",
    "Message",
    "OkBody",
    "OkMessage",
    "OrderGroupBody",
    "OrderGroupUpdates",
    "OrderbookDelta",
    "OrderbookDeltaBody",
    "OrderbookSnapshot",
    "OrderbookSnapshotBody",
    "ServerMessage",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "Subscribe",
    "SubscribeParams",
    "Subscribed",
    "SubscribedBody",
    "SubscriptionInfo",
    "Ticker",
    "TickerBody",
    "TickerPrice",
    "Trade",
    "TradeBody",
    "Unsubscribe",
    "UnsubscribeParams",
    "Unsubscribed",
    "UpdateSubscription",
    "UpdateSubscriptionParams",
    "UserOrder",
    "UserOrderBody",
]

Side = Literal["bid", "ask"]
TimeInForce = Literal["fill_or_kill", "good_till_canceled", "immediate_or_cancel"]
SelfTradePrevention = Literal["taker_at_cross", "maker"]
"""The wire's order vocabulary, one definition for the WS messages, the REST models
and the simulator's engine."""
Channel = Literal[
    "orderbook_delta", "ticker", "trade", "fill", "user_orders", "order_group_updates"
]
CHANNELS: tuple[Channel, ...] = (
    "orderbook_delta", "ticker", "trade", "fill", "user_orders", "order_group_updates"
)

Level = tuple[Decimal, Decimal]
"""One book level on the wire: ``[price, size]``."""


class _Body(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A ``msg`` payload.

    ``gc=False`` (here and on :class:`Message`): these Structs hold only strings,
    numbers, Decimals and lists of them, so they can never be part of a reference
    cycle; not tracking them makes decoding ~6 % faster (benchmarks/).
    """


class Message(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True,
              tag_field="type", gc=False):
    """A server message; ``type`` is the tag."""

    sending_ts_ms: int | None = None


# --- responses -------------------------------------------------------------


class SubscribedBody(_Body, frozen=True):
    channel: str
    sid: int


class Subscribed(Message, tag="subscribed", frozen=True):
    msg: SubscribedBody
    id: int | None = None


class Unsubscribed(Message, tag="unsubscribed", frozen=True):
    sid: int
    id: int | None = None
    seq: int | None = None


class OkBody(_Body, frozen=True):
    market_tickers: list[str] | None = None
    market_ids: list[str] | None = None


class SubscriptionInfo(_Body, frozen=True):
    """One entry of the ``list_subscriptions`` answer."""

    channel: str
    sid: int


class OkMessage(Message, tag="ok", frozen=True):
    """``ok``: after ``update_subscription`` (an object) or ``list_subscriptions`` (an array)."""

    id: int | None = None
    sid: int | None = None
    seq: int | None = None
    msg: OkBody | list[SubscriptionInfo] | None = None


class ErrorBody(_Body, frozen=True):
    code: int
    msg: str = ""
    market_ticker: str | None = None
    market_tickers: list[str] | None = None


class ErrorMessage(Message, tag="error", frozen=True):
    msg: ErrorBody
    id: int | None = None
    sid: int | None = None
    seq: int | None = None


# --- orderbook_delta channel -------------------------------------------------


class OrderbookSnapshotBody(_Body, frozen=True):
    market_ticker: str
    bid: list[Level] = []
    ask: list[Level] = []


class OrderbookSnapshot(Message, tag="orderbook_snapshot", frozen=True):
    sid: int
    seq: int
    msg: OrderbookSnapshotBody
    id: int | None = None


class OrderbookDeltaBody(_Body, frozen=True):
    """One level change. ``price`` and ``delta`` read as exact ``Decimal``.

    The hot frame of the socket: its two numbers are decoded as the wire's text
    (``price_text``, ``delta_text``; on the wire still ``"price"``/``"delta"``),
    which the books turn into integer ticks through a cache. A ``Decimal`` is
    built only when someone reads ``.price``/``.delta``, which saves about half
    of the frame's decode time (benchmarks/README.md). A text that is not a
    decimal number is caught by the book (a desync, then a resync).
    """

    market_ticker: str
    price_text: str = msgspec.field(name="price")
    delta_text: str = msgspec.field(name="delta")
    side: Side
    ts_ms: int | None = None
    client_order_id: str | None = None
    subaccount: int | None = None
    last_update_reason: str | None = None

    @property
    def price(self) -> Decimal:
        """The level's price (dollars per contract)."""
        return Decimal(self.price_text)

    @property
    def delta(self) -> Decimal:
        """The signed change of the resting size."""
        return Decimal(self.delta_text)


class OrderbookDelta(Message, tag="orderbook_delta", frozen=True):
    sid: int
    seq: int
    msg: OrderbookDeltaBody


# --- ticker channel --------------------------------------------------------------


class TickerPrice(_Body, frozen=True):
    price: Decimal
    ts_ms: int | None = None


class FundingRate(_Body, frozen=True):
    """Current funding-rate estimate; ``rate`` is a JSON number on the wire."""

    rate: Decimal
    next_funding_time_ms: int | None = None
    ts_ms: int | None = None


class TickerBody(_Body, frozen=True):
    market_ticker: str
    price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    bid_size_fp: Decimal | None = None
    ask_size_fp: Decimal | None = None
    last_trade_size_fp: Decimal | None = None
    volume: Decimal | None = None
    volume_notional_value_dollars: Decimal | None = None
    volume_24h: Decimal | None = None
    volume_24h_notional_value_dollars: Decimal | None = None
    open_interest: Decimal | None = None
    open_interest_notional_value_dollars: Decimal | None = None
    reference_price: TickerPrice | None = None
    settlement_mark_price: TickerPrice | None = None
    liquidation_mark_price: TickerPrice | None = None
    funding_rate: FundingRate | None = None
    ts_ms: int | None = None


class Ticker(Message, tag="ticker", frozen=True):
    sid: int
    msg: TickerBody


# --- trade channel -----------------------------------------------------------------


class TradeBody(_Body, frozen=True):
    trade_id: str
    market_ticker: str
    price: Decimal
    count: Decimal
    taker_side: Side
    ts_ms: int


class Trade(Message, tag="trade", frozen=True):
    sid: int
    msg: TradeBody
    seq: int | None = None


# --- private channels ---------------------------------------------------------------


class FillBody(_Body, frozen=True):
    trade_id: str
    order_id: str
    market_ticker: str
    is_taker: bool
    side: Side
    ts_ms: int
    price: Decimal
    count: Decimal
    fee_cost: Decimal
    post_position: Decimal
    client_order_id: str | None = None
    subaccount: int | None = None
    order_source: str | None = None
    order_reason: str | None = None
    """System fills: ``liquidation`` | ``take_profit_stop_loss`` (not in the AsyncAPI)."""


class Fill(Message, tag="fill", frozen=True):
    sid: int
    msg: FillBody


class UserOrderBody(_Body, frozen=True):
    order_id: str
    ticker: str
    side: Side
    price: Decimal
    fill_count: Decimal
    remaining_count: Decimal
    user_id: str | None = None
    client_order_id: str | None = None
    created_ts_ms: int | None = None
    last_updated_ts_ms: int | None = None
    expiration_ts_ms: int | None = None
    self_trade_prevention_type: str | None = None
    order_group_id: str | None = None
    last_update_reason: str | None = None
    subaccount_number: int | None = None
    order_source: str | None = None
    order_reason: str | None = None
    """System orders: ``liquidation`` | ``take_profit_stop_loss`` (not in the AsyncAPI)."""


class UserOrder(Message, tag="user_order", frozen=True):
    sid: int
    msg: UserOrderBody


class OrderGroupBody(_Body, frozen=True):
    event_type: str
    order_group_id: str
    ts_ms: int | None = None
    contracts_limit_fp: Decimal | None = None


class OrderGroupUpdates(Message, tag="order_group_updates", frozen=True):
    sid: int
    seq: int
    msg: OrderGroupBody


ServerMessage = (
    Subscribed | Unsubscribed | OkMessage | ErrorMessage | OrderbookSnapshot | OrderbookDelta
    | Ticker | Trade | Fill | UserOrder | OrderGroupUpdates
)
"""Every message type the margin socket sends."""

DataMessage = (
    OrderbookSnapshot | OrderbookDelta | Ticker | Trade | Fill | UserOrder | OrderGroupUpdates
)
"""The messages that carry channel data (as opposed to command answers)."""

CHANNEL_OF: dict[type, str] = {
    OrderbookSnapshot: "orderbook_delta", OrderbookDelta: "orderbook_delta", Ticker: "ticker",
    Trade: "trade", Fill: "fill", UserOrder: "user_orders",
    OrderGroupUpdates: "order_group_updates",
}
"""The channel each data message type belongs to."""


# --- commands ---------------------------------------------------------------------


class Command(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag_field="cmd"):
    """A client command; ``cmd`` is the tag, ``id`` is echoed on the answer."""

    id: int


class SubscribeParams(_Body, frozen=True):
    channels: list[str]
    market_ticker: str | None = None
    market_tickers: list[str] | None = None
    send_initial_snapshot: bool | None = None
    skip_ticker_ack: bool | None = None


class Subscribe(Command, tag="subscribe", frozen=True):
    params: SubscribeParams


class UnsubscribeParams(_Body, frozen=True):
    sids: list[int]


class Unsubscribe(Command, tag="unsubscribe", frozen=True):
    params: UnsubscribeParams


class UpdateSubscriptionParams(_Body, frozen=True):
    action: str | None = None
    sid: int | None = None
    sids: list[int] | None = None
    market_ticker: str | None = None
    market_tickers: list[str] | None = None
    send_initial_snapshot: bool | None = None


class UpdateSubscription(Command, tag="update_subscription", frozen=True):
    params: UpdateSubscriptionParams


class ListSubscriptions(Command, tag="list_subscriptions", frozen=True):
    pass


ClientCommand = Subscribe | Unsubscribe | UpdateSubscription | ListSubscriptions
"""Every command a client can send."""
