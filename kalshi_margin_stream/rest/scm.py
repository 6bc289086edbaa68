"""A small client for the Klear (self-clearing member) API, scm.md.

Only self-clearing members and FCMs use it. It differs from the trade API in
host (``/klear-api/v1``) and auth: a bearer token,
``Authorization: Bearer <admin_user_id>:<access_token>``, no request signing.
Money is mostly integer centicents. It reuses the REST client's pipeline
(typed errors, retries of reads, cursor paging) but no client-side rate limit,
since none is documented.

Paths follow the October 2026 surface (scm.md says to verify them against the
current spec); only the fields a member reads first are typed, the rest of an
answer is kept in ``extra`` maps or returned as plain JSON objects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec

from ..exceptions import CredentialsError, InvalidRequest
from .base import RestBase, path_segment
from .ratelimit import RateLimits
from .retry import Op, RetryPolicy
from .transport import Send, Timeouts

__all__ = [
    "KLEAR_URLS",
    "KlearClient",
    "KlearCredentials",
    "Obligation",
    "ObligationsResponse",
    "Report",
    "SettlementBalance",
    "SettlementBalanceEntry",
    "Withdrawal",
    "GuarantyFundBalance",
]

KLEAR_URLS: Mapping[str, str] = {
    "prod": "https://api.klear.kalshi.com/klear-api/v1",
    "demo": "https://demo-api.kalshi.co/klear-api/v1",
}

JSONObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class KlearCredentials:
    """The admin user id and access token from klearing.kalshi.com; the token never shows."""

    admin_user_id: str
    access_token: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.admin_user_id or not self.access_token:
            raise CredentialsError("Klear needs both an admin user id and an access token")
        if ":" in self.admin_user_id:
            raise CredentialsError("the Klear admin user id cannot contain ':'")

    def authorization(self) -> str:
        return f"Bearer {self.admin_user_id}:{self.access_token}"


class _Model(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    pass


class Report(_Model, frozen=True):
    report_type: str
    url: str | None = None
    date: str | None = None
    created_ts: int | None = None
    is_end_of_day: bool | None = None
    snapshot_ts: int | None = None


class _Reports(_Model, frozen=True):
    reports: list[Report] = []


class Obligation(_Model, frozen=True):
    id: str
    amount_centicents: int | None = None
    fees_centicents: int | None = None
    maintenance_margin_centicents: int | None = None
    pnl_centicents: int | None = None
    execution_time: str | None = None
    last_updated_ts: int | None = None
    asset_class: str | None = None


class ObligationsResponse(_Model, frozen=True):
    obligations: list[Obligation] = []
    cursor: str | None = None


class SettlementBalance(_Model, frozen=True):
    user_id: str | None = None
    balance_available_centicents: int = 0
    locked_balance_centicents: int = 0


class SettlementBalanceEntry(_Model, frozen=True):
    balance_delta_centicents: int = 0
    locked_balance_delta_centicents: int = 0
    reason: str | None = None
    business_transaction_id: str | None = None
    created_ts: int | None = None


class _BalanceHistory(_Model, frozen=True):
    entries: list[SettlementBalanceEntry] = []
    cursor: str | None = None


class Withdrawal(_Model, frozen=True):
    id: str
    amount: Decimal | None = None
    status: str | None = None
    created_ts: int | None = None


class _WithdrawRequest(_Model, frozen=True):
    amount: Decimal


class _Created(_Model, frozen=True):
    id: str


class GuarantyFundBalance(_Model, frozen=True):
    user_id: str | None = None
    amount_centicents: int = 0
    updated_ts: int | None = None


class KlearClient(RestBase):
    """``async with KlearClient(KlearCredentials(user, token), env="demo") as klear: ...``"""

    def __init__(self, credentials: KlearCredentials, *, env: str = "demo",
                 base_url: str | None = None, session: aiohttp.ClientSession | None = None,
                 send: Send | None = None, timeouts: Timeouts | None = None,
                 retry: RetryPolicy | None = None):
        if base_url is None:
            if env not in KLEAR_URLS:
                raise ValueError(f"env must be one of {', '.join(KLEAR_URLS)}, not {env!r}")
            base_url = KLEAR_URLS[env]
        super().__init__(None, base_url=base_url, session=session, send=send,
                         timeouts=timeouts or Timeouts(), retry=retry or RetryPolicy(),
                         rate_limits=RateLimits(enabled=False))
        self._klear = credentials

    def _auth_headers(self, method: str, full_path: str) -> dict[str, str]:
        return {"Authorization": self._klear.authorization()}

    async def _get(self, path: str, type_: type[Any], params: Mapping[str, Any] | None = None,
                   timeout: float | None = None) -> Any:
        return await self._call(Op.READ, "GET", path, type_, params=params, timeout=timeout)

    # --- reports and obligations -----------------------------------------------

    async def get_reports(self, *, start_date: str, end_date: str,
                          timeout: float | None = None) -> list[Report]:
        """Daily report files (``YYYY-MM-DD``, both required)."""
        resp: _Reports = await self._get("/margin/reports", _Reports,
                                         {"start_date": start_date, "end_date": end_date},
                                         timeout)
        return resp.reports

    async def get_active_obligations(self, *, timeout: float | None = None) -> list[Obligation]:
        resp: ObligationsResponse = await self._get("/margin/active_obligations",
                                                    ObligationsResponse, None, timeout)
        return resp.obligations

    async def iter_obligation_history(self, *, limit: int | None = None,
                                      timeout: float | None = None
                                      ) -> AsyncIterator[Obligation]:
        async for page in self._pages("/margin/obligation_history", ObligationsResponse,
                                      {"limit": limit}, lambda p: p.cursor, timeout=timeout):
            for obligation in page.obligations:
                yield obligation

    async def get_obligation_details(self, obligation_id: str, kind: str, *,
                                     cursor: str | None = None,
                                     timeout: float | None = None) -> JSONObject:
        """One page of ``settlement_details``, ``maintenance_margin_details``,
        ``funding_payments`` or ``corporate_action_payments`` (plain JSON)."""
        kinds = ("settlement_details", "maintenance_margin_details", "funding_payments",
                 "corporate_action_payments")
        if kind not in kinds:
            raise InvalidRequest(f"kind must be one of {', '.join(kinds)}")
        path = f"/margin/obligations/{path_segment(obligation_id, 'obligation_id')}/{kind}"
        result: JSONObject = await self._get(path, JSONObject, {"cursor": cursor}, timeout)
        return result

    # --- settlement balance --------------------------------------------------------

    async def get_settlement_balance(self, *,
                                     timeout: float | None = None) -> SettlementBalance:
        result: SettlementBalance = await self._get("/margin/settlement_balance",
                                                    SettlementBalance, None, timeout)
        return result

    async def iter_settlement_balance_history(
        self, *, limit: int | None = None, timeout: float | None = None,
    ) -> AsyncIterator[SettlementBalanceEntry]:
        async for page in self._pages("/margin/settlement_balance_history", _BalanceHistory,
                                      {"limit": limit}, lambda p: p.cursor, timeout=timeout):
            for entry in page.entries:
                yield entry

    async def withdraw_settlement_balance(self, amount: Decimal | str, *,
                                          timeout: float | None = None) -> str:
        """Ask for a withdrawal of ``amount`` dollars; returns its id. Never retried when
        the answer is lost (a second withdrawal could be made): check the history."""
        try:
            value = Decimal(str(amount))
        except ArithmeticError:
            raise InvalidRequest(f"amount must be a decimal number of dollars: {amount!r}") \
                from None
        if not value.is_finite() or value <= 0:
            raise InvalidRequest(f"amount must be positive, not {amount!r}")
        resp = await self._call(Op.UNSAFE, "POST", "/margin/withdraw_settlement_balance",
                                _Created, body=_WithdrawRequest(amount=value), timeout=timeout)
        return resp.id

    async def get_withdrawal(self, withdrawal_id: str, *,
                             timeout: float | None = None) -> Withdrawal:
        result: Withdrawal = await self._get("/margin/settlement_balance_withdrawal",
                                             Withdrawal, {"id": withdrawal_id}, timeout)
        return result

    async def get_guaranty_fund_balance(self, *,
                                        timeout: float | None = None) -> GuarantyFundBalance:
        result: GuarantyFundBalance = await self._get("/margin/guaranty_fund_balance",
                                                      GuarantyFundBalance, None, timeout)
        return result

    # --- estimates (plain JSON: large, model-specific shapes) --------------------------

    async def get_settlement_estimate(self, *, timeout: float | None = None) -> JSONObject:
        result: JSONObject = await self._get("/margin/settlement_estimate_by_asset_class",
                                             JSONObject, None, timeout)
        return result

    async def get_funding_schedule(self, asset_class: str, *,
                                   timeout: float | None = None) -> str:
        result: JSONObject = await self._get("/margin/funding_schedule", JSONObject,
                                             {"asset_class": asset_class}, timeout)
        return str(result.get("schedule", ""))

    async def estimate_maintenance_margin(self, asset_class: str,
                                          positions: list[Mapping[str, object]], *,
                                          timeout: float | None = None) -> JSONObject:
        """``POST /margin/estimate_maintenance_margin`` (a pure calculation: safe to retry)."""
        body = _MarginEstimate(asset_class=asset_class, positions=[dict(p) for p in positions])
        result: JSONObject = await self._call(Op.IDEMPOTENT, "POST",
                                              "/margin/estimate_maintenance_margin",
                                              JSONObject, body=body, timeout=timeout)
        return result


class _MarginEstimate(_Model, frozen=True):
    asset_class: str
    positions: list[dict[str, object]]

