"""All error body shapes map onto the typed tree (rest.md §4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kalshi_margin_stream.exceptions import (
    AuthError,
    HTTPStatusError,
    KalshiError,
    RateLimited,
)
from kalshi_margin_stream.rest.errors import (
    RestAuthError,
    code_matches,
    error_from_response,
    parse_error_body,
    parse_retry_after,
)

DATA = Path(__file__).parents[1] / "data" / "rest"


def _error(stem: str, status: int) -> HTTPStatusError:
    return error_from_response(status, (DATA / f"{stem}.json").read_bytes(), {},
                               method="POST", path="/trade-api/v2/margin/orders")


def test_nested_shape_with_details() -> None:
    err = _error("orders__off_tick_price", 400)
    assert type(err) is HTTPStatusError
    assert (err.status, err.code, err.message) == (400, "invalid_order", "invalid order")
    assert err.details == "invalid price: invalid dollar precision: -5"
    assert (err.method, err.path) == ("POST", "/trade-api/v2/margin/orders")
    assert "invalid_order" in str(err) and "dollar precision" in str(err)


def test_nested_shape_ignores_service_and_matches_by_prefix() -> None:
    err = _error("orders__create_gtc_blocked", 400)
    assert err.code == "user_not_found:_f50604b8-d25a-4b0c-b3c9-ce5b48ffcad0"
    assert code_matches(err, "user_not_found")
    assert code_matches(err, "USER_NOT_FOUND", status=400)
    assert not code_matches(err, "user_not_found", status=404)
    assert not code_matches(ValueError("x"), "user_not_found")


def test_flat_shape() -> None:
    err = _error("subaccounts__create_nobody", 400)
    assert (err.code, err.message) == ("invalid_content_type", "invalid_content_type")


def test_bare_msg_shape() -> None:
    err = _error("funding__history_no_params", 400)
    assert err.code is None
    assert err.message == "Query argument start_date is required, but not found"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_are_both_auth_and_http(status: int) -> None:
    err = _error("auth__bad_signature", status)
    assert isinstance(err, RestAuthError)
    assert isinstance(err, AuthError) and isinstance(err, HTTPStatusError)
    assert isinstance(err, KalshiError)
    assert err.status == status and err.code == "authentication_error"
    assert err.details == "INCORRECT_API_KEY_SIGNATURE"


def test_expired_timestamp_is_auth_error() -> None:
    err = _error("auth__skew_minus30s", 401)
    assert isinstance(err, AuthError) and err.code == "header_timestamp_expired"


def test_rate_limited_string_error_body() -> None:
    err = error_from_response(429, b'{"error":"too many requests"}', {}, method="GET",
                              path="/p")
    assert isinstance(err, RateLimited)
    assert err.status == 429 and err.retry_after is None
    assert err.message == "too many requests"


def test_rate_limited_honours_retry_after_header_any_case() -> None:
    err = error_from_response(429, b"", {"retry-after": "1.5"}, method="GET", path="/p")
    assert isinstance(err, RateLimited) and err.retry_after == 1.5


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("", None), ("2", 2.0), ("0", 0.0), ("-3", None), ("nan", None),
    ("soon", None), ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = 1445412480.0  # 2015-10-21T07:28:00Z
    assert parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize(("body", "code", "message"), [
    (b"", None, None),
    (b"<html>bad gateway</html>", None, "<html>bad gateway</html>"),
    (b"[1,2]", None, "[1,2]"),
    (b'{"something":"else"}', None, None),
    (b'{"error":null,"code":"x"}', "x", None),
])
def test_parse_error_body_never_raises(body: bytes, code: str | None,
                                       message: str | None) -> None:
    info = parse_error_body(body)
    assert (info.code, info.message) == (code, message)


def test_5xx_with_exchange_status_body() -> None:
    err = error_from_response(503, b'{"exchange_active":false,"trading_active":false}', {},
                              method="GET", path="/trade-api/v2/margin/exchange/status")
    assert type(err) is HTTPStatusError and err.status == 503 and err.code is None
