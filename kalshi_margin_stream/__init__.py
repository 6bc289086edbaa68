"""kalshi_margin_stream: an asyncio client for the Kalshi margin (perpetual futures) API.

::

    from kalshi_margin_stream import Books, Client, Credentials

    async with Client(Credentials.from_env(), env="demo") as client:
        async for update in client.subscribe(Books(("KXBTCPERP",))):
            print(client.book("KXBTCPERP").best_bid())
"""

from .client import Client, ClientStats
from .config import Endpoints, Limits, Timeouts
from .core.auth import Credentials
from .core.book import BookStatus, OrderBook
from .core.margin import MarginSnapshot, MarginState
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
from .subscriptions import (
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
    "HTTPStatusError",
    "InvalidRequest",
    "KalshiError",
    "Limits",
    "MarginSnapshot",
    "MarginState",
    "OrderBook",
    "OrderGroups",
    "Orders",
    "ProtocolError",
    "RateLimited",
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
