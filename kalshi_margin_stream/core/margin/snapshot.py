"""The immutable values :class:`~.margin.MarginState` hands out.

Every field is a ``Decimal`` (exact), an int, a str or None; every mapping is a
read-only ``MappingProxyType`` over a dict built for this snapshot alone, so a
snapshot never changes after it was taken. ``None`` means "not computable yet"
(no mark, no margin rate, entry unknown after a gap) rather than zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from ..numbers import ZERO
from .orders import GroupView, OrderView

if TYPE_CHECKING:
    from ..rest_models import SubaccountBalance

__all__ = ["AccountView", "MarginSnapshot", "MarketView", "PositionView", "frozen_map",
           "to_builtins"]


K = TypeVar("K")
V = TypeVar("V")


def frozen_map(items: dict[K, V]) -> Mapping[K, V]:
    """A read-only view of a dict nobody else holds."""
    return MappingProxyType(items)


@dataclass(frozen=True, slots=True)
class MarketView:
    """What the ticker (and REST markets) told us about one market."""

    ticker: str
    last_price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    settlement_mark: Decimal | None = None
    """For funding and unrealised PnL."""
    settlement_mark_ts_ms: int | None = None
    liquidation_mark: Decimal | None = None
    """For notional, margin and liquidation checks."""
    liquidation_mark_ts_ms: int | None = None
    reference_price: Decimal | None = None
    reference_price_ts_ms: int | None = None
    funding_rate: Decimal | None = None
    """The running estimate for the next funding (a fraction; + = longs pay)."""
    next_funding_time_ms: int | None = None
    funding_ts_ms: int | None = None
    ts_ms: int | None = None
    contract_size: Decimal | None = None
    """Underlying units per contract (informational: prices are already per contract)."""


@dataclass(frozen=True, slots=True)
class PositionView:
    """One net position with its PnL and margin (margin-model.md §8.3)."""

    subaccount: int
    ticker: str
    count: Decimal
    """Signed: long > 0, short < 0."""
    entry_price: Decimal | None
    cost_basis: Decimal | None
    mark: Decimal | None
    """The mark unrealised PnL uses (settlement mark, else liquidation mark, else last)."""
    margin_mark: Decimal | None
    """The mark notional and margin use (liquidation mark, else settlement, else last)."""
    notional: Decimal | None
    unrealized_pnl: Decimal | None
    maintenance_margin: Decimal | None
    initial_margin: Decimal | None
    mm_rate: Decimal | None
    leverage: Decimal | None
    """notional / MM (the exchange's ``position_leverage``)."""
    liquidation_price: Decimal | None
    """Only for a lone position in its subaccount (§3.6 closed form), else None."""
    funding_estimate: Decimal | None
    """Expected next funding payment (+ received / - paid) at the current estimate."""
    realized_pnl: Decimal
    fees: Decimal
    gaps: int
    """Fills whose ``post_position`` disagreed with what we held since the last rebase."""
    baseline_ms: int | None
    """When REST last set this position (None: built from fills only)."""


@dataclass(frozen=True, slots=True)
class AccountView:
    """One subaccount: cash, positions, orders and the margin totals."""

    subaccount: int
    cash: Decimal
    """Settled cash: REST-derived at ``cash_as_of_ms`` plus realised PnL minus fees since."""
    cash_known: bool
    """False until a REST balance was read: ``cash`` is then PnL since start only."""
    cash_as_of_ms: int | None = None
    positions: Mapping[str, PositionView] = field(default_factory=lambda: frozen_map({}))
    open_orders: Mapping[str, OrderView] = field(default_factory=lambda: frozen_map({}))
    unrealized_pnl: Decimal = ZERO
    equity: Decimal = ZERO
    """cash + unrealised PnL (M4)."""
    total_notional: Decimal = ZERO
    maintenance_margin: Decimal = ZERO
    initial_margin: Decimal = ZERO
    resting_orders_margin: Decimal = ZERO
    margin_used: Decimal = ZERO
    """initial margin of positions + resting-orders margin (§3.5)."""
    available_balance: Decimal = ZERO
    """equity - initial margin - resting-orders margin (M5), from our own model."""
    margin_equity: Decimal = ZERO
    """Equity at the margin marks: what liquidation compares with MM."""
    margin_ratio: Decimal | None = None
    """MM / margin equity (M10, direction ASSUMED); Infinity when equity <= 0 < MM."""
    liquidation_buffer: Decimal | None = None
    """margin equity - threshold x MM: dollars of loss before liquidation."""
    account_leverage: Decimal | None = None
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    complete: bool = True
    """False when some position lacks a mark, a margin rate or its entry price."""
    exchange: SubaccountBalance | None = None
    """The last ``GET /margin/balance`` entry, as reported (for comparison)."""
    exchange_as_of_ms: int | None = None


@dataclass(frozen=True, slots=True)
class MarginSnapshot:
    """The whole margin state at one moment."""

    as_of_ms: int | None
    accounts: Mapping[int, AccountView]
    markets: Mapping[str, MarketView]
    order_groups: Mapping[str, GroupView]
    fills_count: int
    liquidation_threshold: Decimal
    queue_threshold: Decimal
    counters: Mapping[str, int]

    def account(self, subaccount: int = 0) -> AccountView:
        """One subaccount (an empty one if we know nothing about it)."""
        view = self.accounts.get(subaccount)
        return view if view is not None else AccountView(subaccount, ZERO, False)


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, MappingProxyType):
        return dict(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def to_builtins(value: object) -> Any:
    """JSON-ready builtins of a snapshot (or any part): Decimals as exact strings,
    mapping keys as strings (``msgspec.json.encode`` it, or print it)."""
    return msgspec.to_builtins(value, enc_hook=_enc_hook, str_keys=True)
