"""One WebSocket connection's protocol state, without I/O (the server side of websocket.md).

Theory of operation: a :class:`WsSession` receives command text and feed items and
returns :class:`Out` records (a message Struct plus the sid it belongs to). It owns
the subscription table: each subscribed channel gets a fresh ``sid``; sequenced
types (``orderbook_snapshot``, ``orderbook_delta``, ``trade``, ``order_group_updates``)
take the sid's next ``seq``, starting at 1. An orderbook subscription sends one
snapshot per market before any delta. Private items (fills, orders, groups) reach
only the session of their ``user_id``; own-order annotations on book deltas are
stripped for everybody else. Bad commands become ``error`` messages with Kalshi's
codes; nothing raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..core.messages import (
    CHANNELS,
    Fill,
    Message,
    OkBody,
    OkMessage,
    OrderbookDelta,
    OrderbookSnapshot,
    OrderGroupUpdates,
    Subscribed,
    SubscribedBody,
    SubscriptionInfo,
    Ticker,
    TickerBody,
    Trade,
    Unsubscribed,
    UserOrder,
)
from .feed import BookChange, FeedItem, GroupChange, MarketView, OrderChange, TradePrint, UserFill
from .ws_errors import ERROR_TEXT, UNKNOWN_MARKET_CODE, Reject, error_message

__all__ = ["ERROR_TEXT", "Out", "Subscription", "WsSession"]

# ``unsubscribed`` always carries ``seq`` (required, >= 1, in the official AsyncAPI), even
# for a sid that never sent a sequenced message; we then send 1 (UNCONFIRMED).
MIN_UNSUBSCRIBED_SEQ = 1

# Channels that require a market filter, and those that take one at all.
_MARKETS_REQUIRED = {"orderbook_delta"}
_MARKETS_IGNORED = {"order_group_updates"}
# update_subscription actions each channel supports (websocket.md §4.3). ticker/trade
# support for add/delete is undocumented; we allow it (UNCONFIRMED).
_ACTIONS: dict[str, frozenset[str]] = {
    "orderbook_delta": frozenset({"add_markets", "delete_markets", "get_snapshot"}),
    "ticker": frozenset({"add_markets", "delete_markets"}),
    "trade": frozenset({"add_markets", "delete_markets"}),
    "fill": frozenset({"add_markets", "delete_markets"}),
    "user_orders": frozenset({"add_markets", "delete_markets"}),
    "order_group_updates": frozenset(),
}


@dataclass(frozen=True, slots=True)
class Out:
    """One message to send; ``sid`` set for data frames (faults and overflow act on it)."""

    msg: Message
    sid: int | None = None


@dataclass(slots=True)
class Subscription:
    sid: int
    channel: str
    markets: set[str] | None  # None = every market
    seq: int = 0
    skip_ticker_ack: bool = False
    order: list[str] = field(default_factory=list)  # markets in the order they were added

    def covers(self, ticker: str) -> bool:
        return self.markets is None or ticker in self.markets

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


def _error(cmd_id: int | None, code: int, *, market: str | None = None,
           sid: int | None = None) -> Out:
    return Out(error_message(cmd_id, code, market=market, sid=sid))


class WsSession:
    """Subscriptions and sequencing for one authenticated connection of ``user_id``."""

    def __init__(self, user_id: str, view: MarketView, *,
                 market_limit: int | None = None) -> None:
        self.user_id = user_id
        self._view = view
        self._market_limit = market_limit  # markets per subscription before error 26
        self._subs: dict[int, Subscription] = {}
        self._by_channel: dict[str, int] = {}
        self._next_sid = 1

    # --- commands -----------------------------------------------------------

    @property
    def subscriptions(self) -> dict[int, Subscription]:
        return dict(self._subs)

    def has(self, sid: int) -> bool:
        return sid in self._subs

    def receive(self, text: str | bytes) -> list[Out]:
        """Handle one client text frame; returns the answers (never raises)."""
        try:
            raw = msgspec.json.decode(text)
        except msgspec.DecodeError:
            return [_error(None, 1)]
        if not isinstance(raw, dict):
            return [_error(None, 1)]
        cmd_id = raw.get("id")
        if cmd_id is not None and (not isinstance(cmd_id, int) or isinstance(cmd_id, bool)
                                   or cmd_id < 0):
            return [_error(None, 1)]
        cmd = raw.get("cmd")
        if not isinstance(cmd, str):
            return [_error(cmd_id, 1)]
        handler = self._HANDLERS.get(cmd)
        if handler is None:
            return [_error(cmd_id, 5)]
        params = raw.get("params")
        if cmd != "list_subscriptions":
            if params is None:
                return [_error(cmd_id, 2)]
            if not isinstance(params, dict):
                return [_error(cmd_id, 1)]
        try:
            return handler(self, cmd_id, params or {})
        except Reject as rej:
            return [_error(cmd_id, rej.code, market=rej.market, sid=rej.sid)]

    def _markets_param(self, params: dict[str, Any], *, array_only: bool = False) -> list[str]:
        """The tickers named by ``market_ticker``/``market_tickers`` (validated)."""
        names: list[str] = []
        single = params.get("market_ticker")
        many = params.get("market_tickers")
        if single is not None and not array_only:
            if not isinstance(single, str) or not single:
                raise Reject(11)
            names.append(single)
        if many is not None:
            if not isinstance(many, list) or not all(isinstance(t, str) and t for t in many):
                raise Reject(11)
            names.extend(t for t in many if t not in names)
        known = set(self._view.market_tickers())
        for t in names:
            if t not in known:
                raise Reject(UNKNOWN_MARKET_CODE, market=t)
        return names

    def _subscribe(self, cmd_id: int | None, params: dict[str, Any]) -> list[Out]:
        channels = params.get("channels")
        if channels is None or channels == []:
            raise Reject(3)
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise Reject(11)
        for c in channels:
            if c not in CHANNELS:
                raise Reject(8)
        for key in ("send_initial_snapshot", "skip_ticker_ack"):
            if params.get(key) is not None and not isinstance(params[key], bool):
                raise Reject(11)
        markets = self._markets_param(params)
        if not markets and any(c in _MARKETS_REQUIRED for c in channels):
            raise Reject(14)
        out: list[Out] = []
        for channel in dict.fromkeys(channels):
            out.extend(self._subscribe_one(cmd_id, channel, markets, params))
        return out

    def _subscribe_one(self, cmd_id: int | None, channel: str, markets: list[str],
                       params: dict[str, Any]) -> list[Out]:
        wanted = None if (not markets or channel in _MARKETS_IGNORED) else markets
        sid = self._by_channel.get(channel)
        self._check_limit(None if sid is None else self._subs[sid], wanted)
        if sid is None:
            sid = self._next_sid
            self._next_sid += 1
            sub = Subscription(sid, channel, None if wanted is None else set(wanted),
                               skip_ticker_ack=bool(params.get("skip_ticker_ack")))
            sub.order = list(wanted or [])
            self._subs[sid] = sub
            self._by_channel[channel] = sid
            added = wanted if wanted is not None else self._view.market_tickers()
        else:
            # Re-subscribing adds markets to the existing subscription (websocket.md §4.1).
            sub = self._subs[sid]
            added = self._add_markets(sub, wanted)
        out = [Out(Subscribed(msg=SubscribedBody(channel=channel, sid=sid), id=cmd_id))]
        out.extend(self._initial_data(sub, added, params, cmd_id=None))
        return out

    def _check_limit(self, sub: Subscription | None, wanted: list[str] | None, *,
                     sid: int | None = None) -> None:
        """Error 26 when a subscription would carry more than ``market_limit`` markets."""
        if self._market_limit is None or wanted is None:
            return
        if sub is not None and sub.markets is None:
            return  # already every market
        current: set[str] = set() if sub is None or sub.markets is None else sub.markets
        if len(current | set(wanted)) > self._market_limit:
            raise Reject(26, sid=sid)

    def _add_markets(self, sub: Subscription, wanted: list[str] | None) -> list[str]:
        if sub.markets is None:
            return []
        if wanted is None:
            added = [t for t in self._view.market_tickers() if t not in sub.markets]
            sub.markets = None
            sub.order = []
            return added
        added = [t for t in wanted if t not in sub.markets]
        sub.markets.update(added)
        sub.order.extend(added)
        return added

    def _initial_data(self, sub: Subscription, markets: Iterable[str], params: dict[str, Any],
                      *, cmd_id: int | None) -> list[Out]:
        if sub.channel == "orderbook_delta":
            return [self._snapshot(sub, t, cmd_id) for t in markets]
        if sub.channel == "ticker" and params.get("send_initial_snapshot"):
            return [Out(Ticker(sid=sub.sid, msg=self._view.ticker_body(t)), sub.sid)
                    for t in markets]
        return []

    def _snapshot(self, sub: Subscription, ticker: str, cmd_id: int | None) -> Out:
        body = self._view.book_snapshot(ticker)
        return Out(OrderbookSnapshot(sid=sub.sid, seq=sub.next_seq(), msg=body, id=cmd_id),
                   sub.sid)

    def _unsubscribe(self, cmd_id: int | None, params: dict[str, Any]) -> list[Out]:
        sids = params.get("sids")
        if sids is None or sids == []:
            raise Reject(4)
        if not isinstance(sids, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) for s in sids):
            raise Reject(11)
        out: list[Out] = []
        for sid in dict.fromkeys(sids):
            sub = self._subs.get(sid)
            if sub is None:
                out.append(_error(cmd_id, 7, sid=sid))
                continue
            self._drop(sid)
            seq = max(sub.seq, MIN_UNSUBSCRIBED_SEQ)
            out.append(Out(Unsubscribed(sid=sid, id=cmd_id, seq=seq)))
        return out

    def _update(self, cmd_id: int | None, params: dict[str, Any]) -> list[Out]:
        action = params.get("action")
        if action is None:
            raise Reject(15)
        if not isinstance(action, str):
            raise Reject(11)
        sid = self._one_sid(params)
        sub = self._subs.get(sid)
        if sub is None:
            raise Reject(7, sid=sid)
        if action not in _ACTIONS[sub.channel]:
            raise Reject(13, sid=sid)
        if action == "get_snapshot":
            # Only market_tickers (an array) is accepted for get_snapshot (websocket.md §4.3).
            # The snapshot takes the sid's next seq (UNCONFIRMED, websocket.md §10).
            markets = self._markets_param(params, array_only=True)
            if not markets:
                raise Reject(14, sid=sid)
            return [self._snapshot(sub, t, cmd_id) for t in markets]
        markets = self._markets_param(params)
        if not markets:
            raise Reject(14, sid=sid)
        out: list[Out] = []
        if action == "add_markets":
            self._check_limit(sub, markets, sid=sid)
            added = self._add_markets(sub, markets)
            out.extend(self._initial_data(sub, added, params, cmd_id=None))
        else:
            if sub.markets is None:
                sub.order = list(self._view.market_tickers())
                sub.markets = set(sub.order)
            sub.markets.difference_update(markets)
            sub.order = [t for t in sub.order if t in sub.markets]
        body = None if sub.skip_ticker_ack else OkBody(market_tickers=self._listed(sub))
        out.insert(0, Out(OkMessage(id=cmd_id, sid=sid, seq=sub.seq or None, msg=body)))
        return out

    def _one_sid(self, params: dict[str, Any]) -> int:
        sid = params.get("sid")
        sids = params.get("sids")
        if sid is not None and sids is not None:
            raise Reject(12)
        if sids is not None:
            if not isinstance(sids, list) or len(sids) != 1:
                raise Reject(12)
            sid = sids[0]
        if sid is None:
            raise Reject(12)
        if not isinstance(sid, int) or isinstance(sid, bool):
            raise Reject(11)
        return sid

    def _listed(self, sub: Subscription) -> list[str]:
        return list(self._view.market_tickers()) if sub.markets is None else list(sub.order)

    def _list(self, cmd_id: int | None, params: dict[str, Any]) -> list[Out]:
        infos = [SubscriptionInfo(channel=s.channel, sid=s.sid) for s in self._subs.values()]
        return [Out(OkMessage(id=cmd_id, msg=infos))]

    _HANDLERS = {
        "subscribe": _subscribe,
        "unsubscribe": _unsubscribe,
        "update_subscription": _update,
        "list_subscriptions": _list,
    }

    def _drop(self, sid: int) -> None:
        sub = self._subs.pop(sid)
        if self._by_channel.get(sub.channel) == sid:
            del self._by_channel[sub.channel]

    def internal_error(self) -> Out:
        """The answer when handling a command failed unexpectedly (code 1, no sid)."""
        return _error(None, 1)

    def kill(self, sid: int, code: int = 25) -> Out | None:
        """End ``sid`` with a terminal error (25 = buffer overflow); None if unknown."""
        sub = self._subs.get(sid)
        if sub is None:
            return None
        self._drop(sid)
        return Out(error_message(None, code, sid=sid, seq=sub.seq or None))

    # --- data -----------------------------------------------------------------

    def _sub_for(self, channel: str) -> Subscription | None:
        sid = self._by_channel.get(channel)
        return None if sid is None else self._subs[sid]

    def on_feed(self, item: FeedItem) -> list[Out]:
        """Frames this session gets for one exchange event (possibly none)."""
        match item:
            case BookChange(body=body, owner=owner):
                sub = self._sub_for("orderbook_delta")
                if sub is None or not sub.covers(body.market_ticker):
                    return []
                if owner != self.user_id and (body.client_order_id is not None
                                              or body.subaccount is not None
                                              or body.last_update_reason is not None):
                    body = msgspec.structs.replace(body, client_order_id=None, subaccount=None,
                                                   last_update_reason=None)
                return [Out(OrderbookDelta(sid=sub.sid, seq=sub.next_seq(), msg=body), sub.sid)]
            case TradePrint(body=tbody):
                sub = self._sub_for("trade")
                if sub is None or not sub.covers(tbody.market_ticker):
                    return []
                return [Out(Trade(sid=sub.sid, seq=sub.next_seq(), msg=tbody), sub.sid)]
            case UserFill(user_id=uid, body=fbody):
                sub = self._sub_for("fill")
                if uid != self.user_id or sub is None or not sub.covers(fbody.market_ticker):
                    return []
                return [Out(Fill(sid=sub.sid, msg=fbody), sub.sid)]
            case OrderChange(user_id=uid, body=obody):
                sub = self._sub_for("user_orders")
                if uid != self.user_id or sub is None or not sub.covers(obody.ticker):
                    return []
                return [Out(UserOrder(sid=sub.sid, msg=obody), sub.sid)]
            case GroupChange(user_id=uid, body=gbody):
                sub = self._sub_for("order_group_updates")
                if uid != self.user_id or sub is None:
                    return []
                return [Out(OrderGroupUpdates(sid=sub.sid, seq=sub.next_seq(), msg=gbody),
                            sub.sid)]
        return []  # pragma: no cover - FeedItem is closed

    def on_tickers(self, bodies: Iterable[TickerBody]) -> list[Out]:
        """Coalesced ticker frames for the markets that changed."""
        sub = self._sub_for("ticker")
        if sub is None:
            return []
        return [Out(Ticker(sid=sub.sid, msg=b), sub.sid) for b in bodies
                if sub.covers(b.market_ticker)]
