"""``RestClient``: one method per margin REST endpoint (rest.md §6).

::

    async with RestClient(Credentials.from_env(), env="demo") as rest:
        market = await rest.get_market("KXBTCPERP")
        placed = await rest.create_order("KXBTCPERP", "bid", 1, "8.0961")
        async for order in rest.iter_orders(ticker="KXBTCPERP"):
            ...

Reads are retried with backoff; writes only as :mod:`.retry` allows. Every call
takes ``timeout=`` (seconds) to override ``Timeouts.request``. Orders and groups
are in :mod:`.orders`, exit triggers and FCM in :mod:`.triggers`; the machinery
in :mod:`.base`.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import AsyncIterator

from ..core.rest_models import (
    AccountLimits,
    BalanceResponse,
    CandlesticksResponse,
    CreateSubaccountResponse,
    EmptyResponse,
    ExchangeInstance,
    ExchangeStatus,
    FeeTierRate,
    FeeTierRatesResponse,
    FeeTiers,
    Fill,
    FillsResponse,
    FundingEstimate,
    FundingHistoryEntry,
    FundingHistoryResponse,
    HistoricalFundingRate,
    HistoricalFundingRatesResponse,
    IntraExchangeTransfer,
    IntraExchangeTransferRequest,
    IntraExchangeTransferResponse,
    IntraExchangeTransfersResponse,
    IntraExchangeTransferStatusResponse,
    MarginEnabled,
    MarginMarket,
    MarketResponse,
    MarketsResponse,
    NotionalRiskLimit,
    Orderbook,
    OrderbookResponse,
    Position,
    PositionsResponse,
    PremiumIndexPoint,
    PremiumIndexResponse,
    RiskParameters,
    RiskResponse,
    SubaccountTransferRequest,
    Trade,
    TradesResponse,
)
from ..exceptions import InvalidRequest
from .base import path_segment
from .orders import OrderApi
from .ratelimit import RateLimits
from .retry import Op
from .triggers import ExitTriggerApi, FcmApi

__all__ = ["RestClient"]

_INSTANCES = ("event_contract", "margined")


def _date(value: _dt.date | str, name: str) -> str:
    if isinstance(value, _dt.date):
        return value.isoformat()
    try:
        return _dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise InvalidRequest(f"{name} must be a date or 'YYYY-MM-DD', not {value!r}") from None


class RestClient(OrderApi, ExitTriggerApi, FcmApi):
    """Async client for the whole margin REST API.

    Args:
        credentials: signs every request (``None``: public endpoints only).
        env: ``"demo"`` or ``"prod"`` (rest.md §1); ignored when ``base_url`` is given.
        base_url: e.g. the simulator's ``rest_url`` (``http://127.0.0.1:PORT/trade-api/v2``).
        session: an ``aiohttp.ClientSession`` to share (left open on close).
        send: replaces the network entirely (tests): ``async (RestRequest) -> RestResponse``.
        timeouts: ``Timeouts(connect=..., request=...)``.
        rate_limits: ``RateLimits(tier=...)`` or explicit read/write buckets.
        max_in_flight: requests on the wire at once (default 100, aiohttp's pool size).
        retry: ``RetryPolicy(...)``: attempts and backoff.
        clock, rng, time_ms: injectable monotonic clock, jitter source and ms wall clock.
        logger: defaults to ``kalshi_margin_stream.rest``.
    """

    # --- exchange and account (§6.1) -----------------------------------------

    async def get_exchange_status(self, *, timeout: float | None = None) -> ExchangeStatus:
        return await self._call(Op.READ, "GET", "/margin/exchange/status", ExchangeStatus,
                                timeout=timeout)

    async def is_margin_enabled(self, *, timeout: float | None = None) -> bool:
        resp = await self._call(Op.READ, "GET", "/margin/enabled", MarginEnabled,
                                timeout=timeout)
        return resp.enabled

    async def get_account_limits(self, *, timeout: float | None = None) -> AccountLimits:
        """``GET /account/limits/perps``: tier and bucket sizes."""
        return await self._call(Op.READ, "GET", "/account/limits/perps", AccountLimits,
                                timeout=timeout)

    async def load_account_limits(self, *, timeout: float | None = None) -> AccountLimits:
        """Read the account's real buckets and make the client-side limiter use them."""
        limits = await self.get_account_limits(timeout=timeout)
        self.limiter.set_limits(RateLimits.from_account_limits(
            limits.usage_tier,
            (limits.read.refill_rate, limits.read.bucket_capacity),
            (limits.write.refill_rate, limits.write.bucket_capacity)))
        return limits

    # --- markets (§6.2) --------------------------------------------------------

    async def list_markets(self, *, status: str | None = None,
                           timeout: float | None = None) -> list[MarginMarket]:
        """Every margin market (not paginated); remembered for order validation."""
        resp = await self._call(Op.READ, "GET", "/margin/markets", MarketsResponse,
                                params={"status": status}, timeout=timeout)
        for market in resp.markets:
            self.markets[market.ticker] = market
        return resp.markets

    async def get_market(self, ticker: str, *, timeout: float | None = None) -> MarginMarket:
        path = f"/margin/markets/{path_segment(ticker, 'ticker')}"
        resp = await self._call(Op.READ, "GET", path, MarketResponse, timeout=timeout)
        self.markets[resp.market.ticker] = resp.market
        return resp.market

    async def get_orderbook(self, ticker: str, *, depth: int | None = None,
                            aggregation_tick_size: str | None = None,
                            timeout: float | None = None) -> Orderbook:
        """A REST book snapshot; level order is unreliable, use ``sorted_bids()``."""
        if depth is not None and depth < 0:
            raise InvalidRequest(f"depth must be >= 0 (0 = all levels), not {depth}")
        path = f"/margin/markets/{path_segment(ticker, 'ticker')}/orderbook"
        params = {"depth": depth, "aggregation_tick_size": aggregation_tick_size}
        resp = await self._call(Op.READ, "GET", path, OrderbookResponse, params=params,
                                timeout=timeout)
        return resp.orderbook

    async def get_candlesticks(self, ticker: str, *, start_ts: int, end_ts: int,
                               period_interval: int,
                               include_latest_before_start: bool | None = None,
                               timeout: float | None = None) -> CandlesticksResponse:
        """OHLC candles; ``start_ts``/``end_ts`` Unix seconds, period 1, 60 or 1440 minutes."""
        if period_interval not in (1, 60, 1440):
            raise InvalidRequest(f"period_interval must be 1, 60 or 1440, not {period_interval}")
        path = f"/margin/markets/{path_segment(ticker, 'ticker')}/candlesticks"
        params = {"start_ts": start_ts, "end_ts": end_ts, "period_interval": period_interval,
                  "include_latest_before_start": include_latest_before_start}
        return await self._call(Op.READ, "GET", path, CandlesticksResponse, params=params,
                                timeout=timeout)

    async def list_trades(self, *, ticker: str | None = None, limit: int | None = None,
                          cursor: str | None = None, min_ts: int | None = None,
                          max_ts: int | None = None,
                          timeout: float | None = None) -> TradesResponse:
        """One page of public trades, newest first."""
        params = {"ticker": ticker, "limit": limit, "cursor": cursor, "min_ts": min_ts,
                  "max_ts": max_ts}
        return await self._call(Op.READ, "GET", "/margin/trades", TradesResponse,
                                params=params, timeout=timeout)

    async def iter_trades(self, *, ticker: str | None = None, limit: int | None = None,
                          min_ts: int | None = None, max_ts: int | None = None,
                          timeout: float | None = None) -> AsyncIterator[Trade]:
        params = {"ticker": ticker, "limit": limit, "min_ts": min_ts, "max_ts": max_ts}
        async for page in self._pages("/margin/trades", TradesResponse, params,
                                      lambda p: p.cursor, timeout=timeout):
            for trade in page.trades:
                yield trade

    # --- portfolio (§6.5) --------------------------------------------------------

    async def list_fills(self, *, ticker: str | None = None, subaccount: int | None = None,
                         limit: int | None = None, cursor: str | None = None,
                         min_ts: int | None = None, max_ts: int | None = None,
                         timeout: float | None = None) -> FillsResponse:
        """One page of own fills (``subaccount`` defaults to 0 on the server)."""
        params = {"ticker": ticker, "subaccount": subaccount, "limit": limit, "cursor": cursor,
                  "min_ts": min_ts, "max_ts": max_ts}
        return await self._call(Op.READ, "GET", "/margin/fills", FillsResponse, params=params,
                                timeout=timeout)

    async def iter_fills(self, *, ticker: str | None = None, subaccount: int | None = None,
                         limit: int | None = None, min_ts: int | None = None,
                         max_ts: int | None = None,
                         timeout: float | None = None) -> AsyncIterator[Fill]:
        params = {"ticker": ticker, "subaccount": subaccount, "limit": limit, "min_ts": min_ts,
                  "max_ts": max_ts}
        async for page in self._pages("/margin/fills", FillsResponse, params,
                                      lambda p: p.cursor, timeout=timeout):
            for fill in page.fills:
                yield fill

    async def get_positions(self, *, ticker: str | None = None, subaccount: int | None = None,
                            timeout: float | None = None) -> list[Position]:
        resp = await self._call(Op.READ, "GET", "/margin/positions", PositionsResponse,
                                params={"ticker": ticker, "subaccount": subaccount},
                                timeout=timeout)
        return resp.positions

    async def get_balance(self, *, compute_available_balance: bool = False,
                          timeout: float | None = None) -> BalanceResponse:
        """Balances per subaccount. ``compute_available_balance`` costs 50 tokens, not 5."""
        params = {"compute_available_balance": True if compute_available_balance else None}
        return await self._call(Op.READ, "GET", "/margin/balance", BalanceResponse,
                                params=params, timeout=timeout)

    # --- risk and fees (§6.6, §6.7) --------------------------------------------------

    async def get_risk(self, *, timeout: float | None = None) -> RiskResponse:
        return await self._call(Op.READ, "GET", "/margin/risk", RiskResponse, timeout=timeout)

    async def get_risk_parameters(self, *, timeout: float | None = None) -> RiskParameters:
        return await self._call(Op.READ, "GET", "/margin/risk_parameters", RiskParameters,
                                timeout=timeout)

    async def get_notional_risk_limit(self, *,
                                      timeout: float | None = None) -> NotionalRiskLimit:
        return await self._call(Op.READ, "GET", "/margin/notional_risk_limit",
                                NotionalRiskLimit, timeout=timeout)

    async def get_fee_tiers(self, *, timeout: float | None = None) -> FeeTiers:
        return await self._call(Op.READ, "GET", "/margin/fee_tiers", FeeTiers, timeout=timeout)

    async def get_fee_tier_rates(self, *, timeout: float | None = None) -> list[FeeTierRate]:
        resp = await self._call(Op.READ, "GET", "/margin/fee_tier_rates", FeeTierRatesResponse,
                                timeout=timeout)
        return resp.fee_tier_rates

    # --- funding (§6.8) ---------------------------------------------------------------

    async def get_funding_estimate(self, ticker: str, *,
                                   timeout: float | None = None) -> FundingEstimate:
        return await self._call(Op.READ, "GET", "/margin/funding_rates/estimate",
                                FundingEstimate, params={"ticker": ticker}, timeout=timeout)

    async def get_historical_funding_rates(
        self, *, ticker: str | None = None, start_ts: int | None = None,
        end_ts: int | None = None, timeout: float | None = None,
    ) -> list[HistoricalFundingRate]:
        """Past funding rates, newest first (``ticker`` omitted = all markets)."""
        params = {"ticker": ticker, "start_ts": start_ts, "end_ts": end_ts}
        resp = await self._call(Op.READ, "GET", "/margin/funding_rates/historical",
                                HistoricalFundingRatesResponse, params=params, timeout=timeout)
        return resp.funding_rates

    async def get_premium_index(self, ticker: str, *, start_ts: int, end_ts: int,
                                timeout: float | None = None) -> list[PremiumIndexPoint]:
        """Per-second premium index over at most one hour (``end_ts`` exclusive)."""
        if not start_ts < end_ts <= start_ts + 3600:
            raise InvalidRequest("premium index needs start_ts < end_ts <= start_ts + 3600")
        params: dict[str, str | int] = {"ticker": ticker, "start_ts": start_ts, "end_ts": end_ts}
        resp = await self._call(Op.READ, "GET", "/margin/funding_rates/premium_index",
                                PremiumIndexResponse, params=params, timeout=timeout)
        return resp.points

    async def get_funding_history(self, *, start_date: _dt.date | str,
                                  end_date: _dt.date | str, ticker: str | None = None,
                                  subaccount: int | None = None,
                                  timeout: float | None = None) -> list[FundingHistoryEntry]:
        """Own funding payments between two UTC dates, inclusive (amount > 0 = received)."""
        params = {"start_date": _date(start_date, "start_date"),
                  "end_date": _date(end_date, "end_date"), "ticker": ticker,
                  "subaccount": subaccount}
        resp = await self._call(Op.READ, "GET", "/margin/funding_history",
                                FundingHistoryResponse, params=params, timeout=timeout)
        return resp.funding_history

    # --- subaccounts and transfers (§6.10) ------------------------------------------

    async def create_subaccount(self, *, timeout: float | None = None) -> int:
        """A new numbered subaccount. Not retried when ambiguous (a second one could be made)."""
        resp = await self._call(Op.UNSAFE, "POST", "/portfolio/margin/subaccounts",
                                CreateSubaccountResponse, timeout=timeout)
        return resp.subaccount_number

    async def transfer_between_subaccounts(self, *, from_subaccount: int, to_subaccount: int,
                                           amount_cents: int,
                                           client_transfer_id: str | None = None,
                                           timeout: float | None = None) -> str:
        """Move cash (in **cents**) between margin subaccounts; returns the transfer id used.

        The id (generated when not given) makes retries safe: a replay is refused with
        409 ``transfer_already_applied``, which on a retry means done.
        """
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) \
                or amount_cents <= 0:
            raise InvalidRequest(f"amount_cents must be a positive int, not {amount_cents!r}")
        if from_subaccount == to_subaccount:
            raise InvalidRequest("from_subaccount and to_subaccount are the same")
        tid = client_transfer_id or str(uuid.uuid4())
        body = SubaccountTransferRequest(client_transfer_id=tid, from_subaccount=from_subaccount,
                                         to_subaccount=to_subaccount, amount_cents=amount_cents)

        async def applied() -> EmptyResponse:
            return EmptyResponse()

        await self._call(Op.IDEMPOTENT, "POST", "/portfolio/margin/subaccounts/transfer",
                         EmptyResponse, body=body, timeout=timeout, reconcile=applied)
        return tid

    async def intra_exchange_transfer(self, *, source: ExchangeInstance,
                                      destination: ExchangeInstance, amount_centicents: int,
                                      source_exchange_shard: int | None = None,
                                      destination_exchange_shard: int | None = None,
                                      client_transfer_id: str | None = None,
                                      timeout: float | None = None) -> str:
        """Move cash between the event and margin exchanges (``amount`` in **centicents**).

        Processed asynchronously; returns the ``transfer_id``. Retried after an
        ambiguous failure only when ``client_transfer_id`` is given.
        """
        if source not in _INSTANCES or destination not in _INSTANCES:
            raise InvalidRequest(f"source/destination must be one of {', '.join(_INSTANCES)}")
        if isinstance(amount_centicents, bool) or not isinstance(amount_centicents, int) \
                or amount_centicents <= 0:
            raise InvalidRequest("amount_centicents must be a positive int")
        body = IntraExchangeTransferRequest(
            source=source, destination=destination, amount=amount_centicents,
            source_exchange_shard=source_exchange_shard,
            destination_exchange_shard=destination_exchange_shard,
            client_transfer_id=client_transfer_id)
        op = Op.IDEMPOTENT if client_transfer_id else Op.UNSAFE
        resp = await self._call(op, "POST", "/portfolio/intra_exchange_instance_transfer",
                                IntraExchangeTransferResponse, body=body, timeout=timeout)
        return resp.transfer_id

    async def list_intra_exchange_transfers(
        self, *, limit: int | None = None, cursor: str | None = None,
        timeout: float | None = None,
    ) -> IntraExchangeTransfersResponse:
        return await self._call(Op.READ, "GET", "/portfolio/intra_exchange_instance_transfers",
                                IntraExchangeTransfersResponse,
                                params={"limit": limit, "cursor": cursor}, timeout=timeout)

    async def iter_intra_exchange_transfers(
        self, *, limit: int | None = None, timeout: float | None = None,
    ) -> AsyncIterator[IntraExchangeTransfer]:
        async for page in self._pages("/portfolio/intra_exchange_instance_transfers",
                                      IntraExchangeTransfersResponse, {"limit": limit},
                                      lambda p: p.cursor, timeout=timeout):
            for transfer in page.transfers:
                yield transfer

    async def get_intra_exchange_transfer(self, transfer_id: str, *,
                                          timeout: float | None = None) -> IntraExchangeTransfer:
        path = ("/portfolio/intra_exchange_instance_transfers/"
                f"{path_segment(transfer_id, 'transfer_id')}")
        resp = await self._call(Op.READ, "GET", path, IntraExchangeTransferStatusResponse,
                                timeout=timeout)
        return resp.transfer
