"""Replay a recording of raw frames through a passive session.

A recording is one text frame per line (JSONL, blank lines ignored), as the
``ws/`` captures are. :class:`PassiveSession` is the session without a voice: it
adopts the subscriptions it sees, sequences every sid and keeps the books,
exactly as a live session would, minus the commands. Because everything here is
pure, a recording replays as a unit test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .events import ChannelSubscribed, CommandFailed, Event, FrameError, Resyncing
from .messages import CHANNEL_OF, ServerMessage, Subscribed
from .session import ChannelState, Session

__all__ = ["PassiveSession", "ReplayReport", "replay_lines"]


class PassiveSession(Session):
    """A session that only listens: no commands, every sid and market adopted.

    A recording starts wherever it starts, so a sid never subscribed here is
    adopted from its first frame, a snapshot of any market creates its book, and
    a delta before the first snapshot is skipped (nothing can be asked for).
    """

    passive = True

    def _unknown_sid(self, sid: int, msg: ServerMessage) -> ChannelState | None:
        return self._adopt(CHANNEL_OF[type(msg)], sid)

    def _lost_first_snapshot(self, ch: ChannelState, ticker: str) -> list[Event]:
        return []

    def _takes_new_book(self, ch: ChannelState, ticker: str) -> bool:
        return True

    def _on_subscribed(self, msg: Subscribed) -> list[Event]:
        name, sid = msg.msg.channel, msg.msg.sid
        self._adopt(name, sid)
        return [ChannelSubscribed(name, sid)]

    def _adopt(self, name: str, sid: int) -> ChannelState:
        ch = self._channels.get(name)
        if ch is None:
            ch = self._channels[name] = ChannelState(name, None)
        self._bind(ch, sid)
        return ch


@dataclass
class ReplayReport:
    """What a replay saw; :meth:`to_json` is the ``replay --json`` output."""

    session: Session
    frames: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        stats = self.session.stats
        return {
            "frames": self.frames,
            "by_type": dict(sorted(stats.by_type.items())),
            "gaps": stats.gaps,
            "duplicates": stats.duplicates,
            "errors": [{"line": line, "reason": reason} for line, reason in self.errors],
            "books": {ticker: dict(book.to_json_levels(), status=book.status.value)
                      for ticker, book in sorted(self.session.books.items())},
        }

    def feed(self, number: int, frame: bytes | str) -> None:
        """Run one frame through the session; ``number`` names it in errors."""
        self.frames += 1
        for event in self.session.receive_frame(frame):
            if isinstance(event, FrameError):
                where = f" ({event.type})" if event.type else ""
                self.errors.append((number, f"cannot decode frame{where} at {event.path}: "
                                            f"{event.reason}"))
            elif isinstance(event, CommandFailed):
                self.errors.append((number, f"server error {event.code}: {event.message}"))
            elif isinstance(event, Resyncing) and event.reason.startswith(("desync", "bad")):
                self.errors.append((number, f"{', '.join(event.tickers)}: {event.reason}"))


def replay_lines(lines: Iterable[bytes | str]) -> ReplayReport:
    """Feed each non-blank line to a :class:`PassiveSession`; line numbers start at 1."""
    session = PassiveSession()
    report = ReplayReport(session)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        report.feed(number, line)
    return report
