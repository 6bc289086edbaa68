"""What the Sans-I/O session hands back to its shell.

``Session.receive_frame`` returns a list of these. Data messages (the
``DataMessage`` Structs themselves, no wrapper: ``CHANNEL_OF[type(msg)]`` names
their channel) come after their sequence check and, for books, after the book
was updated; everything else tells the shell what happened and what the session
has already done about it. The shell reacts (delivers, backfills from REST,
logs) and never has to decide protocol questions.
"""

from __future__ import annotations

import msgspec

from .codec import Unknown
from .messages import DataMessage, SubscriptionInfo

__all__ = [
    "ChannelLost",
    "ChannelSubscribed",
    "ChannelUnsubscribed",
    "CommandFailed",
    "Event",
    "FrameError",
    "Gap",
    "MarketsUpdated",
    "NeedsBackfill",
    "Resyncing",
    "Routed",
    "SubscriptionsListed",
    "Unknown",
]


class ChannelSubscribed(msgspec.Struct, frozen=True):
    """The server confirmed the subscription of ``channel`` as ``sid``."""

    channel: str
    sid: int


class ChannelUnsubscribed(msgspec.Struct, frozen=True):
    """The server confirmed the end of ``sid``."""

    channel: str
    sid: int


class ChannelLost(msgspec.Struct, frozen=True):
    """The server killed ``sid`` (error 10/17/25); a new subscribe was queued."""

    channel: str
    sid: int
    code: int
    message: str


class Gap(msgspec.Struct, frozen=True):
    """Messages ``expected .. got-1`` of ``sid`` never arrived (or ``got`` went backwards)."""

    channel: str
    sid: int
    expected: int
    got: int


class Resyncing(msgspec.Struct, frozen=True):
    """These books are untrusted until fresh snapshots arrive; the request was queued."""

    channel: str
    tickers: tuple[str, ...]
    reason: str


class NeedsBackfill(msgspec.Struct, frozen=True):
    """Data of ``channel`` may be missing and cannot be re-sent over the socket: read REST."""

    channel: str
    tickers: tuple[str, ...] | None
    reason: str


class CommandFailed(msgspec.Struct, frozen=True):
    """The server rejected a command (``command``: subscribe, get_snapshot, ...).

    A rejected ``get_snapshot``/``add_markets``/``delete_markets`` has already
    been followed by the fallback (unsubscribe + subscribe); a rejected
    ``subscribe`` leaves the channel unsubscribed.
    """

    channel: str | None
    cmd_id: int | None
    code: int
    message: str
    command: str = ""


class MarketsUpdated(msgspec.Struct, frozen=True):
    """The server's list of markets on ``channel`` after an update."""

    channel: str
    tickers: tuple[str, ...]


class SubscriptionsListed(msgspec.Struct, frozen=True):
    """The answer to ``list_subscriptions``."""

    subscriptions: tuple[SubscriptionInfo, ...]


class Routed(msgspec.Struct, frozen=True):
    """A data message for the sink, returned after the control events it follows.

    With a sink, a data message normally goes to it at once. When the same frame
    also produced control events (a gap before a trade, a resync before a
    snapshot), the message comes back as ``Routed`` after them instead, so the
    shell handles them in order: the backfill a gap asks for must not see the
    trade that revealed it first.
    """

    channel: str
    ticker: str
    msg: DataMessage


class FrameError(msgspec.Struct, frozen=True):
    """A frame that could not be decoded (counted; for a sequenced sid it forces a resync)."""

    reason: str
    path: str
    type: str | None
    sid: int | None


Event = (
    DataMessage | ChannelSubscribed | ChannelUnsubscribed | ChannelLost | Gap | Resyncing
    | NeedsBackfill | CommandFailed | MarketsUpdated | SubscriptionsListed | FrameError | Unknown
    | Routed
)
