"""The Logon signature (fix.md §3.2): what is signed, how, and how it is checked.

Pre-hash = ``SendingTime SOH "A" SOH MsgSeqNum SOH SenderCompID SOH TargetCompID``,
byte-identical to the header it rides in; signed with the REST recipe
(:func:`~kalshi_margin_stream.core.auth.sign_bytes`: RSA-PSS/SHA-256 salt 32, or
Ed25519), base64 in RawData (96) with its length in RawDataLength (95).
"""

from __future__ import annotations

from ..auth import PrivateKey, PublicKey, sign_bytes, verify_bytes
from .messages import Header

__all__ = ["logon_prehash", "sign_logon", "verify_logon"]


def logon_prehash(header: Header) -> bytes:
    """The bytes the Logon signature covers."""
    return "\x01".join((header.sending_time, "A", str(header.msg_seq_num),
                        header.sender_comp_id, header.target_comp_id)).encode()


def sign_logon(key: PrivateKey, header: Header) -> str:
    """Base64 RawData (96) for a Logon carrying ``header``."""
    return sign_bytes(key, logon_prehash(header))


def verify_logon(key: PublicKey, header: Header, raw_data: str | None) -> bool:
    """True when ``raw_data`` signs ``header``'s pre-hash with ``key``."""
    return raw_data is not None and verify_bytes(key, raw_data, logon_prehash(header))
