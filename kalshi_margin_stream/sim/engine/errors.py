"""One exception for every request the simulated exchange refuses.

The server turns a :class:`Rejection` straight into Kalshi's nested error body
``{"error": {"code", "message", "details"}}`` with ``http_status``; the codes and
messages below are the ones recorded on the margin demo (rest.md §4).
"""

from __future__ import annotations

from ...exceptions import KalshiError

__all__ = [
    "Rejection",
    "invalid_order",
    "invalid_price",
    "invalid_parameters",
    "not_found",
    "order_already_exists",
    "transfer_already_applied",
    "notional_risk_limit_exceeded",
    "market_version_mismatch",
    "trading_is_paused",
    "market_not_active",
]


class Rejection(KalshiError):
    """The exchange refused a request; carries everything the HTTP answer needs.

    Attributes:
        http_status: 400, 404, 409, ...
        code: Kalshi's ``error.code`` (branch on this).
        message: Kalshi's ``error.message``.
        details: optional ``error.details`` ("" when none).
    """

    def __init__(self, http_status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{http_status} {code}: {message}" + (f" ({details})" if details else ""))
        self.http_status = http_status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, dict[str, str]]:
        """Kalshi's nested error body (``details`` omitted when empty)."""
        err = {"code": self.code, "message": self.message}
        if self.details:
            err["details"] = self.details
        return {"error": err}


def invalid_order(details: str) -> Rejection:
    """400 ``invalid_order`` (bad precision, off tick, reduce_only with GTC, bad size...)."""
    return Rejection(400, "invalid_order", "invalid order", details)


def invalid_price(details: str = "") -> Rejection:
    """400 ``invalid_price``: outside the price band (demo body has no details)."""
    return Rejection(400, "invalid_price", "invalid price", details)


# UNCONFIRMED: Kalshi's code for a malformed query/body field on margin routes is not
# recorded; the event API uses ``invalid_parameters``. Kept in this one place.
INVALID_PARAMETERS_CODE = "invalid_parameters"


def invalid_parameters(details: str) -> Rejection:
    """400 for a malformed parameter (bad cursor, unknown subaccount number...)."""
    return Rejection(400, INVALID_PARAMETERS_CODE, "invalid parameters", details)


def not_found(details: str = "") -> Rejection:
    """404 ``not_found``: unknown order, order group, market or finished order."""
    return Rejection(404, "not_found", "not found", details)


def order_already_exists() -> Rejection:
    """409 ``order_already_exists``: the client_order_id was used before (even if cancelled)."""
    return Rejection(409, "order_already_exists", "order already exists")


def transfer_already_applied() -> Rejection:
    """409 ``transfer_already_applied``: the client_transfer_id was used before."""
    return Rejection(409, "transfer_already_applied", "transfer already applied")


def notional_risk_limit_exceeded(details: str = "") -> Rejection:
    """400 ``NOTIONAL_RISK_LIMIT_EXCEEDED``: over the notional limit or not enough margin.

    The demo answered this code (message identical) for an order too large for the
    balance, so insufficient margin maps here too (rest.md §4).
    """
    return Rejection(400, "NOTIONAL_RISK_LIMIT_EXCEEDED", "NOTIONAL_RISK_LIMIT_EXCEEDED", details)


def market_version_mismatch() -> Rejection:
    """409 ``market_version_mismatch``: create with a stale ``market_version``."""
    return Rejection(409, "market_version_mismatch", "market version mismatch")


def trading_is_paused() -> Rejection:
    """409 ``trading_is_paused``: orders while the exchange/market is paused."""
    return Rejection(409, "trading_is_paused", "trading is paused")


def market_not_active(ticker: str) -> Rejection:
    """400 ``market_not_active`` (UNCONFIRMED code) for orders on an inactive market."""
    return Rejection(400, "market_not_active", "market not active", ticker)
