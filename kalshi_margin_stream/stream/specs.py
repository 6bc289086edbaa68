"""The subscription spec of each channel name, for code that is given channel names
(the CLI's ``--channels``, the fan-out gateway): one table for all of them."""

from __future__ import annotations

from typing import Any

from .subscriptions import Books, Fills, OrderGroups, Orders, Spec, Tickers, Trades

__all__ = ["SPECS"]

SPECS: dict[str, type[Spec[Any]]] = {
    "orderbook_delta": Books, "ticker": Tickers, "trade": Trades, "fill": Fills,
    "user_orders": Orders, "order_group_updates": OrderGroups,
}
"""The subscription spec of each channel."""
