"""Margin maths and state, pure and synchronous.

``formulas`` holds the published formulas (one implementation each); ``ledger``,
``orders`` and ``account`` build positions, resting orders and the account view;
``state`` is the :class:`MarginState` the streaming client feeds; ``snapshot`` the
immutable views it hands out. The pre-trade calculator: ``model`` (its static inputs),
``whatif`` (hypothetical fills and orders), ``calculator`` (order and basket margins)
and ``reconcile`` (ours against the exchange's reads).
"""

from .snapshot import AccountView, MarginSnapshot, MarketView, PositionView
from .state import GroupView, MarginState, OrderView

__all__ = ["AccountView", "GroupView", "MarginSnapshot", "MarginState", "MarketView", "OrderView",
           "PositionView"]
