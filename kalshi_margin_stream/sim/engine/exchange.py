"""The simulated exchange: one object, pure and synchronous.

Theory of operation: the caller owns the clock and passes ``now_ms`` to every call that
can change state; randomness comes only from ``random.Random(seed)`` (ids). Each
mutating call returns the resulting :mod:`events` in the order they happened, so a
server can fan them out to WS channels without peeking at internals. Refused requests
raise :class:`~.errors.Rejection` (Kalshi's status, code, message, details) and leave
the state untouched.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from . import accounts, clock, groups, queries, trading, triggers
from .audit import audit, ledger_totals
from .config import ExchangeConfig
from .errors import invalid_parameters, not_found
from .events import Event, FillEvent, FundingPayment, PublicTrade
from .results import CancelResult, GroupResult, OrderResult
from .state import Ctx, State
from .triggers import ExitTriggerView
from .views import (
    BalanceView,
    BookView,
    ExchangeStatus,
    FeeTiers,
    FundingEstimate,
    FundingRateRecord,
    MarketStats,
    NotionalLimitView,
    OrderGroupView,
    OrderView,
    Page,
    PositionView,
    RiskParameters,
    RiskView,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TransferView,
)

__all__ = ["Exchange"]


def _prepend(pre: list[Event], res: OrderResult) -> OrderResult:
    return res if not pre else replace(res, events=pre + res.events)


class Exchange:
    """A Kalshi-like margin exchange held in memory.

    Args:
        config: markets and exchange-wide settings (default: :class:`ExchangeConfig()`).
        seed: seeds the id generator; same seed + same calls -> same ids and events.
        now_ms: the clock's starting value (epoch ms); funding times are counted from it.
    """

    def __init__(self, config: ExchangeConfig | None = None, *, seed: int = 0,
                 now_ms: int = 0) -> None:
        self._st = State(config or ExchangeConfig(), seed, now_ms)

    # ------------------------------------------------------------------ accounts
    def add_user(self, user_id: str | None = None, *, cash: Decimal | None = None,
                 synthetic: bool = False) -> str:
        """Open an account (idempotent) with ``cash`` in subaccount 0; returns the user id.

        ``user_id`` None -> a fresh UUID from the seeded generator. ``synthetic`` marks a
        simulated participant (no notional limit, never liquidated).
        """
        return accounts.add_user(self._st, user_id, cash, synthetic)

    def has_user(self, user_id: str) -> bool:
        return user_id in self._st.accounts

    def deposit(self, user_id: str, amount: Decimal, *, subaccount: int = 0) -> None:
        """Add (or with a negative amount, remove) margin cash: an admin/scenario knob."""
        accounts.deposit(self._st, user_id, amount, subaccount)

    def create_subaccount(self, user_id: str) -> int:
        """Next numbered subaccount (1..63); 400 ``invalid_parameters`` when all exist."""
        return accounts.create_subaccount(self._st, user_id)

    def subaccounts(self, user_id: str) -> list[int]:
        return sorted(self._st.account(user_id).subaccounts)

    def transfer_between_subaccounts(self, user_id: str, *, client_transfer_id: str,
                                     from_subaccount: int, to_subaccount: int,
                                     amount_cents: int) -> None:
        """Move cash between two of the user's subaccounts.

        Raises:
            Rejection: 409 ``transfer_already_applied`` on a reused ``client_transfer_id``;
                400 for unknown subaccounts, non-positive amounts or too little cash.
        """
        accounts.transfer_between(self._st, user_id, client_transfer_id=client_transfer_id,
                                  from_subaccount=from_subaccount, to_subaccount=to_subaccount,
                                  amount_cents=amount_cents)

    def intra_exchange_transfer(self, user_id: str, *, source: str, destination: str,
                                amount_centicents: int, client_transfer_id: str | None,
                                now_ms: int) -> TransferView:
        """Move cash between the event-contract balance and margin subaccount 0.

        ``source``/``destination``: ``"event_contract"`` | ``"margined"``. Completed at
        once (status ``"complete"``). A repeated ``client_transfer_id`` returns the
        original transfer.
        """
        self._st.tick(now_ms)
        return accounts.intra_exchange(self._st, user_id, source=source,
                                       destination=destination,
                                       amount_centicents=amount_centicents,
                                       client_transfer_id=client_transfer_id,
                                       now_ms=self._st.now_ms)

    def get_transfer(self, user_id: str, transfer_id: str) -> TransferView:
        return accounts.get_transfer(self._st, user_id, transfer_id)

    def list_transfers(self, user_id: str, *, limit: int = 100,
                       cursor: str | None = None) -> Page[TransferView]:
        return accounts.list_transfers(self._st, user_id, limit, cursor)

    # ------------------------------------------------------------------ orders
    def create_order(self, user_id: str, *, ticker: str, client_order_id: str, side: Side,
                     count: Decimal, price: Decimal, time_in_force: TimeInForce,
                     self_trade_prevention_type: SelfTradePrevention = "taker_at_cross",
                     post_only: bool = False, reduce_only: bool = False, subaccount: int = 0,
                     order_group_id: str | None = None, expiration_ts_ms: int | None = None,
                     cancel_order_on_pause: bool = False, market_version: int | None = None,
                     now_ms: int) -> OrderResult:
        """Validate, match (price-time priority) and rest the remainder (GTC).

        Raises:
            Rejection: 400 ``invalid_order`` (precision/tick/size/reduce_only+GTC),
                400 ``invalid_price`` (band), 400 ``NOTIONAL_RISK_LIMIT_EXCEEDED``
                (notional limit or margin), 404 ``not_found`` (market/group),
                409 ``order_already_exists``, 409 ``market_version_mismatch``,
                409 ``trading_is_paused``.
        """
        st = self._st
        acct = st.account(user_id)
        pre = clock.catch_up(st, now_ms)
        return _prepend(pre, trading.create_order(
            st, acct, ticker=ticker, client_order_id=client_order_id, side=side, count=count,
            price=price, time_in_force=time_in_force, stp=self_trade_prevention_type,
            post_only=post_only, reduce_only=reduce_only, subaccount=subaccount,
            order_group_id=order_group_id, expiration_ts_ms=expiration_ts_ms,
            cancel_order_on_pause=cancel_order_on_pause, market_version=market_version,
            now_ms=st.now_ms))

    def amend_order(self, user_id: str, order_id: str, *, ticker: str, side: Side,
                    price: Decimal, count: Decimal, subaccount: int = 0,
                    updated_client_order_id: str | None = None,
                    expiration_ts_ms: int | None = None, now_ms: int) -> OrderResult:
        """Change price and/or total size (``count`` = fill_count + new remaining).

        Keeps queue priority only for a pure size decrease. ``expiration_ts_ms``: None
        keeps, 0 clears. May match if the new price crosses.
        """
        st = self._st
        acct = st.account(user_id)
        pre = clock.catch_up(st, now_ms)
        return _prepend(pre, trading.amend_order(
            st, acct, order_id, ticker=ticker, side=side, price=price, count=count,
            subaccount=subaccount, updated_client_order_id=updated_client_order_id,
            expiration_ts_ms=expiration_ts_ms, now_ms=st.now_ms))

    def decrease_order(self, user_id: str, order_id: str, *, reduce_by: Decimal | None = None,
                       reduce_to: Decimal | None = None, subaccount: int = 0,
                       now_ms: int) -> OrderResult:
        """Shrink the resting size (exactly one of reduce_by / reduce_to); keeps priority."""
        st = self._st
        acct = st.account(user_id)
        pre = clock.catch_up(st, now_ms)
        return _prepend(pre, trading.decrease_order(
            st, acct, order_id, reduce_by=reduce_by, reduce_to=reduce_to,
            subaccount=subaccount, now_ms=st.now_ms))

    def cancel_order(self, user_id: str, order_id: str, *, subaccount: int = 0,
                     now_ms: int) -> CancelResult:
        """Cancel the remainder (404 ``not_found`` if unknown or already finished)."""
        st = self._st
        acct = st.account(user_id)
        pre = clock.catch_up(st, now_ms)
        res = trading.cancel_order(st, acct, order_id, subaccount=subaccount, now_ms=st.now_ms)
        return res if not pre else replace(res, events=pre + res.events)

    def cancel_all_orders(self, user_id: str, *, subaccount: int | None = None,
                          now_ms: int) -> list[Event]:
        """Cancel every resting order of the user (one subaccount, or all when None)."""
        st = self._st
        acct = st.account(user_id)
        pre = clock.catch_up(st, now_ms)
        return pre + trading.cancel_all(st, acct, subaccount=subaccount, now_ms=st.now_ms)

    def get_order(self, user_id: str, order_id: str) -> OrderView:
        """One of the user's orders (404 ``not_found`` otherwise)."""
        o = self._st.orders.get(order_id)
        if o is None or o.user_id != user_id:
            raise not_found(f"order {order_id}")
        return o.view()

    def list_orders(self, user_id: str, *, ticker: str | None = None,
                    status: str | None = None, subaccount: int | None = None,
                    min_ts_ms: int | None = None, max_ts_ms: int | None = None,
                    limit: int = 10000, cursor: str | None = None) -> Page[OrderView]:
        """The user's orders, newest first. ``status``: resting|executed|canceled|open
        (open = resting); any other value filters nothing (the demo ignored it)."""
        return queries.list_orders(self._st, user_id, ticker, status, subaccount, min_ts_ms,
                                   max_ts_ms, limit, cursor)

    # ------------------------------------------------------------------ order groups
    def create_order_group(self, user_id: str, *, contracts_limit: Decimal,
                           subaccount: int = 0, exchange_index: int = 0,
                           now_ms: int) -> GroupResult:
        st = self._st
        acct = st.account(user_id)
        st.tick(now_ms)
        return groups.create(st, acct, contracts_limit=contracts_limit, subaccount=subaccount,
                             exchange_index=exchange_index, now_ms=st.now_ms)

    def get_order_group(self, user_id: str, order_group_id: str, *,
                        subaccount: int | None = None) -> OrderGroupView:
        return groups.view(self._st, groups.get(self._st, user_id, order_group_id, subaccount))

    def list_order_groups(self, user_id: str, *,
                          subaccount: int | None = None) -> list[OrderGroupView]:
        st = self._st
        st.account(user_id)
        return [groups.view(st, g) for g in st.groups.values()
                if g.user_id == user_id and subaccount in (None, g.subaccount)]

    def trigger_order_group(self, user_id: str, order_group_id: str, *,
                            subaccount: int | None = None, now_ms: int) -> list[Event]:
        """Kill switch: cancel the group's resting orders, block new ones until reset."""
        g = groups.get(self._st, user_id, order_group_id, subaccount)
        self._st.tick(now_ms)
        return groups.trigger(self._st, g, self._st.now_ms)

    def reset_order_group(self, user_id: str, order_group_id: str, *,
                          subaccount: int | None = None, now_ms: int) -> list[Event]:
        g = groups.get(self._st, user_id, order_group_id, subaccount)
        self._st.tick(now_ms)
        return groups.reset(self._st, g, self._st.now_ms)

    def delete_order_group(self, user_id: str, order_group_id: str, *,
                           subaccount: int | None = None, now_ms: int) -> list[Event]:
        g = groups.get(self._st, user_id, order_group_id, subaccount)
        self._st.tick(now_ms)
        return groups.delete(self._st, g, self._st.now_ms)

    def update_order_group_limit(self, user_id: str, order_group_id: str, *,
                                 contracts_limit: Decimal, subaccount: int | None = None,
                                 now_ms: int) -> list[Event]:
        """New limit; triggers at once if the rolling usage already reaches it."""
        g = groups.get(self._st, user_id, order_group_id, subaccount)
        self._st.tick(now_ms)
        return groups.update_limit(self._st, g, contracts_limit, self._st.now_ms)

    # ------------------------------------------------------------------ exit triggers
    def set_exit_trigger(self, user_id: str, *, scope: triggers.Scope, ticker: str,
                         kind: triggers.Kind = "bracket", subaccount: int = 0,
                         stop_loss_price: Decimal | None = None,
                         take_profit_price: Decimal | None = None,
                         trail_amount: Decimal | None = None, trail_bps: int | None = None,
                         count: Decimal | None = None, anchor_order_id: str | None = None,
                         client_trigger_id: str | None = None,
                         now_ms: int) -> tuple[ExitTriggerView, list[Event]]:
        """Set a bracket or trailing stop (``scope`` isolated|cross; see :mod:`.triggers`).

        The trigger is evaluated at once, so it may fire in this call (its events are
        returned). Raises ``Rejection`` 400/404/409 as the module documents.
        """
        st = self._st
        if scope == "isolated":
            subaccount = triggers.ISOLATED_SUBACCOUNT
        pre = clock.catch_up(st, now_ms)
        ctx = Ctx(st.now_ms)
        t = triggers.set_trigger(
            st, ctx, user_id, scope=scope, ticker=ticker, subaccount=subaccount, kind=kind,
            stop_loss=stop_loss_price, take_profit=take_profit_price,
            trail_amount=trail_amount, trail_bps=trail_bps, count=count,
            anchor_order_id=anchor_order_id, client_trigger_id=client_trigger_id)
        events = trading.wrap_up(st, ctx)
        return t.view(st.markets[ticker].cfg.tick_size), pre + events

    def exit_triggers(self, user_id: str, *, scope: triggers.Scope, ticker: str,
                      subaccount: int = 0,
                      kind: triggers.Kind | None = None) -> list[ExitTriggerView]:
        """The live triggers of one position slot, oldest first."""
        st = self._st
        tick = st.market(ticker).cfg.tick_size
        st.account(user_id)
        if scope == "isolated":
            subaccount = triggers.ISOLATED_SUBACCOUNT
        return [t.view(tick) for t in triggers.live_triggers(st, user_id, scope, subaccount,
                                                             ticker, kind)]

    def exit_trigger(self, user_id: str, trigger_id: str) -> ExitTriggerView:
        """Any trigger of the user, live or finished (404 otherwise): for tests/admin."""
        t = self._st.exit_triggers.get(trigger_id)
        if t is None or t.user_id != user_id:
            raise not_found(f"exit trigger {trigger_id}")
        return t.view(self._st.markets[t.ticker].cfg.tick_size)

    def update_exit_trigger(self, user_id: str, *, ticker: str, trigger_id: str,
                            subaccount: int = 0, stop_loss_price: Decimal | None = None,
                            take_profit_price: Decimal | None = None,
                            now_ms: int) -> tuple[ExitTriggerView, list[Event]]:
        """New leg prices for one cross bracket (an omitted leg is cleared)."""
        st = self._st
        pre = clock.catch_up(st, now_ms)
        ctx = Ctx(st.now_ms)
        t = triggers.update_trigger(st, ctx, user_id, ticker=ticker, subaccount=subaccount,
                                    trigger_id=trigger_id, stop_loss=stop_loss_price,
                                    take_profit=take_profit_price)
        events = trading.wrap_up(st, ctx)
        return t.view(st.markets[ticker].cfg.tick_size), pre + events

    def delete_exit_triggers(self, user_id: str, *, scope: triggers.Scope, ticker: str,
                             subaccount: int = 0, kind: triggers.Kind | None = None,
                             trigger_id: str | None = None, now_ms: int) -> list[Event]:
        """Cancel a slot's live triggers (of one kind), or one cross bracket by id."""
        st = self._st
        pre = clock.catch_up(st, now_ms)
        ctx = Ctx(st.now_ms)
        if scope == "isolated":
            subaccount = triggers.ISOLATED_SUBACCOUNT
        if trigger_id is not None:
            triggers.delete_by_id(st, ctx, user_id, ticker=ticker, subaccount=subaccount,
                                  trigger_id=trigger_id)
        else:
            triggers.delete_triggers(st, ctx, user_id, scope=scope, ticker=ticker,
                                     subaccount=subaccount, kind=kind)
        return pre + trading.wrap_up(st, ctx)

    # ------------------------------------------------------------------ clock, scenarios
    def advance_to(self, now_ms: int) -> list[Event]:
        """Move the clock: expire orders, settle every funding time passed, liquidate."""
        return clock.advance_to(self._st, now_ms)

    def apply_funding(self, now_ms: int) -> list[Event]:
        """Same as :meth:`advance_to` (name kept for the brief)."""
        return clock.advance_to(self._st, now_ms)

    def move_price(self, ticker: str, new_reference: Decimal, *, now_ms: int) -> list[Event]:
        """Set the underlying reference price (marks follow; may trigger liquidations).

        Raises:
            Rejection: 404 unknown market, 400 ``invalid_parameters`` for a price <= 0.
        """
        return clock.move_price(self._st, ticker, new_reference, now_ms)

    def set_trading_active(self, active: bool, *, now_ms: int) -> list[Event]:
        """Pause/resume trading (paused: orders get 409 ``trading_is_paused``;
        ``cancel_order_on_pause`` orders are cancelled)."""
        return clock.set_trading_active(self._st, active, now_ms)

    def set_notional_limit(self, user_id: str, limit: Decimal, *,
                           ticker: str | None = None) -> None:
        """Scenario knob: the user's default notional risk limit, or one market's override."""
        acct = self._st.account(user_id)
        if not isinstance(limit, Decimal) or not limit.is_finite() or limit < 0:
            raise invalid_parameters("limit must be a non-negative decimal")
        if ticker is None:
            acct.notional_limit = limit
        else:
            self._st.market(ticker)
            acct.market_limits[ticker] = limit

    def set_market_status(self, ticker: str, status: str, *, now_ms: int) -> list[Event]:
        """Scenario knob: ``active`` | ``inactive`` | ``closed`` (orders need ``active``)."""
        return clock.set_market_status(self._st, ticker, status, now_ms)

    # ------------------------------------------------------------------ queries
    @property
    def config(self) -> ExchangeConfig:
        return self._st.config

    @property
    def now_ms(self) -> int:
        """The latest clock value seen."""
        return self._st.now_ms

    def status(self) -> ExchangeStatus:
        return ExchangeStatus(exchange_active=self._st.exchange_active,
                              trading_active=self._st.trading_active)

    def markets(self) -> list[MarketStats]:
        st = self._st
        return [m.stats(st.now_ms) for m in st.markets.values()]

    def market(self, ticker: str) -> MarketStats:
        """404 ``not_found`` for an unknown ticker."""
        return self._st.market(ticker).stats(self._st.now_ms)

    def best_prices(self, ticker: str) -> tuple[Decimal | None, Decimal | None, Decimal]:
        """``(best bid, best ask, reference price)``: a cheap read for hot loops."""
        m = self._st.market(ticker)
        return m.book.best_bid(), m.book.best_ask(), m.reference.price

    def tick_size(self, ticker: str) -> Decimal:
        return self._st.market(ticker).cfg.tick_size

    def orderbook(self, ticker: str, *, depth: int = 0) -> BookView:
        """Aggregated levels, best first; ``depth`` 0 = all levels."""
        return queries.orderbook(self._st, ticker, depth)

    def trades(self, *, ticker: str | None = None, min_ts_ms: int | None = None,
               max_ts_ms: int | None = None, limit: int = 100,
               cursor: str | None = None) -> Page[PublicTrade]:
        """Public trades, newest first, with a stable cursor."""
        if limit > 1000:
            raise invalid_parameters("limit must be 1..1000")
        return queries.trades(self._st, ticker, min_ts_ms, max_ts_ms, limit, cursor)

    def fills(self, user_id: str, *, subaccount: int | None = 0, ticker: str | None = None,
              min_ts_ms: int | None = None, max_ts_ms: int | None = None, limit: int = 100,
              cursor: str | None = None) -> Page[FillEvent]:
        """The user's fills, newest first (``subaccount`` None = all)."""
        return queries.fills(self._st, user_id, subaccount, ticker, min_ts_ms, max_ts_ms,
                             limit, cursor)

    def positions(self, user_id: str, *, subaccount: int | None = None,
                  ticker: str | None = None) -> list[PositionView]:
        """Open (non-zero) positions."""
        return queries.positions(self._st, user_id, subaccount, ticker)

    def balance(self, user_id: str) -> BalanceView:
        return queries.balance(self._st, user_id)

    def risk(self, user_id: str, *, subaccount: int | None = None) -> RiskView:
        return queries.risk(self._st, user_id, subaccount)

    def risk_parameters(self) -> RiskParameters:
        return queries.risk_parameters(self._st)

    def notional_risk_limit(self, user_id: str) -> NotionalLimitView:
        return queries.notional_limit(self._st, user_id)

    def fee_tiers(self) -> FeeTiers:
        return queries.fee_tiers(self._st)

    def funding_estimate(self, ticker: str, *, now_ms: int | None = None) -> FundingEstimate:
        """Current funding-rate estimate (``now_ms`` moves the clock first, if given)."""
        return queries.funding_estimate(self._st, ticker, now_ms)

    def funding_rates_historical(self, *, ticker: str | None = None,
                                 start_ms: int | None = None,
                                 end_ms: int | None = None) -> list[FundingRateRecord]:
        """Settled funding rates, newest first."""
        return queries.funding_rates(self._st, ticker, start_ms, end_ms)

    def funding_history(self, user_id: str, *, ticker: str | None = None,
                        subaccount: int | None = None, start_ms: int | None = None,
                        end_ms: int | None = None) -> list[FundingPayment]:
        """The user's funding payments (no rows for zero-rate intervals), newest first."""
        return queries.funding_history(self._st, user_id, ticker, subaccount, start_ms, end_ms)

    def ledger_totals(self) -> dict[str, Decimal]:
        """Money accounting for tests: see :mod:`.ledger` for the exact invariant."""
        return ledger_totals(self._st)

    def audit(self) -> list[str]:
        """Violated invariants (books, indexes, exposure, ledger); empty when healthy."""
        return audit(self._st)

