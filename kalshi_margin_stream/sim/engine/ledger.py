"""Money: positions, cash, fees, and the exact accounting identity the tests check.

Position accounting keeps a signed **cost basis** ``C`` (sum of price x signed count of the
open contracts) instead of a rounded entry price, so nothing is lost to rounding:

* opening/adding ``c`` at ``p`` with sign ``s`` (+1 bid, -1 ask): ``q += s*c``, ``C += s*c*p``;
* closing ``k`` of ``|q|`` at ``p``: ``removed = C*k/|q|`` (exact when ``k == |q|``, else
  rounded to 4 dp half-even), ``realized = sign(q)*k*p - removed``, ``C -= removed``;
* ``entry_price = C/q`` (shown to 4 dp); ``unrealized = q*mark - C``.

Then for every user ``realized - C`` equals the cash flow of their trades, and summed over
all users that is zero (each trade pays the seller what the buyer pays). Hence the
**ledger invariant** (exact ``Decimal`` equality, checked by the property tests)::

    sum(cash) + sum(event_contract_balance)
        == deposits + sum(realized) - fees_collected - funding_residual
    sum(realized) == sum(C)             (per market, over all users)
    sum(q) == 0                         (per market, over all users)

so total equity at any common mark is ``deposits - fees_collected - funding_residual``:
money only leaves the traders as fees (and as funding rounding dust kept by the exchange).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from ...core.margin.formulas import FEE_ROUNDING, fill_position
from ...core.margin.formulas import fee as fee_of
from .events import FillEvent, FundingPayment
from .views import Side, TransferView

__all__ = ["Position", "Subaccount", "Account", "fee_for", "q4", "MONEY", "FEE_ROUNDING"]

ZERO = Decimal(0)
MONEY = Decimal("0.0001")
# Fee rounding (FEE_ROUNDING) and partial-close cost removal (COST_ROUNDING) are the
# client's (core.margin.formulas); displayed entry prices are half-even to 4 dp.


def q4(x: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    return x.quantize(MONEY, rounding=rounding)


def fee_for(count: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """Fee in dollars for one fill: notional x rate, rounded up to 4 dp."""
    return fee_of(count, price, rate)


class Position:
    """Net signed position in one market of one subaccount."""

    __slots__ = ("qty", "cost", "realized", "fees")

    def __init__(self) -> None:
        self.qty = ZERO
        self.cost = ZERO
        self.realized = ZERO
        self.fees = ZERO

    def entry_price(self) -> Decimal:
        return ZERO if self.qty == 0 else q4(self.cost / self.qty)

    def apply_fill(self, side: Side, count: Decimal, price: Decimal,
                   fee: Decimal) -> tuple[Decimal, Decimal]:
        """Book one fill; returns ``(realized_pnl, entry_price_before)``."""
        entry_before = self.entry_price() if self.qty != 0 else price
        signed = count if side == "bid" else -count
        self.qty, self.cost, realized = fill_position(self.qty, self.cost, signed, price)
        self.realized += realized
        self.fees += fee
        if self.qty == 0:
            self.fees = ZERO
        return realized, entry_before


class Exposure:
    """Resting orders of one subaccount in one market (for ROM and notional usage)."""

    __slots__ = ("bid_qty", "bid_notional", "ask_qty", "ask_notional")

    def __init__(self) -> None:
        self.bid_qty = ZERO
        self.bid_notional = ZERO
        self.ask_qty = ZERO
        self.ask_notional = ZERO

    def add(self, side: Side, qty: Decimal, price: Decimal) -> None:
        if side == "bid":
            self.bid_qty += qty
            self.bid_notional += qty * price
        else:
            self.ask_qty += qty
            self.ask_notional += qty * price

    def empty(self) -> bool:
        return self.bid_qty == 0 and self.ask_qty == 0


class Subaccount:
    __slots__ = ("number", "cash", "positions", "exposure")

    def __init__(self, number: int, cash: Decimal = ZERO) -> None:
        self.number = number
        self.cash = cash
        self.positions: dict[str, Position] = {}
        self.exposure: dict[str, Exposure] = {}

    def position(self, ticker: str) -> Position:
        pos = self.positions.get(ticker)
        if pos is None:
            pos = self.positions[ticker] = Position()
        return pos

    def qty(self, ticker: str) -> Decimal:
        pos = self.positions.get(ticker)
        return ZERO if pos is None else pos.qty

    def resting(self, ticker: str) -> Exposure:
        exp = self.exposure.get(ticker)
        if exp is None:
            exp = self.exposure[ticker] = Exposure()
        return exp


class Account:
    """One user: subaccounts 0..63, the event-contract cash, and id registries."""

    __slots__ = ("user_id", "synthetic", "subaccounts", "event_balance", "client_order_ids",
                 "transfer_ids", "order_seqs", "orders", "fills", "funding", "transfers",
                 "notional_limit", "market_limits", "resting")

    def __init__(self, user_id: str, *, cash: Decimal, event_balance: Decimal,
                 synthetic: bool, notional_limit: Decimal) -> None:
        self.user_id = user_id
        self.synthetic = synthetic
        self.subaccounts: dict[int, Subaccount] = {0: Subaccount(0, cash)}
        self.event_balance = event_balance
        self.client_order_ids: set[str] = set()
        self.transfer_ids: set[str] = set()
        self.order_seqs: list[int] = []
        """Creation seqs of this user's orders, ascending (for newest-first paging)."""
        self.orders: list[str] = []
        """Order ids parallel to ``order_seqs``."""
        self.fills: list[tuple[int, FillEvent]] = []
        self.funding: list[FundingPayment] = []
        self.transfers: list[TransferView] = []
        self.notional_limit = notional_limit
        self.market_limits: dict[str, Decimal] = {}
        self.resting: dict[str, None] = {}
        """Ids of this user's resting orders (insertion-ordered set)."""
