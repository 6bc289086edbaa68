"""WebSocket transports: the narrow seam between the session and a library.

A transport opens a connection with the signed handshake headers and returns a
:class:`Connection` that yields text frames, sends text frames, pings and
closes. Each implementation is the only importer of its library and translates
that library's exceptions into ours:

* handshake answered 401/403 → :class:`~kalshi_margin_stream.exceptions.AuthError` (fatal);
* anything else while opening → :class:`~kalshi_margin_stream.exceptions.ConnectError`;
* the connection closing or breaking → :class:`~kalshi_margin_stream.exceptions.ConnectionLost`.

Keepalive pings, the close handshake and permessage-deflate belong here;
sequencing, books and state stay in the core. Each library is imported only by
its own module, when that transport is asked for: ``picows`` (the ``[fast]``
extra) and ``websockets`` need not be installed to use the others.

=============  ==========================================================
``aiohttp``    the default; shares the REST client's ``ClientSession``
``websockets`` pure Python, permessage-deflate
``picows``     ``pip install kalshi-margin-stream[fast]``: frames parsed in
               Cython, ~2x aiohttp's bare receive rate; no compression
=============  ==========================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    import aiohttp

__all__ = ["TRANSPORTS", "Connection", "TransportName", "Transport", "make_transport",
           "transport_missing"]

TransportName = Literal["aiohttp", "websockets", "picows"]
TRANSPORTS: tuple[TransportName, ...] = ("aiohttp", "websockets", "picows")


class Connection(Protocol):
    """One open WebSocket connection."""

    @property
    def last_ping(self) -> float:
        """``time.monotonic()`` of the newest ping or pong from the server (0 if none)."""
        ...

    async def recv(self) -> bytes | str:
        """The next text frame. Raises ``ConnectionLost`` when the connection ends."""
        ...

    async def send(self, data: bytes) -> None:
        """Send one text frame."""
        ...

    async def close(self) -> None:
        """Close with the close handshake (bounded in time); never raises."""
        ...


class Transport(Protocol):
    """Opens connections."""

    async def connect(self, url: str, headers: dict[str, str]) -> Connection:
        ...


def transport_missing(name: str) -> str | None:
    """Why transport ``name`` cannot be used here (its library is absent), or ``None``."""
    import importlib.util
    library = {"aiohttp": "aiohttp", "websockets": "websockets", "picows": "picows"}.get(name)
    if library is None:
        return f"unknown transport {name!r}; expected one of {TRANSPORTS}"
    if importlib.util.find_spec(library) is None:
        extra = "fast" if name == "picows" else name
        return f"the {name} transport needs {library}: pip install 'kalshi-margin-stream[{extra}]'"
    return None


def make_transport(name: TransportName, *, session: aiohttp.ClientSession | None,
                   connect_timeout: float | None, ping_interval: float | None,
                   close_timeout: float, max_message_size: int,
                   compression: bool) -> Transport:
    """The transport called ``name`` ("aiohttp", the default, "websockets" or "picows").

    Raises:
        ValueError: an unknown name, or an option the transport cannot honour.
        ImportError: the library of that transport is not installed.
    """
    if name == "aiohttp":
        if session is None:
            raise ValueError("the aiohttp transport needs an aiohttp.ClientSession")
        from .aiohttp_ws import AiohttpTransport
        return AiohttpTransport(session, connect_timeout=connect_timeout,
                                ping_interval=ping_interval, close_timeout=close_timeout,
                                max_message_size=max_message_size, compression=compression)
    if name == "websockets":
        try:
            from .websockets_ws import WebsocketsTransport
        except ImportError as exc:
            if exc.name is None or not exc.name.startswith("websockets"):
                raise
            raise ValueError("the websockets transport needs the websockets package: "
                             "pip install 'kalshi-margin-stream[websockets]'") from None
        return WebsocketsTransport(connect_timeout=connect_timeout,
                                   ping_interval=ping_interval, close_timeout=close_timeout,
                                   max_message_size=max_message_size, compression=compression)
    if name == "picows":
        try:
            from .picows_ws import PicowsTransport
        except ImportError as exc:
            raise ImportError("the picows transport needs picows: "
                              "pip install 'kalshi-margin-stream[fast]'") from exc
        return PicowsTransport(connect_timeout=connect_timeout, ping_interval=ping_interval,
                               close_timeout=close_timeout, max_message_size=max_message_size,
                               compression=compression)
    raise ValueError(f"unknown transport {name!r}; expected one of {TRANSPORTS}")
