"""Every error the package raises, in one tree.

::

    KalshiError
    ├── ClientClosed                  used after aclose()
    ├── CredentialsError              key file missing, unreadable, wrong format, encrypted
    ├── AuthError                     401/403, handshake rejected
    ├── TransportError
    │   ├── ConnectError
    │   ├── ConnectionLost            retried inside; surfaces only when fatal
    │   └── Timeout                   also a TimeoutError, so ``except TimeoutError`` works
    ├── ProtocolError                 the server sent something impossible
    │   ├── DecodeError               a frame of a known type failed validation ($.path kept)
    │   ├── BookDesync                negative level, crossed book: the book needs a resync
    │   └── SequenceGap               raised only if a resync itself cannot be made
    ├── CommandRejected               a WebSocket command error (Kalshi's numeric codes)
    ├── InvalidRequest                bad arguments caught before anything is sent (ValueError too)
    └── HTTPStatusError               a non-2xx REST answer (status, code, message, details)
        └── RateLimited               429, with the wait the server or our bucket asks for

Misuse of the API raises ``TypeError``/``ValueError``; cancellation stays
``CancelledError``. Errors never carry key material or signatures.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BookDesync",
    "ClientClosed",
    "CommandRejected",
    "ConnectError",
    "ConnectionLost",
    "CredentialsError",
    "DecodeError",
    "HTTPStatusError",
    "InvalidRequest",
    "KalshiError",
    "ProtocolError",
    "RateLimited",
    "SequenceGap",
    "Timeout",
    "TransportError",
]


class KalshiError(Exception):
    """Base of every error raised by kalshi_margin_stream."""


class ClientClosed(KalshiError):
    """The client (or subscription) was used after it was closed."""


class CredentialsError(KalshiError):
    """The API key or private key could not be loaded or used."""


class AuthError(KalshiError):
    """The exchange refused our credentials (HTTP 401/403 or a rejected handshake)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code

    def __str__(self) -> str:
        parts = [super().__str__()]
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.code:
            parts.append(f"code={self.code}")
        return " ".join(parts)


class TransportError(KalshiError):
    """The connection to the exchange failed."""


class ConnectError(TransportError):
    """A connection could not be opened."""


class ConnectionLost(TransportError):
    """An open connection closed or broke."""


class Timeout(TransportError, TimeoutError):
    """An operation took longer than its configured timeout."""


class ProtocolError(KalshiError):
    """The server sent something the protocol does not allow."""


class DecodeError(ProtocolError):
    """A frame could not be decoded into its message type.

    Attributes:
        path: the JSON path msgspec reported (``$.msg.price``), or ``$`` for bad JSON.
        reason: msgspec's description of the failure.
        type: the frame's ``type`` when it could be read, else ``None``.
        sid: the frame's ``sid`` when it could be read, else ``None``.
    """

    def __init__(self, reason: str, *, path: str = "$", type: str | None = None,
                 sid: int | None = None):
        self.reason = reason
        self.path = path
        self.type = type
        self.sid = sid
        super().__init__(reason)

    def __str__(self) -> str:
        where = f" ({self.type})" if self.type else ""
        return f"cannot decode frame{where} at {self.path}: {self.reason}"


class BookDesync(ProtocolError):
    """An update left a local book impossible (negative size, crossed): resync it."""

    def __init__(self, ticker: str, reason: str):
        self.ticker = ticker
        self.reason = reason
        super().__init__(f"{ticker}: {reason}")


class SequenceGap(ProtocolError):
    """A sequence gap that could not be repaired by a resync."""

    def __init__(self, sid: int, expected: int, got: int):
        self.sid = sid
        self.expected = expected
        self.got = got
        super().__init__(f"sid {sid}: expected seq {expected}, got {got}")


class CommandRejected(KalshiError):
    """The WebSocket server answered a command with an ``error`` message."""

    def __init__(self, code: int, message: str, *, cmd_id: int | None = None,
                 sid: int | None = None):
        self.code = code
        self.message = message
        self.cmd_id = cmd_id
        self.sid = sid
        super().__init__(f"command rejected: code {code}: {message}")


class InvalidRequest(KalshiError, ValueError):
    """Arguments that the exchange would reject, caught before anything is sent."""


class HTTPStatusError(KalshiError):
    """A REST call answered with a non-2xx status.

    Attributes:
        status: the HTTP status.
        code: Kalshi's error code (``order_already_exists``), or ``None``.
        message: the human-readable message, or ``None``.
        details: the optional details string, or ``None``.
        method, path: the request, without query string or headers.
    """

    def __init__(self, status: int, *, code: str | None = None, message: str | None = None,
                 details: str | None = None, method: str = "", path: str = ""):
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.method = method
        self.path = path
        super().__init__(status, code, message)

    def __str__(self) -> str:
        text = f"HTTP {self.status}"
        if self.method or self.path:
            text += f" on {self.method} {self.path}".rstrip()
        if self.code:
            text += f": {self.code}"
        if self.message and self.message != self.code:
            text += f" ({self.message})"
        if self.details:
            text += f" [{self.details}]"
        return text


class RateLimited(HTTPStatusError):
    """HTTP 429: the token bucket is empty; ``retry_after`` seconds is the advised wait."""

    def __init__(self, *, retry_after: float | None = None, method: str = "", path: str = "",
                 message: str | None = "too many requests"):
        super().__init__(429, code="too_many_requests", message=message, method=method,
                         path=path)
        self.retry_after = retry_after
