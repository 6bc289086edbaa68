"""The retry/reconcile decisions (rest/retry.py's table), without any I/O."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.exceptions import (
    ConnectError,
    ConnectionLost,
    HTTPStatusError,
    InvalidRequest,
    KalshiError,
    RateLimited,
    Timeout,
)
from kalshi_margin_stream.rest.retry import Action, Failure, Op, RetryPolicy, classify
from kalshi_margin_stream.rest.transport import DeadlineSender, RestRequest, RestResponse

NOT_SENT = [ConnectError("refused"), RateLimited()]
AMBIGUOUS = [Timeout("slow"), ConnectionLost("reset"), HTTPStatusError(500),
             HTTPStatusError(503, code="service_unavailable")]
FINAL = [HTTPStatusError(400, code="invalid_order"), HTTPStatusError(404, code="not_found"),
         HTTPStatusError(409, code="order_already_exists"), InvalidRequest("x")]

POLICY = RetryPolicy(jitter=False, base_delay=0.1, max_delay=1.0)


def _decide(op: Op, exc: BaseException, *, failures: int = 1, limited: int = 0,
            retried: bool = False) -> Action:
    return POLICY.decide(op, exc, failures=failures, limited=limited, retried=retried).action


@pytest.mark.parametrize("exc", NOT_SENT)
def test_classify_not_sent(exc: BaseException) -> None:
    assert classify(exc) is Failure.NOT_SENT


@pytest.mark.parametrize("exc", AMBIGUOUS)
def test_classify_ambiguous(exc: BaseException) -> None:
    assert classify(exc) is Failure.AMBIGUOUS


@pytest.mark.parametrize("exc", FINAL)
def test_classify_final(exc: BaseException) -> None:
    assert classify(exc) is Failure.FINAL


@pytest.mark.parametrize("op", list(Op))
@pytest.mark.parametrize("exc", NOT_SENT)
def test_not_sent_is_always_retried(op: Op, exc: BaseException) -> None:
    limited = 1 if isinstance(exc, RateLimited) else 0
    assert _decide(op, exc, limited=limited) is Action.RETRY


@pytest.mark.parametrize(("op", "action"), [
    (Op.READ, Action.RETRY), (Op.IDEMPOTENT, Action.RETRY),
    (Op.CREATE_ORDER, Action.RECONCILE), (Op.CONFIRMABLE, Action.RECONCILE),
    (Op.UNSAFE, Action.FAIL),
])
@pytest.mark.parametrize("exc", AMBIGUOUS)
def test_ambiguous_by_kind(op: Op, action: Action, exc: BaseException) -> None:
    assert _decide(op, exc) is action


@pytest.mark.parametrize("op", list(Op))
@pytest.mark.parametrize("exc", FINAL)
def test_final_errors_fail_on_first_attempt(op: Op, exc: BaseException) -> None:
    assert _decide(op, exc) is Action.FAIL


def test_duplicate_on_retried_create_reconciles() -> None:
    dup = HTTPStatusError(409, code="order_already_exists")
    assert _decide(Op.CREATE_ORDER, dup, failures=2, retried=True) is Action.RECONCILE
    assert _decide(Op.CREATE_ORDER, dup, failures=1, retried=False) is Action.FAIL
    assert _decide(Op.READ, dup, failures=2, retried=True) is Action.FAIL


def test_not_found_on_retried_cancel_reconciles() -> None:
    gone = HTTPStatusError(404, code="not_found")
    assert _decide(Op.CONFIRMABLE, gone, failures=2, retried=True) is Action.RECONCILE
    assert _decide(Op.CONFIRMABLE, gone, retried=False) is Action.FAIL


def test_transfer_replay_on_retry_reconciles() -> None:
    replay = HTTPStatusError(409, code="transfer_already_applied")
    assert _decide(Op.IDEMPOTENT, replay, failures=2, retried=True) is Action.RECONCILE
    assert _decide(Op.IDEMPOTENT, replay, retried=False) is Action.FAIL


def test_attempts_are_capped_for_reads() -> None:
    err = HTTPStatusError(500)
    assert _decide(Op.READ, err, failures=POLICY.max_attempts - 1) is Action.RETRY
    assert _decide(Op.READ, err, failures=POLICY.max_attempts) is Action.FAIL


def test_rate_limit_waits_retry_after_then_gives_up() -> None:
    d = POLICY.decide(Op.READ, RateLimited(retry_after=0.25), failures=0, limited=1,
                      retried=False)
    assert d.action is Action.RETRY and d.delay == 0.25
    capped = POLICY.decide(Op.READ, RateLimited(retry_after=999), failures=0, limited=1,
                           retried=False)
    assert capped.delay == POLICY.max_retry_after
    d = POLICY.decide(Op.READ, RateLimited(), failures=0, limited=3, retried=False)
    assert d.action is Action.RETRY and d.delay == pytest.approx(0.4)
    over = POLICY.decide(Op.READ, RateLimited(), failures=0,
                         limited=POLICY.max_rate_limited + 1, retried=False)
    assert over.action is Action.FAIL


def test_backoff_grows_and_caps() -> None:
    assert [POLICY.backoff(n) for n in (1, 2, 3, 4, 5, 6)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2**32))
def test_jittered_backoff_stays_in_half_to_full(retry: int, seed: int) -> None:
    policy = RetryPolicy(base_delay=0.05, max_delay=2.0)
    full = min(2.0, 0.05 * 2.0 ** (retry - 1))
    delay = policy.backoff(retry, random.Random(seed))
    assert full / 2 <= delay <= full


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(multiplier=0.5)


async def test_deadline_sender_bounds_every_attempt_and_starts_none_after() -> None:
    """``--timeout``: the attempts share one deadline; past it the call ends (no retry)."""
    now = [100.0]
    seen: list[float | None] = []

    async def slow(request: RestRequest) -> RestResponse:
        seen.append(request.timeout)
        now[0] += 0.75  # each attempt uses 0.75 s of the clock
        return RestResponse(200, b"{}")

    send = DeadlineSender(slow, 2.0, clock=lambda: now[0])
    for timeout in (30.0, None, 0.1):
        await send(RestRequest("GET", "http://x/y", "/y", {}, timeout=timeout))
    with pytest.raises(TimeoutError) as info:  # 2.25 s gone: none starts now
        await send(RestRequest("GET", "http://x/y", "/y", {}, timeout=30.0))
    assert not isinstance(info.value, KalshiError)  # the retry loop does not retry it
    assert seen == [2.0, 1.25, 0.1] and send.attempts == 3
    unbounded = DeadlineSender(slow, None, clock=lambda: now[0])
    await unbounded(RestRequest("GET", "http://x/y", "/y", {}, timeout=30.0))
    assert seen[-1] == 30.0
