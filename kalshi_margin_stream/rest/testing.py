"""Test helpers for code that uses :class:`~.client.RestClient`, without sockets.

``ScriptedSend`` is a fake network in the spirit of httpx's ``MockTransport``:
pass it as ``RestClient(send=...)``; it answers each request with the next
scripted reply (a response, an exception to raise, or a function of the request)
and records every request it saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from .transport import RestRequest, RestResponse

__all__ = ["Reply", "ScriptedSend", "error_response", "json_response"]

Reply = RestResponse | BaseException | Callable[[RestRequest], RestResponse]


def json_response(body: object = None, status: int = 200,
                  headers: dict[str, str] | None = None) -> RestResponse:
    """A response whose body is ``body`` encoded as JSON (``None``: empty body)."""
    data = b"" if body is None else msgspec.json.encode(body)
    return RestResponse(status, data, headers or {})


def error_response(status: int, code: str | None = None, message: str = "error",
                   headers: dict[str, str] | None = None) -> RestResponse:
    """Kalshi's nested error body, or the 429 string shape when ``code`` is ``None``."""
    body: object = {"error": {"code": code, "message": message}} if code else {"error": message}
    return RestResponse(status, msgspec.json.encode(body), headers or {})


@dataclass
class ScriptedSend:
    """Answers requests from a script, in order; fails loudly on an unexpected request."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[RestRequest] = field(default_factory=list)

    async def __call__(self, request: RestRequest) -> RestResponse:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request {request.method} {request.path}")
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, RestResponse):
            return reply
        return reply(request)

    def calls(self, root: str = "/trade-api/v2") -> list[str]:
        """``"METHOD /path?query"`` of every request, relative to ``root``."""
        out = []
        for r in self.requests:
            tail = r.url.split(root, 1)[1] if root in r.url else r.url
            out.append(f"{r.method} {tail}")
        return out
