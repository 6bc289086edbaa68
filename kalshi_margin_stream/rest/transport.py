"""The one seam between the REST client and the network.

A sender is any ``async (RestRequest) -> RestResponse`` callable (httpx's
``MockTransport`` idea): the default :class:`AiohttpSender` uses one pooled
``aiohttp.ClientSession``; a test can pass a plain function instead and check
error mapping, signing and retries without sockets.

A sender returns every HTTP answer, 2xx or not, and raises only our transport
errors, translated here at the boundary:

* :class:`ConnectError` - the connection could not be opened (nothing was sent);
* :class:`Timeout` - no answer in time (the request may have been acted on);
* :class:`ConnectionLost` - the connection broke mid-request (idem).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import aiohttp

from ..exceptions import ConnectError, ConnectionLost, Timeout

__all__ = [
    "REST_URLS",
    "AiohttpSender",
    "DeadlineSender",
    "RestRequest",
    "RestResponse",
    "Send",
    "Timeouts",
]

REST_URLS: Mapping[str, str] = {
    "prod": "https://external-api.kalshi.com/trade-api/v2",
    "demo": "https://external-api.demo.kalshi.co/trade-api/v2",
}
"""Base URLs per environment (rest.md §1: the ``external-api`` hosts)."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed to open a connection and for a whole request (``None`` = no limit).

    A per-call ``timeout=`` replaces ``request`` for that call.
    """

    connect: float | None = 10.0
    request: float | None = 30.0


@dataclass(frozen=True, slots=True)
class RestRequest:
    """One HTTP request, fully built and signed. ``headers`` hold the signature: never log."""

    method: str
    url: str
    path: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class RestResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


Send = Callable[[RestRequest], Awaitable[RestResponse]]


class AiohttpSender:
    """Sends requests over one ``aiohttp.ClientSession`` (pooled connections)."""

    def __init__(self, session: aiohttp.ClientSession, timeouts: Timeouts):
        self._session = session
        self._timeouts = timeouts

    async def __call__(self, request: RestRequest) -> RestResponse:
        timeout = aiohttp.ClientTimeout(total=request.timeout, connect=self._timeouts.connect)
        try:
            async with self._session.request(request.method, request.url,
                                             headers=dict(request.headers),
                                             data=request.body, timeout=timeout,
                                             allow_redirects=False) as resp:
                body = await resp.read()
                return RestResponse(resp.status, body, dict(resp.headers))
        except aiohttp.ConnectionTimeoutError as exc:
            # Timed out while connecting: the request never left.
            raise ConnectError(f"connect timed out: {request.method} {request.path}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise ConnectError(
                f"cannot connect for {request.method} {request.path}: {exc.os_error}") from exc
        except TimeoutError as exc:
            raise Timeout(f"no answer in time: {request.method} {request.path}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionLost(
                f"connection lost during {request.method} {request.path}: "
                f"{type(exc).__name__}") from exc


class DeadlineSender:
    """Wraps a sender so that every attempt of a call ends by one deadline (``--timeout``).

    Each attempt gets at most the time left, and none starts once it has passed:
    that raises the builtin ``TimeoutError`` (not :class:`Timeout`), which the
    retry loop does not retry, so the call ends. An ``asyncio.timeout`` around the
    call is not enough: when a request's own timeout falls due at the same moment,
    aiohttp's timer takes the cancellation, the outer deadline is lost and the
    retries run on (4 attempts x the timeout). :attr:`attempts` counts the sends.
    """

    def __init__(self, send: Send, seconds: float | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._send = send
        self._clock = clock
        self._deadline = None if seconds is None else clock() + seconds
        self.attempts = 0

    async def __call__(self, request: RestRequest) -> RestResponse:
        if self._deadline is not None:
            left = self._deadline - self._clock()
            if left <= 0:
                raise TimeoutError(f"no answer in time: {request.method} {request.path}")
            if request.timeout is None or request.timeout > left:
                request = dataclasses.replace(request, timeout=left)
        self.attempts += 1
        return await self._send(request)
