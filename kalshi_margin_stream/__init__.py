"""kalshi_margin_stream: an asyncio client for the Kalshi margin (perpetual futures) API.

::

    from kalshi_margin_stream import Books, Client, Credentials

    async with Client(Credentials.from_env(), env="demo") as client:
        async for update in client.subscribe(Books(("KXBTCPERP",))):
            print(client.book("KXBTCPERP").best_bid())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it. Loaded on first use (PEP 562), so
# ``import kalshi_margin_stream.core`` or ``.sim.engine`` loads no aiohttp, anyio or websockets.
_LAZY: dict[str, str] = {
    "AuthError": ".exceptions",
    "BookDesync": ".exceptions",
    "BookStatus": ".core.book",
    "Books": ".stream.subscriptions",
    "Client": ".stream.client",
    "ClientClosed": ".exceptions",
    "ClientStats": ".stream.client",
    "CommandRejected": ".exceptions",
    "ConnectError": ".exceptions",
    "ConnectionLost": ".exceptions",
    "Credentials": ".core.auth",
    "CredentialsError": ".exceptions",
    "DecodeError": ".exceptions",
    "Endpoints": ".config",
    "Fills": ".stream.subscriptions",
    "FixClient": ".fix.client",
    "Gateway": ".fanout.gateway",
    "HTTPStatusError": ".exceptions",
    "InvalidRequest": ".exceptions",
    "KalshiError": ".exceptions",
    "Limits": ".config",
    "MarginCalculator": ".core.margin.calculator",
    "MarginModel": ".core.margin.model",
    "MarginSnapshot": ".core.margin",
    "MarginState": ".core.margin",
    "OrderBook": ".core.book",
    "OrderGroups": ".stream.subscriptions",
    "Orders": ".stream.subscriptions",
    "ProtocolError": ".exceptions",
    "RateLimited": ".exceptions",
    "Recorder": ".recording.recorder",
    "RemoteFeed": ".fanout.feed",
    "SequenceGap": ".exceptions",
    "Spec": ".stream.subscriptions",
    "Stale": ".stream.subscriptions",
    "Subscription": ".stream.subscriptions",
    "Tickers": ".stream.subscriptions",
    "Timeout": ".exceptions",
    "Timeouts": ".config",
    "Trades": ".stream.subscriptions",
    "TransportError": ".exceptions",
}

if TYPE_CHECKING:
    from .config import Endpoints, Limits, Timeouts
    from .core.auth import Credentials
    from .core.book import BookStatus, OrderBook
    from .core.margin import MarginSnapshot, MarginState
    from .core.margin.calculator import MarginCalculator
    from .core.margin.model import MarginModel
    from .exceptions import (
        AuthError,
        BookDesync,
        ClientClosed,
        CommandRejected,
        ConnectError,
        ConnectionLost,
        CredentialsError,
        DecodeError,
        HTTPStatusError,
        InvalidRequest,
        KalshiError,
        ProtocolError,
        RateLimited,
        SequenceGap,
        Timeout,
        TransportError,
    )
    from .fanout.feed import RemoteFeed
    from .fanout.gateway import Gateway
    from .fix.client import FixClient
    from .recording.recorder import Recorder
    from .stream.client import Client, ClientStats
    from .stream.subscriptions import (
        Books,
        Fills,
        OrderGroups,
        Orders,
        Spec,
        Stale,
        Subscription,
        Tickers,
        Trades,
    )

__all__ = [
    "__version__",
    "AuthError",
    "BookDesync",
    "BookStatus",
    "Books",
    "Client",
    "ClientClosed",
    "ClientStats",
    "CommandRejected",
    "ConnectError",
    "ConnectionLost",
    "Credentials",
    "CredentialsError",
    "DecodeError",
    "Endpoints",
    "Fills",
    "FixClient",
    "Gateway",
    "HTTPStatusError",
    "InvalidRequest",
    "KalshiError",
    "Limits",
    "MarginCalculator",
    "MarginModel",
    "MarginSnapshot",
    "MarginState",
    "OrderBook",
    "OrderGroups",
    "Orders",
    "ProtocolError",
    "RateLimited",
    "Recorder",
    "RemoteFeed",
    "SequenceGap",
    "Spec",
    "Stale",
    "Subscription",
    "Tickers",
    "Timeout",
    "Timeouts",
    "Trades",
    "TransportError",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
