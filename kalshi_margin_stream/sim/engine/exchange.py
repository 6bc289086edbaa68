"""The simulated exchange: one object, pure and synchronous.

Theory of operation: the caller owns the clock and passes ``now_ms`` to every call that
can change state; randomness comes only from ``random.Random(seed)`` (ids). Each
mutating call returns the resulting :mod:`events` in the order they happened, so a
server can fan them out to WS channels without peeking at internals. Refused requests
raise :class:`~.errors.Rejection` (Kalshi's status, code, message, details) and leave
the state untouched.
"""

from __future__ import annotations

from decimal import Decimal

from .config import ExchangeConfig
from .events import Event, FillEvent, FundingPayment, PublicTrade
from .results import CancelResult, GroupResult, OrderResult
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


class Exchange:
    """A Kalshi-like margin exchange held in memory.

    Args:
        config: markets and exchange-wide settings (default: :class:`ExchangeConfig()`).
        seed: seeds the id generator; same seed + same calls -> same ids and events.
        now_ms: the clock's starting value (epoch ms); funding times are counted from it.
    """

    def __init__(self, config: ExchangeConfig | None = None, *, seed: int = 0,
                 now_ms: int = 0) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ accounts
    def add_user(self, user_id: str | None = None, *, cash: Decimal | None = None,
                 synthetic: bool = False) -> str:
        """Open an account (idempotent) with ``cash`` in subaccount 0; returns the user id.

        ``user_id`` None -> a fresh UUID from the seeded generator. ``synthetic`` marks a
        simulated participant (no notional limit, never liquidated).
        """
        raise NotImplementedError

    def has_user(self, user_id: str) -> bool:
        raise NotImplementedError

    def deposit(self, user_id: str, amount: Decimal, *, subaccount: int = 0) -> None:
        """Add (or with a negative amount, remove) margin cash: an admin/scenario knob."""
        raise NotImplementedError

    def create_subaccount(self, user_id: str) -> int:
        """Next numbered subaccount (1..63); 400 ``invalid_parameters`` when all exist."""
        raise NotImplementedError

    def subaccounts(self, user_id: str) -> list[int]:
        raise NotImplementedError

    def transfer_between_subaccounts(self, user_id: str, *, client_transfer_id: str,
                                     from_subaccount: int, to_subaccount: int,
                                     amount_cents: int) -> None:
        """Move cash between two of the user's subaccounts.

        Raises:
            Rejection: 409 ``transfer_already_applied`` on a reused ``client_transfer_id``;
                400 for unknown subaccounts, non-positive amounts or too little cash.
        """
        raise NotImplementedError

    def intra_exchange_transfer(self, user_id: str, *, source: str, destination: str,
                                amount_centicents: int, client_transfer_id: str | None,
                                now_ms: int) -> TransferView:
        """Move cash between the event-contract balance and margin subaccount 0.

        ``source``/``destination``: ``"event_contract"`` | ``"margined"``. Completed at
        once (status ``"complete"``). A repeated ``client_transfer_id`` returns the
        original transfer.
        """
        raise NotImplementedError

    def get_transfer(self, user_id: str, transfer_id: str) -> TransferView:
        raise NotImplementedError

    def list_transfers(self, user_id: str, *, limit: int = 100,
                       cursor: str | None = None) -> Page[TransferView]:
        raise NotImplementedError

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
        raise NotImplementedError

    def amend_order(self, user_id: str, order_id: str, *, ticker: str, side: Side,
                    price: Decimal, count: Decimal, subaccount: int = 0,
                    updated_client_order_id: str | None = None,
                    expiration_ts_ms: int | None = None, now_ms: int) -> OrderResult:
        """Change price and/or total size (``count`` = fill_count + new remaining).

        Keeps queue priority only for a pure size decrease. ``expiration_ts_ms``: None
        keeps, 0 clears. May match if the new price crosses.
        """
        raise NotImplementedError

    def decrease_order(self, user_id: str, order_id: str, *, reduce_by: Decimal | None = None,
                       reduce_to: Decimal | None = None, subaccount: int = 0,
                       now_ms: int) -> OrderResult:
        """Shrink the resting size (exactly one of reduce_by / reduce_to); keeps priority."""
        raise NotImplementedError

    def cancel_order(self, user_id: str, order_id: str, *, subaccount: int = 0,
                     now_ms: int) -> CancelResult:
        """Cancel the remainder (404 ``not_found`` if unknown or already finished)."""
        raise NotImplementedError

    def cancel_all_orders(self, user_id: str, *, subaccount: int | None = None,
                          now_ms: int) -> list[Event]:
        """Cancel every resting order of the user (one subaccount, or all when None)."""
        raise NotImplementedError

    def get_order(self, user_id: str, order_id: str) -> OrderView:
        """One of the user's orders (404 ``not_found`` otherwise)."""
        raise NotImplementedError

    def list_orders(self, user_id: str, *, ticker: str | None = None,
                    status: str | None = None, subaccount: int | None = None,
                    min_ts_ms: int | None = None, max_ts_ms: int | None = None,
                    limit: int = 10000, cursor: str | None = None) -> Page[OrderView]:
        """The user's orders, newest first. ``status``: resting|executed|canceled|open
        (open = resting); any other value filters nothing (the demo ignored it)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ order groups
    def create_order_group(self, user_id: str, *, contracts_limit: Decimal,
                           subaccount: int = 0, exchange_index: int = 0,
                           now_ms: int) -> GroupResult:
        raise NotImplementedError

    def get_order_group(self, user_id: str, order_group_id: str, *,
                        subaccount: int | None = None) -> OrderGroupView:
        raise NotImplementedError

    def list_order_groups(self, user_id: str, *,
                          subaccount: int | None = None) -> list[OrderGroupView]:
        raise NotImplementedError

    def trigger_order_group(self, user_id: str, order_group_id: str, *,
                            subaccount: int | None = None, now_ms: int) -> list[Event]:
        """Kill switch: cancel the group's resting orders, block new ones until reset."""
        raise NotImplementedError

    def reset_order_group(self, user_id: str, order_group_id: str, *,
                          subaccount: int | None = None, now_ms: int) -> list[Event]:
        raise NotImplementedError

    def delete_order_group(self, user_id: str, order_group_id: str, *,
                           subaccount: int | None = None, now_ms: int) -> list[Event]:
        raise NotImplementedError

    def update_order_group_limit(self, user_id: str, order_group_id: str, *,
                                 contracts_limit: Decimal, subaccount: int | None = None,
                                 now_ms: int) -> list[Event]:
        """New limit; triggers at once if the rolling usage already reaches it."""
        raise NotImplementedError

    # ------------------------------------------------------------------ clock, scenarios
    def advance_to(self, now_ms: int) -> list[Event]:
        """Move the clock: expire orders, settle every funding time passed, liquidate."""
        raise NotImplementedError

    def apply_funding(self, now_ms: int) -> list[Event]:
        """Same as :meth:`advance_to` (name kept for the brief)."""
        raise NotImplementedError

    def move_price(self, ticker: str, new_reference: Decimal, *, now_ms: int) -> list[Event]:
        """Set the underlying reference price (marks follow; may trigger liquidations)."""
        raise NotImplementedError

    def set_trading_active(self, active: bool, *, now_ms: int) -> list[Event]:
        """Pause/resume trading (paused: orders get 409 ``trading_is_paused``;
        ``cancel_order_on_pause`` orders are cancelled)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ queries
    @property
    def config(self) -> ExchangeConfig:
        raise NotImplementedError

    @property
    def now_ms(self) -> int:
        """The latest clock value seen."""
        raise NotImplementedError

    def status(self) -> ExchangeStatus:
        raise NotImplementedError

    def markets(self) -> list[MarketStats]:
        raise NotImplementedError

    def market(self, ticker: str) -> MarketStats:
        """404 ``not_found`` for an unknown ticker."""
        raise NotImplementedError

    def orderbook(self, ticker: str, *, depth: int = 0) -> BookView:
        """Aggregated levels, best first; ``depth`` 0 = all levels."""
        raise NotImplementedError

    def trades(self, *, ticker: str | None = None, min_ts_ms: int | None = None,
               max_ts_ms: int | None = None, limit: int = 100,
               cursor: str | None = None) -> Page[PublicTrade]:
        """Public trades, newest first, with a stable cursor."""
        raise NotImplementedError

    def fills(self, user_id: str, *, subaccount: int | None = 0, ticker: str | None = None,
              min_ts_ms: int | None = None, max_ts_ms: int | None = None, limit: int = 100,
              cursor: str | None = None) -> Page[FillEvent]:
        """The user's fills, newest first (``subaccount`` None = all)."""
        raise NotImplementedError

    def positions(self, user_id: str, *, subaccount: int | None = None,
                  ticker: str | None = None) -> list[PositionView]:
        """Open (non-zero) positions."""
        raise NotImplementedError

    def balance(self, user_id: str) -> BalanceView:
        raise NotImplementedError

    def risk(self, user_id: str, *, subaccount: int | None = None) -> RiskView:
        raise NotImplementedError

    def risk_parameters(self) -> RiskParameters:
        raise NotImplementedError

    def notional_risk_limit(self, user_id: str) -> NotionalLimitView:
        raise NotImplementedError

    def fee_tiers(self) -> FeeTiers:
        raise NotImplementedError

    def funding_estimate(self, ticker: str) -> FundingEstimate:
        raise NotImplementedError

    def funding_rates_historical(self, *, ticker: str | None = None,
                                 start_ms: int | None = None,
                                 end_ms: int | None = None) -> list[FundingRateRecord]:
        """Settled funding rates, newest first."""
        raise NotImplementedError

    def funding_history(self, user_id: str, *, ticker: str | None = None,
                        subaccount: int | None = None, start_ms: int | None = None,
                        end_ms: int | None = None) -> list[FundingPayment]:
        """The user's funding payments (no rows for zero-rate intervals), newest first."""
        raise NotImplementedError

    def ledger_totals(self) -> dict[str, Decimal]:
        """Money accounting for tests: see :mod:`.ledger` for the exact invariant."""
        raise NotImplementedError
