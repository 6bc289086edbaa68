"""One decoder for every server frame, one encoder for every command.

``decode_frame`` turns a text frame into its typed message. Three outcomes:

* a known ``type`` that validates: the message Struct;
* an unknown ``type``: an :class:`Unknown` carrying the type and the raw frame,
  because the server keeps adding message types and a client must not break;
* anything else (bad JSON, no ``type``, a known type with a missing or malformed
  field): :class:`~kalshi_margin_stream.exceptions.DecodeError`, naming the JSON path.

Nothing but ``DecodeError`` ever escapes ``decode_frame``.
"""

from __future__ import annotations

import re

import msgspec

from ..exceptions import DecodeError
from .messages import ClientCommand, ServerMessage

__all__ = [
    "DECODE_FAILED",
    "Unknown",
    "decode_known",
    "decode_command",
    "decode_frame",
    "encode",
    "encode_command",
]


class Unknown(msgspec.Struct, frozen=True):
    """A frame whose ``type`` this version does not know; kept raw, never dropped silently."""

    type: str
    raw: bytes
    sid: int | None = None


class _TypeOnly(msgspec.Struct):
    type: str


class _Envelope(_TypeOnly):
    sid: int | None = None


_decoder: msgspec.json.Decoder[ServerMessage] = msgspec.json.Decoder(ServerMessage)
_envelope = msgspec.json.Decoder(_Envelope)
_type_only = msgspec.json.Decoder(_TypeOnly)
_command_decoder: msgspec.json.Decoder[ClientCommand] = msgspec.json.Decoder(ClientCommand)
_encoder = msgspec.json.Encoder()
_PATH = re.compile(r" - at `(\$[^`]*)`$")

decode_known = _decoder.decode
"""The bare decoder of known message types (raises msgspec's errors): for a caller
that handles the common case itself and calls :func:`decode_frame` on failure."""
DECODE_FAILED = (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError)
"""What :data:`decode_known` raises for a frame :func:`decode_frame` must look at."""


def _split(err: msgspec.ValidationError) -> tuple[str, str]:
    text = str(err)
    m = _PATH.search(text)
    if m is None:
        return text, "$"
    return text[: m.start()], m.group(1)


def decode_frame(frame: bytes | str) -> ServerMessage | Unknown:
    """Decode one text frame from the margin socket.

    Raises:
        DecodeError: bad JSON, no ``type``, or a known type that fails validation.
    """
    try:
        return _decoder.decode(frame)
    except msgspec.ValidationError as exc:
        return _fallback(frame, exc)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"invalid JSON: {exc}", path="$") from None


def _fallback(frame: bytes | str, exc: msgspec.ValidationError) -> Unknown:
    """Tell an unknown ``type`` (kept as :class:`Unknown`) from a malformed known one."""
    reason, path = _split(exc)
    try:
        env = _envelope.decode(frame)
    except (msgspec.DecodeError, UnicodeDecodeError):
        # Not a whole envelope either (validation stops before a truncation): still
        # report the frame's type when it can be read.
        try:
            typed = _type_only.decode(frame)
        except (msgspec.DecodeError, UnicodeDecodeError):
            raise DecodeError(reason, path=path) from None
        raise DecodeError(reason, path=path, type=typed.type) from None
    if path == "$.type" and reason.startswith("Invalid value"):
        raw = frame.encode() if isinstance(frame, str) else bytes(frame)
        return Unknown(env.type, raw, env.sid)
    raise DecodeError(reason, path=path, type=env.type, sid=env.sid) from None


def encode(obj: object) -> bytes:
    """JSON bytes of a command or message Struct (``Decimal`` as its string)."""
    return _encoder.encode(obj)


def encode_command(cmd: ClientCommand) -> bytes:
    """JSON bytes of one command, ready to send as a text frame."""
    return _encoder.encode(cmd)


def decode_command(frame: bytes | str) -> ClientCommand:
    """Decode a client command (the simulator's side).

    Raises:
        DecodeError: bad JSON, unknown ``cmd`` or malformed params.
    """
    try:
        return _command_decoder.decode(frame)
    except msgspec.ValidationError as exc:
        reason, path = _split(exc)
        raise DecodeError(reason, path=path) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise DecodeError(f"invalid JSON: {exc}", path="$") from None
