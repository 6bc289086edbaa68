"""Encoding of outgoing WebSocket frames: the core Structs plus ``sending_ts_ms``.

One exception to "a Decimal is a JSON string": the ticker's ``funding_rate.rate`` is a
JSON **number** in the official schema, while ``core.messages.FundingRate`` holds a
``Decimal``. That single field is rewritten here and nowhere else.
"""

from __future__ import annotations

import re

import msgspec

from ..core.codec import encode
from ..core.messages import Message, Ticker

__all__ = ["encode_frame"]

# msgspec writes fields in declaration order without spaces, so the rate is always the
# first key of the funding_rate object.
_RATE = re.compile(rb'"funding_rate":\{"rate":"(-?[0-9.Ee+-]+)"')


def encode_frame(msg: Message, sending_ts_ms: int) -> bytes:
    """JSON bytes of ``msg`` stamped with ``sending_ts_ms``."""
    data = encode(msgspec.structs.replace(msg, sending_ts_ms=sending_ts_ms))
    if isinstance(msg, Ticker) and msg.msg.funding_rate is not None:
        data = _RATE.sub(rb'"funding_rate":{"rate":\1', data, count=1)
    return data
