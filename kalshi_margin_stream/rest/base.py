"""The machinery under every REST call: session, signing, limiting, retries, paging.

:class:`RestBase` does one thing per call: wait for the rate limiter, sign
(``timestamp_ms + METHOD + path``, a fresh timestamp on every attempt), send,
map a non-2xx answer to a typed error, decode the body into its Struct, and on
failure ask :class:`~.retry.RetryPolicy` whether to retry, reconcile or fail.
The endpoint methods live in :mod:`.client`.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import msgspec

from ..core.auth import Credentials
from ..core.rest_models import MarginMarket
from ..exceptions import (
    ClientClosed,
    DecodeError,
    HTTPStatusError,
    InvalidRequest,
    KalshiError,
    ProtocolError,
    RateLimited,
)
from .errors import error_from_response
from .ratelimit import RateLimiter, RateLimits, bucket_for, request_cost
from .retry import Action, Op, RetryPolicy
from .transport import REST_URLS, AiohttpSender, RestRequest, RestResponse, Send, Timeouts

__all__ = ["CursorGuard", "Params", "RestBase", "encode_params", "path_segment"]

T = TypeVar("T")
ParamValue = str | int | bool | None
Params = Mapping[str, ParamValue]

_encoder = msgspec.json.Encoder()
_DEFAULT_TIMEOUTS = Timeouts()
_DEFAULT_LIMITS = RateLimits()
_DEFAULT_RETRY = RetryPolicy()
_decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}
_AT_PATH = re.compile(r" - at `(\$[^`]*)`$")


def _decoder(type_: type[T]) -> msgspec.json.Decoder[T]:
    dec = _decoders.get(type_)
    if dec is None:
        dec = _decoders[type_] = msgspec.json.Decoder(type_)
    return dec


def encode_params(params: Params | None) -> dict[str, str]:
    """Query parameters as strings; ``None`` dropped, booleans as ``true``/``false``."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def path_segment(value: str, name: str = "id") -> str:
    """``value`` quoted for use as one path segment; empty values are refused."""
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{name} must be a non-empty string")
    return quote(value, safe="")


class CursorGuard:
    """Walks cursor pagination and refuses a cursor the server already gave (a loop)."""

    def __init__(self, max_pages: int | None = None):
        self._seen: set[str] = set()
        self._pages = 0
        self._max_pages = max_pages

    def advance(self, cursor: str | None) -> bool:
        """True when there is another page to fetch with ``cursor``.

        Raises:
            ProtocolError: the server repeated a cursor, or ``max_pages`` was exceeded.
        """
        self._pages += 1
        if not cursor:
            return False
        if cursor in self._seen:
            raise ProtocolError(f"the server repeated cursor {cursor!r}: pagination loop")
        if self._max_pages is not None and self._pages >= self._max_pages:
            raise ProtocolError(f"more than {self._max_pages} pages: giving up")
        self._seen.add(cursor)
        return True


class _State(enum.Enum):
    UNOPENED = 0
    OPEN = 1
    CLOSED = 2


class RestBase:
    """Session ownership and the per-call pipeline; see :class:`~.client.RestClient`."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        # Endpoints
        env: str = "demo",
        base_url: str | None = None,
        # Connections
        session: aiohttp.ClientSession | None = None,
        send: Send | None = None,
        # Timeouts
        timeouts: Timeouts = _DEFAULT_TIMEOUTS,
        # Limits
        rate_limits: RateLimits = _DEFAULT_LIMITS,
        clock: Callable[[], float] | None = None,
        max_in_flight: int | None = 100,
        # Policy
        retry: RetryPolicy = _DEFAULT_RETRY,
        rng: random.Random | None = None,
        time_ms: Callable[[], int] | None = None,
        # Logging
        logger: logging.Logger | None = None,
    ):
        if base_url is None:
            if env not in REST_URLS:
                raise ValueError(f"env must be one of {', '.join(REST_URLS)}, not {env!r}")
            base_url = REST_URLS[env]
        self.base_url = base_url.rstrip("/")
        self._root = urlsplit(self.base_url).path.rstrip("/")
        self._credentials = credentials
        self._session = session
        self._own_session = session is None and send is None
        self._send: Send | None = send
        self.timeouts = timeouts
        self.limiter = RateLimiter(rate_limits, clock=clock)
        # Tokens are taken only by requests that can go out at once (aiohttp pools 100
        # connections by default): a token spent by a request still queued for a
        # connection would reach the server late, bunched with later ones.
        self._in_flight = asyncio.Semaphore(max_in_flight) if max_in_flight else None
        self.retry = retry
        self._rng = rng or random.Random()
        self._time_ms = time_ms or (lambda: time.time_ns() // 1_000_000)
        self.log = logger or logging.getLogger("kalshi_margin_stream.rest")
        self._state = _State.UNOPENED
        self.markets: dict[str, MarginMarket] = {}
        """Markets seen so far, by ticker: their tick and fractional flag guide validation."""

    # --- lifecycle ---------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Open the HTTP session (done by ``async with``)."""
        if self._state is _State.CLOSED:
            raise ClientClosed("this REST client was closed")
        if self._state is _State.OPEN:
            return
        if self._send is None:
            if self._session is None:
                self._session = aiohttp.ClientSession()
            self._send = AiohttpSender(self._session, self.timeouts)
        self._state = _State.OPEN

    async def aclose(self) -> None:
        """Close the session if we opened it (a caller's shared session is left open)."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        if self._own_session and self._session is not None:
            await self._session.close()

    # --- one attempt -------------------------------------------------------

    async def _send_once(self, method: str, path: str, query: dict[str, str],
                         body: bytes | None, timeout: float | None) -> RestResponse:
        if self._state is not _State.OPEN or self._send is None:
            raise ClientClosed("use the REST client inside `async with` (or after open())")
        if self._in_flight is None:
            return await self._send_now(method, path, query, body, timeout)
        async with self._in_flight:
            return await self._send_now(method, path, query, body, timeout)

    async def _send_now(self, method: str, path: str, query: dict[str, str],
                        body: bytes | None, timeout: float | None) -> RestResponse:
        assert self._send is not None
        kind = bucket_for(method, path)
        await self.limiter.acquire(kind, request_cost(method, path, query))
        full_path = self._root + path
        url = self.base_url + path + ("?" + urlencode(query) if query else "")
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        headers.update(self._auth_headers(method, full_path))
        request = RestRequest(method, url, full_path, headers, body,
                              self.timeouts.request if timeout is None else timeout)
        self.log.debug("> %s %s", method, full_path)
        response = await self._send(request)
        self.log.debug("< %s %s %s", response.status, method, full_path)
        if 200 <= response.status < 300:
            return response
        if response.status == 429:
            self.limiter.rate_limited(kind)
        raise error_from_response(response.status, response.body, response.headers,
                                  method=method, path=full_path)

    def _auth_headers(self, method: str, full_path: str) -> dict[str, str]:
        """The ``KALSHI-ACCESS-*`` headers, signed now (none without credentials)."""
        if self._credentials is None:
            return {}
        return self._credentials.headers(method, full_path, self._time_ms())

    def _decode(self, response: RestResponse, type_: type[T], where: str) -> T:
        body = response.body if response.body.strip() else b"{}"
        try:
            return _decoder(type_).decode(body)
        except msgspec.ValidationError as exc:
            text = str(exc)
            found = _AT_PATH.search(text)
            raise DecodeError(f"{where}: {text}", path=found.group(1) if found else "$") \
                from None
        except msgspec.DecodeError as exc:
            raise DecodeError(f"{where}: invalid JSON: {exc}") from None

    # --- the retry loop ------------------------------------------------------

    async def _call(self, op: Op, method: str, path: str, type_: type[T], *,
                    params: Params | None = None, body: msgspec.Struct | None = None,
                    timeout: float | None = None,
                    reconcile: Callable[[], Awaitable[T | None]] | None = None) -> T:
        """Send one logical call, retrying or reconciling as :mod:`.retry` decides."""
        query = encode_params(params)
        data = _encoder.encode(body) if body is not None else (
            b"{}" if method in ("POST", "PUT") else None)  # rest.md §8.12: always a body
        failures = limited = 0
        retried = False
        while True:
            try:
                response = await self._send_once(method, path, query, data, timeout)
                return self._decode(response, type_, f"{method} {self._root}{path}")
            except (ClientClosed, DecodeError):
                raise
            except KalshiError as exc:
                if isinstance(exc, RateLimited):
                    limited += 1
                else:
                    failures += 1
                decision = self.retry.decide(op, exc, failures=failures, limited=limited,
                                             retried=retried, rng=self._rng)
                if decision.action is Action.FAIL:
                    raise
                if decision.action is Action.RECONCILE:
                    found = await self._reconcile(reconcile, exc)
                    if found is not None:
                        return found
                    if failures >= self.retry.max_attempts or not _resendable(exc):
                        raise
                self.log.info("retrying %s %s%s in %.3fs after %s", method, self._root, path,
                              decision.delay, exc)
                await asyncio.sleep(decision.delay)
                retried = True

    async def _reconcile(self, reconcile: Callable[[], Awaitable[T | None]] | None,
                         exc: KalshiError) -> T | None:
        if reconcile is None:
            raise exc
        try:
            return await reconcile()
        except KalshiError as lookup_error:
            # The lookup failed too: we still do not know, so resending (same id,
            # or a confirmable write) stays the safe move if attempts remain.
            self.log.warning("reconcile lookup failed: %s", lookup_error)
            return None

    # --- pagination ----------------------------------------------------------

    async def _pages(self, path: str, type_: type[T], params: Params,
                     cursor_of: Callable[[T], str | None], *,
                     timeout: float | None = None,
                     max_pages: int | None = None) -> AsyncIterator[T]:
        guard = CursorGuard(max_pages)
        query: dict[str, ParamValue] = dict(params)
        while True:
            page = await self._call(Op.READ, "GET", path, type_, params=query, timeout=timeout)
            yield page
            cursor = cursor_of(page)
            if not guard.advance(cursor):
                return
            query["cursor"] = cursor


def _resendable(exc: KalshiError) -> bool:
    """After a reconcile that found nothing, may the same request go out again?

    Not after a 409/404 conflict on a retry: the server says the effect exists (or
    the order is gone) but the lookup could not show it, so only the caller can judge.
    """
    return not (isinstance(exc, HTTPStatusError) and exc.status in (404, 409))
