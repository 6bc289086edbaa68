"""Unit tests of the simulator's pure parts: auth window, token buckets, frame faults,
the funding-rate encoder. No sockets."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.core.messages import (
    FundingRate,
    OrderbookDelta,
    OrderbookDeltaBody,
    Ticker,
    TickerBody,
)
from kalshi_margin_stream.sim.admin import is_loopback
from kalshi_margin_stream.sim.auth import (
    SKEW_WINDOW_MS,
    Authenticated,
    AuthFailure,
    KeyRegistry,
    authenticate,
)
from kalshi_margin_stream.sim.faults import FaultState, SimStats
from kalshi_margin_stream.sim.ratelimit import (
    BucketLimit,
    RateLimiter,
    Tier,
    request_cost,
)
from kalshi_margin_stream.sim.wire import encode_frame

DATA = Path(__file__).parent / "data"
PATH = "/trade-api/v2/margin/balance"
NOW = 1_781_268_262_765


def _fixture(name: str) -> object:
    return json.loads((DATA / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def rsa_creds() -> Credentials:
    return Credentials("k-rsa", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture
def registry(rsa_creds: Credentials) -> KeyRegistry:
    reg = KeyRegistry()
    reg.add(rsa_creds.private_key.public_key(), user_id="u1", key_id="k-rsa")
    return reg


def test_valid_rsa_signature_is_accepted(registry: KeyRegistry, rsa_creds: Credentials) -> None:
    headers = rsa_creds.headers("GET", PATH, NOW)
    assert authenticate(registry, headers, "GET", PATH, NOW) == Authenticated("k-rsa", "u1")


def test_ed25519_key_is_accepted() -> None:
    creds = Credentials("k-ed", ed25519.Ed25519PrivateKey.generate())
    reg = KeyRegistry()
    reg.add(creds.public_key_pem(), user_id="u2", key_id="k-ed")
    result = authenticate(reg, creds.headers("POST", "/trade-api/v2/margin/orders", NOW), "POST",
                          "/trade-api/v2/margin/orders", NOW)
    assert result == Authenticated("k-ed", "u2")


@pytest.mark.parametrize(("skew_s", "fixture"), [
    (-30, "auth__skew_minus30s"), (-300, "auth__skew_minus5min"), (300, "auth__skew_plus5min"),
])
def test_skew_rejections_match_the_recorded_bodies(registry: KeyRegistry, rsa_creds: Credentials,
                                                   skew_s: int, fixture: str) -> None:
    headers = rsa_creds.headers("GET", PATH, NOW + skew_s * 1000)
    result = authenticate(registry, headers, "GET", PATH, NOW)
    assert isinstance(result, AuthFailure)
    assert result.status == 401
    assert result.body == _fixture(fixture)


@pytest.mark.parametrize("skew_s", [-5, 5, 30])
def test_skews_accepted_on_demo_are_accepted(registry: KeyRegistry, rsa_creds: Credentials,
                                             skew_s: int) -> None:
    headers = rsa_creds.headers("GET", PATH, NOW + skew_s * 1000)
    assert isinstance(authenticate(registry, headers, "GET", PATH, NOW), Authenticated)


def test_window_edges_are_inclusive(registry: KeyRegistry, rsa_creds: Credentials) -> None:
    low, high = SKEW_WINDOW_MS
    for offset, ok in ((low, True), (low - 1, False), (high, True), (high + 1, False)):
        result = authenticate(registry, rsa_creds.headers("GET", PATH, NOW + offset), "GET",
                              PATH, NOW)
        assert isinstance(result, Authenticated) is ok, offset


def test_bad_signature_body_matches_recording(registry: KeyRegistry,
                                              rsa_creds: Credentials) -> None:
    headers = rsa_creds.headers("GET", "/trade-api/v2/margin/positions", NOW)  # other path
    result = authenticate(registry, headers, "GET", PATH, NOW)
    assert isinstance(result, AuthFailure)
    assert result.body == _fixture("auth__bad_signature")


def test_unknown_key_and_missing_headers_are_401(registry: KeyRegistry,
                                                 rsa_creds: Credentials) -> None:
    other = Credentials("nobody", rsa_creds.private_key)
    unknown = authenticate(registry, other.headers("GET", PATH, NOW), "GET", PATH, NOW)
    assert isinstance(unknown, AuthFailure) and unknown.reason == "unknown key"
    headers = rsa_creds.headers("GET", PATH, NOW)
    del headers["KALSHI-ACCESS-SIGNATURE"]
    missing = authenticate(registry, headers, "GET", PATH, NOW)
    assert isinstance(missing, AuthFailure) and missing.reason == "missing headers"
    garbage = dict(rsa_creds.headers("GET", PATH, NOW), **{"KALSHI-ACCESS-SIGNATURE": "%%%"})
    assert isinstance(authenticate(registry, garbage, "GET", PATH, NOW), AuthFailure)
    bad_ts = dict(rsa_creds.headers("GET", PATH, NOW), **{"KALSHI-ACCESS-TIMESTAMP": "soon"})
    assert isinstance(authenticate(registry, bad_ts, "GET", PATH, NOW), AuthFailure)


def test_token_bucket_refills_continuously() -> None:
    limiter = RateLimiter(tier=Tier("t", BucketLimit(10, 20), BucketLimit(10, 10)))
    assert limiter.allow("k", "read", 10, 0.0)
    assert limiter.allow("k", "read", 10, 0.0)
    assert not limiter.allow("k", "read", 10, 0.0)
    assert not limiter.allow("k", "read", 10, 0.5)  # 5 tokens back
    assert limiter.allow("k", "read", 10, 1.5)  # 10 more
    assert limiter.allow("other", "read", 10, 1.5)  # buckets are per key
    assert limiter.allow("k", "write", 10, 1.5)  # and per kind
    assert not limiter.allow("k", "write", 10, 1.5)


def test_request_costs_follow_rest_md() -> None:
    assert request_cost("GET", "/margin/balance") == ("read", 5)
    assert request_cost("GET", "/margin/balance", {"compute_available_balance": "true"}) == (
        "read", 50)
    assert request_cost("POST", "/margin/orders") == ("write", 10)
    assert request_cost("PUT", "/margin/order_groups/x/trigger") == ("write", 10)
    assert request_cost("GET", "/margin/orders") == ("read", 10)


def test_frame_faults_are_consumed_in_order_and_counted() -> None:
    stats = SimStats()
    faults = FaultState(stats)
    faults.drop_frames(3, 2)
    faults.duplicate_frames(3, 1, conn_id=9)
    seen = [faults.frame_action(9, 3) for _ in range(4)]
    assert seen == ["drop", "drop", "duplicate", "send"]
    assert faults.frame_action(1, 4) == "send"
    assert stats.faults["frames_dropped"] == 2
    assert stats.faults["frames_duplicated"] == 1
    with pytest.raises(ValueError):
        faults.drop_frames(1, 0)


def test_rest_faults_queue() -> None:
    stats = SimStats()
    faults = FaultState(stats)
    faults.fail_rest("500", 2)
    faults.fail_rest("timeout", 1, hang_s=0.5, then="answer")
    kinds = [faults.next_rest_fault() for _ in range(4)]
    assert [k.kind if k else None for k in kinds] == ["500", "500", "timeout", None]
    assert stats.faults["rest_500"] == 2 and stats.faults["rest_timeout"] == 1
    with pytest.raises(ValueError):
        faults.fail_rest("418")  # type: ignore[arg-type]


def test_ticker_funding_rate_is_a_json_number() -> None:
    body = TickerBody(market_ticker="KXBTCPERP", price=Decimal("8.0961"),
                      funding_rate=FundingRate(rate=Decimal("-0.00012"),
                                               next_funding_time_ms=1, ts_ms=2))
    frame = json.loads(encode_frame(Ticker(sid=3, msg=body), 99))
    assert frame["msg"]["funding_rate"]["rate"] == pytest.approx(-0.00012)
    assert isinstance(frame["msg"]["funding_rate"]["rate"], float)
    assert frame["msg"]["price"] == "8.0961"
    assert frame["sending_ts_ms"] == 99


def test_other_frames_keep_decimal_strings() -> None:
    delta = OrderbookDelta(sid=1, seq=2, msg=OrderbookDeltaBody(
        market_ticker="X", price_text="1.0000", delta_text="-3.00", side="bid"))
    frame = json.loads(encode_frame(delta, 5))
    assert frame["msg"]["delta"] == "-3.00" and frame["seq"] == 2 and frame["sending_ts_ms"] == 5


@pytest.mark.parametrize(("remote", "ok"), [
    ("127.0.0.1", True), ("127.5.5.5", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("10.0.0.1", False), ("192.168.1.2", False), (None, False), ("garbage", False),
])
def test_admin_is_loopback_only(remote: str | None, ok: bool) -> None:
    assert is_loopback(remote) is ok


def test_rfc3339_formats_like_kalshi() -> None:
    from kalshi_margin_stream.sim.rest_views import rfc3339

    assert rfc3339(1781294400000) == "2026-06-12T20:00:00Z"
    assert rfc3339(1781268270490) == "2026-06-12T12:44:30.490Z"
    assert rfc3339(1781268270007) == "2026-06-12T12:44:30.007Z"
