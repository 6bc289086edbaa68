"""Shared pieces of the REST models: the base Struct, enums, RFC 3339 -> ms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import msgspec

from ..messages import SelfTradePrevention, Side, TimeInForce

__all__ = [
    "EmptyResponse",
    "ExchangeInstance",
    "LastUpdateReason",
    "RestModel",
    "SelfTradePrevention",
    "Side",
    "TimeInForce",
    "ms_or_none",
    "rfc3339_to_ms",
]


ExchangeInstance = Literal["event_contract", "margined"]
LastUpdateReason = str
"""``""``, ``Decrease``, ``Amend``, ``MarginCancel``, ... kept a plain string: new values appear."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def rfc3339_to_ms(text: str) -> int:
    """Unix milliseconds of an RFC 3339 timestamp (``2026-06-12T04:07:38.474541Z``).

    Exact integer arithmetic; digits below the millisecond are truncated (floor).
    A timestamp without an offset is taken as UTC.

    Raises:
        ValueError: not an RFC 3339 / ISO 8601 timestamp.
    """
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // _MS


def ms_or_none(text: str | None) -> int | None:
    return None if not text else rfc3339_to_ms(text)


class RestModel(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of every REST body."""


class EmptyResponse(RestModel, frozen=True):
    """``{}``: the answer of group reset/trigger/delete/limit and subaccount transfer."""

