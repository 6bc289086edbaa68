"""Commands on their way to the server, and what each pending one was for.

The session decides *what* to ask; this keeps the bookkeeping of asking: a
command id counter that only grows (ids stay unique for the whole session, across
connections), the pending command of each id (its kind, channels and markets, so
that an answer or an error can be matched to its purpose), and the encoded frames
waiting for the shell to write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .codec import encode_command
from .messages import (
    ClientCommand,
    ListSubscriptions,
    Subscribe,
    SubscribeParams,
    Unsubscribe,
    UnsubscribeParams,
    UpdateSubscription,
    UpdateSubscriptionParams,
)

__all__ = ["CommandQueue", "Pending"]


@dataclass
class Pending:
    """A command sent and not yet answered."""

    kind: str
    """``subscribe``, ``unsubscribe``, ``add_markets``, ``delete_markets``,
    ``get_snapshot`` or ``list``."""
    channels: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()


class CommandQueue:
    """Builds, numbers and queues commands; ``enabled=False`` queues nothing (replay)."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._pending: dict[int, Pending] = {}
        self._outbox: list[bytes] = []
        self._next_id = 1

    def subscribe(self, channels: Sequence[str], tickers: tuple[str, ...] | None,
                  send_initial_snapshot: bool) -> int:
        cmd_id = self._new_id("subscribe", tuple(channels), tickers or ())
        self._queue(Subscribe(id=cmd_id, params=SubscribeParams(
            channels=list(channels),
            market_tickers=None if tickers is None else list(tickers),
            send_initial_snapshot=True if send_initial_snapshot else None)))
        return cmd_id

    def unsubscribe(self, sid: int, channel: str) -> int:
        cmd_id = self._new_id("unsubscribe", (channel,))
        self._queue(Unsubscribe(id=cmd_id, params=UnsubscribeParams(sids=[sid])))
        return cmd_id

    def update(self, action: str, sid: int, channel: str, tickers: tuple[str, ...]) -> int:
        """``update_subscription``: add_markets, delete_markets or get_snapshot."""
        cmd_id = self._new_id(action, (channel,), tickers)
        self._queue(UpdateSubscription(id=cmd_id, params=UpdateSubscriptionParams(
            action=action, sid=sid, market_tickers=list(tickers))))
        return cmd_id

    def list_subscriptions(self) -> int:
        cmd_id = self._new_id("list")
        self._queue(ListSubscriptions(id=cmd_id))
        return cmd_id

    def pending(self, cmd_id: int | None) -> Pending | None:
        """The pending command ``cmd_id``, still pending."""
        return None if cmd_id is None else self._pending.get(cmd_id)

    def resolve(self, cmd_id: int | None) -> Pending | None:
        """The pending command ``cmd_id``, now answered (forgotten)."""
        return None if cmd_id is None else self._pending.pop(cmd_id, None)

    @property
    def outbox(self) -> list[bytes]:
        """The live list of queued frames (read it; take them with :meth:`take`)."""
        return self._outbox

    def take(self) -> list[bytes]:
        """The queued frames, oldest first (and forget them)."""
        out = self._outbox[:]
        self._outbox.clear()
        return out

    def reset(self) -> None:
        """A new connection: nothing is pending or queued any more (ids keep growing)."""
        self._pending.clear()
        self._outbox.clear()

    def _new_id(self, kind: str, channels: tuple[str, ...] = (),
                tickers: tuple[str, ...] = ()) -> int:
        cmd_id = self._next_id
        self._next_id += 1
        self._pending[cmd_id] = Pending(kind, channels, tickers)
        return cmd_id

    def _queue(self, cmd: ClientCommand) -> None:
        if self.enabled:
            self._outbox.append(encode_command(cmd))
