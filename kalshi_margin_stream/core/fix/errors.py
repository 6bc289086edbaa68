"""FIX errors (Sans-I/O): what the codec and the session engine raise.

::

    ProtocolError
    └── FixError
        ├── FixGarbled         framing broken (BeginString, BodyLength, CheckSum): drop it
        └── FixFieldError      framing fine, a field is missing or wrong: answer 35=3
"""

from __future__ import annotations

from ...exceptions import ProtocolError

__all__ = ["FixError", "FixFieldError", "FixGarbled", "RejectReason"]


class RejectReason:
    """SessionRejectReason (373) codes (fix.md §7.9)."""

    INVALID_TAG = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED = 2
    UNDEFINED_TAG = 3
    TAG_WITHOUT_VALUE = 4
    INCORRECT_VALUE = 5
    INCORRECT_FORMAT = 6
    SIGNATURE_PROBLEM = 8
    COMPID_PROBLEM = 9
    SENDING_TIME_ACCURACY = 10
    INVALID_MSGTYPE = 11


class FixError(ProtocolError):
    """A FIX message could not be read."""


class FixGarbled(FixError):
    """The bytes are not a well-framed FIX message; FIX says drop it silently."""


class FixFieldError(FixError):
    """A well-framed message with a bad field: the peer gets a Reject (35=3).

    Attributes:
        reason: SessionRejectReason (373).
        tag: the offending tag (371), when known.
        msg_type: the message's MsgType (372), when known.
        seq: the message's MsgSeqNum (45 of the Reject), when it could be read.
    """

    def __init__(self, text: str, *, reason: int, tag: int | None = None,
                 msg_type: str | None = None, seq: int | None = None) -> None:
        self.text = text
        self.reason = reason
        self.tag = tag
        self.msg_type = msg_type
        self.seq = seq
        super().__init__(text)
