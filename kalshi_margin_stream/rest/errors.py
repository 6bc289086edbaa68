"""Turning a non-2xx REST answer into the package's typed errors.

Kalshi's margin API answers errors in three shapes (rest.md §4), and a 429 in a
fourth; :func:`parse_error_body` reads all of them:

1. nested ``{"error": {"code", "message", "details"}}`` (most errors);
2. flat ``{"code", "message"}`` (``invalid_content_type``);
3. bare ``{"msg": "..."}`` (request validation);
4. rate limit ``{"error": "too many requests"}`` (the ``error`` is a string).

:func:`error_from_response` then picks the class: 429 -> :class:`RateLimited`,
401/403 -> :class:`RestAuthError` (both an ``AuthError`` and an
``HTTPStatusError``), anything else -> :class:`HTTPStatusError`. Every one is a
``KalshiError`` and carries status, code, message, details, method and path.
Branch on ``code`` with :func:`code_matches` (prefix match: some codes embed data,
``user_not_found:_<uuid>``), never on ``message``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import msgspec

from ..exceptions import AuthError, HTTPStatusError, RateLimited

__all__ = [
    "ErrorInfo",
    "RestAuthError",
    "code_matches",
    "error_from_response",
    "parse_error_body",
    "parse_retry_after",
]


class ErrorInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Kalshi's ``ErrorResponse`` (every field optional)."""

    code: str | None = None
    message: str | None = None
    details: str | None = None


class _Envelope(msgspec.Struct, kw_only=True):
    error: ErrorInfo | str | None = None
    code: str | None = None
    message: str | None = None
    details: str | None = None
    msg: str | None = None


_envelope = msgspec.json.Decoder(_Envelope)
_MAX_TEXT = 300  # how much of a non-JSON body to keep as the message


class RestAuthError(HTTPStatusError, AuthError):  # type: ignore[misc]  # status: int vs int | None
    """401/403: ``except AuthError`` and ``except HTTPStatusError`` both catch it."""

    def __init__(self, status: int, *, code: str | None = None, message: str | None = None,
                 details: str | None = None, method: str = "", path: str = ""):
        # Set the fields directly: the two bases' __init__ signatures differ.
        Exception.__init__(self, status, code, message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.method = method
        self.path = path

    def __str__(self) -> str:
        return HTTPStatusError.__str__(self)


def parse_error_body(body: bytes) -> ErrorInfo:
    """The code, message and details of an error body, whatever its shape.

    Never raises: a body that is not JSON (a proxy's HTML page) becomes the message.
    """
    if not body.strip():
        return ErrorInfo()
    try:
        env = _envelope.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        text = body[:_MAX_TEXT].decode("utf-8", "replace").strip()
        return ErrorInfo(message=text or None)
    if isinstance(env.error, ErrorInfo):
        return env.error
    if isinstance(env.error, str):
        return ErrorInfo(message=env.error)
    if env.code is not None or env.message is not None:
        return ErrorInfo(code=env.code, message=env.message, details=env.details)
    if env.msg is not None:
        return ErrorInfo(message=env.msg)
    return ErrorInfo()


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


def error_from_response(status: int, body: bytes, headers: Mapping[str, str], *,
                        method: str, path: str) -> HTTPStatusError:
    """The typed error for one non-2xx answer (``path`` without query string)."""
    info = parse_error_body(body)
    if status == 429:
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        return RateLimited(retry_after=retry_after, method=method, path=path,
                           message=info.message or "too many requests")
    if status in (401, 403):
        return RestAuthError(status, code=info.code, message=info.message,
                             details=info.details, method=method, path=path)
    return HTTPStatusError(status, code=info.code, message=info.message, details=info.details,
                           method=method, path=path)


def code_matches(exc: BaseException, *prefixes: str, status: int | None = None) -> bool:
    """True when ``exc`` is an HTTP error whose code starts with one of ``prefixes``.

    ``status`` narrows the match further. Codes are compared case-insensitively
    (the server has sent ``NOTIONAL_RISK_LIMIT_EXCEEDED`` in upper case).
    """
    if not isinstance(exc, HTTPStatusError):
        return False
    if status is not None and exc.status != status:
        return False
    code = (exc.code or "").lower()
    return any(code.startswith(p.lower()) for p in prefixes)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None
