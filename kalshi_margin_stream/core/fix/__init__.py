"""Sans-I/O FIX engine for Kalshi's margin gateway (fix.md): codec, messages, session.

Pure and synchronous like the WebSocket core: bytes in, events and bytes out, times
passed in by the caller. The asyncio shells live in :mod:`kalshi_margin_stream.fix`
(client) and :mod:`kalshi_margin_stream.sim.fix_server` (simulator).
"""

from __future__ import annotations

from .codec import FrameReader, checksum, frame, split_fields
from .errors import FixError, FixFieldError, FixGarbled, RejectReason
from .logon import logon_prehash, sign_logon, verify_logon
from .messages import *  # noqa: F403 - the message Structs are this package's vocabulary
from .messages import __all__ as _message_names
from .session import (
    ApplicationMessage,
    Disconnect,
    FixSession,
    GapDetected,
    Garbled,
    LoggedOn,
    LoggedOut,
    LogonReceived,
    PeerReject,
    Rejected,
    Role,
    SeqState,
    SessionConfig,
    SessionKind,
    SessionState,
)

__all__ = [
    "ApplicationMessage", "Disconnect", "FixError", "FixFieldError", "FixGarbled",
    "FixSession", "FrameReader", "GapDetected", "Garbled", "LoggedOn", "LoggedOut",
    "LogonReceived", "PeerReject", "RejectReason", "Rejected", "Role", "SeqState",
    "SessionConfig", "SessionKind", "SessionState", "checksum", "frame", "logon_prehash",
    "sign_logon", "split_fields", "verify_logon", *_message_names,
]
