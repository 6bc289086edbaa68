"""Kalshi's WebSocket error codes (websocket.md §5.1) and how a session answers with them."""

from __future__ import annotations

from ..core.messages import ErrorBody, ErrorMessage

__all__ = ["ERROR_TEXT", "UNKNOWN_MARKET_CODE", "Reject", "error_message"]

# Kalshi's error codes (websocket.md §5.1) and the text we send with them.
ERROR_TEXT: dict[int, str] = {
    1: "Unable to process message",
    2: "Params required",
    3: "Channels required",
    4: "Subscription IDs required",
    5: "Unknown command",
    7: "Unknown subscription ID",
    8: "Unknown channel name",
    9: "Authentication required",
    10: "Channel error",
    11: "Invalid parameter",
    12: "Exactly one subscription ID is required",
    13: "Unsupported action",
    14: "Market Ticker required",
    15: "Action required",
    25: "Subscription buffer overflow",
    26: "Subscription market limit exceeded",
}

# An unknown market ticker in subscribe/update_subscription. Code 16 ("Market not found")
# is retired on margin, so we answer 11 "Invalid parameter" naming the ticker (UNCONFIRMED).
UNKNOWN_MARKET_CODE = 11


class Reject(Exception):
    """Raised inside a command handler; the session answers with an ``error`` message."""

    def __init__(self, code: int, *, market: str | None = None, sid: int | None = None):
        self.code = code
        self.market = market
        self.sid = sid


def error_message(cmd_id: int | None, code: int, *, market: str | None = None,
                  sid: int | None = None, seq: int | None = None) -> ErrorMessage:
    body = ErrorBody(code=code, msg=ERROR_TEXT.get(code, "error"), market_ticker=market)
    return ErrorMessage(msg=body, id=cmd_id, sid=sid, seq=seq)
