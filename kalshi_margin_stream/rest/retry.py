"""When a failed REST call may be sent again: the whole retry/reconcile policy.

Nothing is ever sent twice by accident. Every failure falls in one of three
classes (:func:`classify`):

* ``NOT_SENT`` - the server did not act: the connection could not be opened, or
  it answered 429 (a rejected request changes nothing). Always safe to resend.
* ``AMBIGUOUS`` - the request may have been acted on: a timeout after sending,
  a connection dropped mid-request, a 5xx.
* ``FINAL`` - any other answer (4xx): resending would get the same answer.

Each call belongs to one :class:`Op` kind, and :meth:`RetryPolicy.decide` maps
(kind, failure) to an :class:`Action`:

==================  ========  =============================================
kind                NOT_SENT  AMBIGUOUS
==================  ========  =============================================
READ (GETs)         retry     retry (reads change nothing)
IDEMPOTENT          retry     retry (PUTs that set a state: group trigger,
                              reset, limit; transfers carrying a client id)
CREATE_ORDER        retry     reconcile: look the order up by its
                              ``client_order_id`` (generated before the first
                              attempt and reused); found -> done, else resend
                              the *same* id (a duplicate is then refused 409)
CONFIRMABLE         retry     reconcile: GET the order; if the effect is
                              visible (cancel: nothing rests; decrease-to:
                              remaining <= target; amend: new price and size)
                              -> done, else resend
UNSAFE              retry     fail (decrease ``reduce_by``, delete group,
                              transfer without an id: no way to confirm)
==================  ========  =============================================

The exit-trigger and FCM writes (2026-09 spec) are listed by operationId in
:data:`WRITE_OPS`: setting a trigger replaces the position's trigger of that kind
or, when it appends (``count``/``anchor_order_id``), carries a
``client_trigger_id`` whose replay returns the original, so both are
IDEMPOTENT; so are leg updates, deletes by kind (they succeed when nothing is
live) and the FCM PUT/DELETEs, which set a state. Deleting one bracket by id is
CONFIRMABLE (a lookup shows whether it is still live). Creating an FCM subtrader
is UNSAFE: a replay is refused 409 and nothing lists subtraders.

Three answers to a *retried* write also go to reconcile rather than failing:
409 ``order_already_exists`` on a create (our first attempt landed), 404
``not_found`` on a cancel/decrease/amend (the order finished; confirmed by a
lookup) and 409 ``transfer_already_applied`` on a transfer carrying our id.
Retries wait a jittered, capped exponential backoff; a 429 waits its
``Retry-After`` when the server sends one.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from ..exceptions import (
    ConnectError,
    ConnectionLost,
    HTTPStatusError,
    RateLimited,
    Timeout,
)
from .errors import code_matches

__all__ = ["WRITE_OPS", "Action", "Decision", "Failure", "Op", "RetryPolicy", "classify"]


class Failure(enum.Enum):
    NOT_SENT = "not_sent"
    AMBIGUOUS = "ambiguous"
    FINAL = "final"


class Op(enum.Enum):
    READ = "read"
    IDEMPOTENT = "idempotent"
    CREATE_ORDER = "create_order"
    CONFIRMABLE = "confirmable"
    UNSAFE = "unsafe"


class Action(enum.Enum):
    RETRY = "retry"
    RECONCILE = "reconcile"
    FAIL = "fail"


WRITE_OPS: dict[str, Op] = {
    "SetIsolatedMarginExitTrigger": Op.IDEMPOTENT,
    "SetCrossMarginExitTrigger": Op.IDEMPOTENT,
    "UpdateCrossMarginExitTrigger": Op.IDEMPOTENT,
    "DeleteIsolatedMarginExitTrigger": Op.IDEMPOTENT,
    "DeleteCrossMarginExitTrigger": Op.IDEMPOTENT,
    "DeleteCrossMarginExitTriggerById": Op.CONFIRMABLE,
    "CreateMarginFCMSubtrader": Op.UNSAFE,
    "UpdateFCMSubtraderRiskControls": Op.IDEMPOTENT,
    "DeleteFCMSubtraderRiskControls": Op.IDEMPOTENT,
    "UpdateFCMNotionalRiskLimit": Op.IDEMPOTENT,
    "DeleteFCMNotionalRiskLimit": Op.IDEMPOTENT,
}
"""Retry kind of each exit-trigger and FCM write, by the spec's operationId."""


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    delay: float = 0.0


def classify(exc: BaseException) -> Failure:
    """Did the server act on a request that failed with ``exc``?"""
    if isinstance(exc, RateLimited | ConnectError):
        return Failure.NOT_SENT
    if isinstance(exc, Timeout | ConnectionLost):
        return Failure.AMBIGUOUS
    if isinstance(exc, HTTPStatusError) and exc.status >= 500:
        return Failure.AMBIGUOUS
    return Failure.FINAL


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry.

    Args:
        max_attempts: sends per call for failures other than 429 (1 = never retry).
        max_rate_limited: extra sends allowed after 429 answers.
        base_delay, max_delay, multiplier: backoff ``min(max, base * multiplier**n)``.
        jitter: draw each delay uniformly from ``[delay/2, delay]``.
        max_retry_after: cap on a server-advised ``Retry-After`` wait.
    """

    max_attempts: int = 4
    max_rate_limited: int = 8
    base_delay: float = 0.1
    max_delay: float = 5.0
    multiplier: float = 2.0
    jitter: bool = True
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.max_rate_limited < 0:
            raise ValueError("max_attempts must be >= 1 and max_rate_limited >= 0")
        if self.base_delay < 0 or self.max_delay < 0 or self.multiplier < 1:
            raise ValueError("delays must be >= 0 and multiplier >= 1")

    def backoff(self, retry: int, rng: random.Random | None = None) -> float:
        """Delay before retry number ``retry`` (1 = the first retry)."""
        delay = min(self.max_delay, self.base_delay * self.multiplier ** max(0, retry - 1))
        if self.jitter and delay > 0:
            delay = (rng or random).uniform(delay / 2, delay)
        return delay

    def decide(self, op: Op, exc: BaseException, *, failures: int, limited: int,
               retried: bool, rng: random.Random | None = None) -> Decision:
        """What to do after a failed send.

        Args:
            op: the kind of call.
            exc: the failure of the latest send.
            failures: failed sends so far that were not 429, this one included.
            limited: 429 answers so far, this one included.
            retried: whether the failed send was itself a retry.
        """
        if retried and op is Op.CREATE_ORDER and code_matches(exc, "order_already_exists",
                                                                status=409):
            return Decision(Action.RECONCILE)
        if retried and op is Op.CONFIRMABLE and code_matches(exc, "not_found", status=404):
            return Decision(Action.RECONCILE)
        if retried and op is Op.IDEMPOTENT and code_matches(exc, "transfer_already_applied",
                                                             status=409):
            return Decision(Action.RECONCILE)
        if isinstance(exc, RateLimited):
            if limited > self.max_rate_limited:
                return Decision(Action.FAIL)
            if exc.retry_after is not None:
                return Decision(Action.RETRY, min(exc.retry_after, self.max_retry_after))
            return Decision(Action.RETRY, self.backoff(limited, rng))
        failure = classify(exc)
        if failure is Failure.FINAL:
            return Decision(Action.FAIL)
        if failure is Failure.AMBIGUOUS:
            if op in (Op.CREATE_ORDER, Op.CONFIRMABLE):
                # Always look before resending, even when out of attempts: the
                # caller must learn whether the order exists.
                return Decision(Action.RECONCILE, self.backoff(failures, rng))
            if op is Op.UNSAFE:
                return Decision(Action.FAIL)
        if failures >= self.max_attempts:
            return Decision(Action.FAIL)
        return Decision(Action.RETRY, self.backoff(failures, rng))
