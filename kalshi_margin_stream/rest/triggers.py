"""Exit triggers (stop-loss / take-profit brackets, trailing stops) and FCM endpoints.

Every write is checked first (:mod:`.validate_triggers`) and goes out with the
retry kind :data:`.retry.WRITE_OPS` names for its operationId. The market is
needed for the tick check: a ticker the client has not cached is read once with
``GET /margin/markets/{ticker}``, and an unknown one is an
:class:`~kalshi_margin_stream.exceptions.InvalidRequest` before the write is sent.
"""

from __future__ import annotations

from decimal import Decimal

from ..core.rest_models import (
    CreateFCMSubtraderRequest,
    CreateFCMSubtraderResponse,
    EmptyResponse,
    ExitTrigger,
    ExitTriggerKind,
    ExitTriggersResponse,
    FCMNotionalRiskLimitRequest,
    FCMSubtraderRiskControlsResponse,
    MarginMarket,
    MarketResponse,
    UpdateFCMSubtraderRiskControlsRequest,
)
from ..exceptions import HTTPStatusError, InvalidRequest
from .base import RestBase, path_segment
from .retry import WRITE_OPS, Op
from .validate import _check_subaccount
from .validate_triggers import (
    check_asset_class,
    check_cross_trigger,
    check_dollars,
    check_isolated_trigger,
    check_kind,
    check_subtrader_suffix,
    check_trigger_update,
)

__all__ = ["ExitTriggerApi", "FcmApi"]


def _kind(kind: str | None) -> ExitTriggerKind | None:
    return None if kind is None else check_kind(kind)


class ExitTriggerApi(RestBase):
    """``/margin/{isolated,cross}/positions/{ticker}/exit_trigger`` (rest.md §6.9)."""

    async def _trigger_market(self, ticker: str, timeout: float | None) -> MarginMarket:
        """The market (cached, or read once); an unknown ticker is refused here."""
        if not isinstance(ticker, str) or not ticker:
            raise InvalidRequest("ticker is required")
        market = self.markets.get(ticker)
        if market is not None:
            return market
        try:
            resp = await self._call(Op.READ, "GET",
                                    f"/margin/markets/{path_segment(ticker, 'ticker')}",
                                    MarketResponse, timeout=timeout)
        except HTTPStatusError as exc:
            if exc.status == 404:
                raise InvalidRequest(f"unknown ticker {ticker!r}") from None
            raise
        self.markets[resp.market.ticker] = resp.market
        return resp.market

    @staticmethod
    def _trigger_path(scope: str, ticker: str, trigger_id: str | None = None) -> str:
        path = f"/margin/{scope}/positions/{path_segment(ticker, 'ticker')}/exit_trigger"
        return path if trigger_id is None else \
            f"{path}/{path_segment(trigger_id, 'trigger_id')}"

    # --- isolated positions --------------------------------------------------

    async def set_isolated_exit_trigger(
        self, ticker: str, *, kind: ExitTriggerKind = "bracket",
        stop_loss_price: Decimal | str | int | None = None,
        take_profit_price: Decimal | str | int | None = None,
        trail_amount: Decimal | str | int | None = None, trail_bps: int | None = None,
        timeout: float | None = None,
    ) -> ExitTrigger:
        """Set (replace) the position's bracket or trailing stop; it closes in full.

        Raises:
            InvalidRequest: off-tick price, trail_bps outside 1..9999, fields of the other
                kind, nothing set, unknown ticker (nothing was sent).
        """
        market = await self._trigger_market(ticker, timeout)
        body = check_isolated_trigger(kind=kind, market=market, stop_loss_price=stop_loss_price,
                                      take_profit_price=take_profit_price,
                                      trail_amount=trail_amount, trail_bps=trail_bps)
        return await self._call(WRITE_OPS["SetIsolatedMarginExitTrigger"], "PUT",
                                self._trigger_path("isolated", ticker), ExitTrigger, body=body,
                                timeout=timeout)

    async def get_isolated_exit_triggers(self, ticker: str, *,
                                         kind: ExitTriggerKind | None = None,
                                         timeout: float | None = None) -> list[ExitTrigger]:
        """The live triggers on the isolated position (empty when none)."""
        resp = await self._call(Op.READ, "GET", self._trigger_path("isolated", ticker),
                                ExitTriggersResponse, params={"kind": _kind(kind)},
                                timeout=timeout)
        return resp.exit_triggers

    async def delete_isolated_exit_trigger(self, ticker: str, *,
                                           kind: ExitTriggerKind | None = None,
                                           timeout: float | None = None) -> None:
        """Cancel the isolated triggers (``kind`` None = both); fine when none is live."""
        await self._call(WRITE_OPS["DeleteIsolatedMarginExitTrigger"], "DELETE",
                         self._trigger_path("isolated", ticker), EmptyResponse,
                         params={"kind": _kind(kind)}, timeout=timeout)

    # --- cross (non-isolated) positions --------------------------------------

    async def set_cross_exit_trigger(
        self, ticker: str, *, kind: ExitTriggerKind = "bracket",
        stop_loss_price: Decimal | str | int | None = None,
        take_profit_price: Decimal | str | int | None = None,
        trail_amount: Decimal | str | int | None = None, trail_bps: int | None = None,
        count: Decimal | str | int | None = None, anchor_order_id: str | None = None,
        client_trigger_id: str | None = None, subaccount: int | None = None,
        timeout: float | None = None,
    ) -> ExitTrigger:
        """Set a trigger on a cross position.

        Without ``count``/``anchor_order_id`` it replaces the whole-position trigger of
        that kind; with one of them it appends a bracket (up to 20) identified by
        ``client_trigger_id`` (required then, and a replay returns the original, so
        retries are safe). ``anchor_order_id`` makes it follow that order's fills and
        wait in ``pending_on_entry`` until the order first fills.
        """
        _check_subaccount(subaccount)
        market = await self._trigger_market(ticker, timeout)
        body = check_cross_trigger(
            kind=kind, market=market, stop_loss_price=stop_loss_price,
            take_profit_price=take_profit_price, trail_amount=trail_amount,
            trail_bps=trail_bps, count=count, anchor_order_id=anchor_order_id,
            client_trigger_id=client_trigger_id)
        return await self._call(WRITE_OPS["SetCrossMarginExitTrigger"], "PUT",
                                self._trigger_path("cross", ticker), ExitTrigger, body=body,
                                params={"subaccount": subaccount}, timeout=timeout)

    async def get_cross_exit_triggers(self, ticker: str, *,
                                      kind: ExitTriggerKind | None = None,
                                      subaccount: int | None = None,
                                      timeout: float | None = None) -> list[ExitTrigger]:
        _check_subaccount(subaccount)
        resp = await self._call(Op.READ, "GET", self._trigger_path("cross", ticker),
                                ExitTriggersResponse,
                                params={"subaccount": subaccount, "kind": _kind(kind)},
                                timeout=timeout)
        return resp.exit_triggers

    async def delete_cross_exit_triggers(self, ticker: str, *,
                                         kind: ExitTriggerKind | None = None,
                                         subaccount: int | None = None,
                                         timeout: float | None = None) -> None:
        """Cancel every trigger of the position (or of one kind); fine when none is live."""
        _check_subaccount(subaccount)
        await self._call(WRITE_OPS["DeleteCrossMarginExitTrigger"], "DELETE",
                         self._trigger_path("cross", ticker), EmptyResponse,
                         params={"subaccount": subaccount, "kind": _kind(kind)},
                         timeout=timeout)

    async def update_cross_exit_trigger(
        self, ticker: str, trigger_id: str, *,
        stop_loss_price: Decimal | str | int | None = None,
        take_profit_price: Decimal | str | int | None = None,
        subaccount: int | None = None, timeout: float | None = None,
    ) -> ExitTrigger:
        """New leg prices for one bracket (a leg left out is cleared)."""
        _check_subaccount(subaccount)
        market = await self._trigger_market(ticker, timeout)
        body = check_trigger_update(market=market, stop_loss_price=stop_loss_price,
                                    take_profit_price=take_profit_price)
        return await self._call(WRITE_OPS["UpdateCrossMarginExitTrigger"], "PUT",
                                self._trigger_path("cross", ticker, trigger_id), ExitTrigger,
                                body=body, params={"subaccount": subaccount},
                                timeout=timeout)

    async def delete_cross_exit_trigger(self, ticker: str, trigger_id: str, *,
                                        subaccount: int | None = None,
                                        timeout: float | None = None) -> None:
        """Cancel one bracket. After an ambiguous failure the position's live triggers
        are read: gone means done."""
        _check_subaccount(subaccount)

        async def reconcile() -> EmptyResponse | None:
            live = await self.get_cross_exit_triggers(ticker, subaccount=subaccount,
                                                      timeout=timeout)
            return None if any(t.id == trigger_id for t in live) else EmptyResponse()

        await self._call(WRITE_OPS["DeleteCrossMarginExitTriggerById"], "DELETE",
                         self._trigger_path("cross", ticker, trigger_id), EmptyResponse,
                         params={"subaccount": subaccount}, timeout=timeout,
                         reconcile=reconcile)


class FcmApi(RestBase):
    """FCM member endpoints (``/margin/fcm/...``)."""

    async def create_fcm_subtrader(self, subtrader_suffix: str, *,
                                   timeout: float | None = None) -> str:
        """A new subtrader ``{user_id}_{suffix}``; returns its id. Not retried when
        ambiguous (a replay would be refused 409)."""
        body = CreateFCMSubtraderRequest(subtrader_suffix=check_subtrader_suffix(
            subtrader_suffix))
        resp = await self._call(WRITE_OPS["CreateMarginFCMSubtrader"], "POST",
                                "/margin/fcm/subtraders", CreateFCMSubtraderResponse,
                                body=body, timeout=timeout)
        return resp.subtrader_id

    async def get_fcm_subtrader_risk_controls(
        self, *, subtrader_id: str | None = None, market_ticker: str | None = None,
        asset_class: str | None = None, timeout: float | None = None,
    ) -> FCMSubtraderRiskControlsResponse:
        """Initial-margin caps (with ``current_im``) and admin notional limits."""
        if market_ticker is not None and asset_class is not None:
            raise InvalidRequest("market_ticker and asset_class are mutually exclusive")
        params = {"subtrader_id": subtrader_id, "market_ticker": market_ticker,
                  "asset_class": check_asset_class(asset_class)}
        return await self._call(Op.READ, "GET", "/margin/fcm/subtraders/risk_controls",
                                FCMSubtraderRiskControlsResponse, params=params,
                                timeout=timeout)

    async def set_fcm_subtrader_risk_controls(
        self, subtrader_id: str, im_cap: Decimal | str | int, *,
        market_ticker: str | None = None, asset_class: str | None = None,
        timeout: float | None = None,
    ) -> None:
        """Set an initial-margin cap: all markets, one market or one asset class."""
        if market_ticker is not None and asset_class is not None:
            raise InvalidRequest("market_ticker and asset_class are mutually exclusive")
        if not subtrader_id:
            raise InvalidRequest("subtrader_id is required")
        body = UpdateFCMSubtraderRiskControlsRequest(
            subtrader_id=subtrader_id, im_cap=check_dollars(im_cap, "im_cap", allow_zero=True),
            market_ticker=market_ticker, asset_class=check_asset_class(asset_class))
        await self._call(WRITE_OPS["UpdateFCMSubtraderRiskControls"], "PUT",
                         "/margin/fcm/subtraders/risk_controls", EmptyResponse, body=body,
                         timeout=timeout)

    async def delete_fcm_subtrader_risk_controls(
        self, subtrader_id: str, *, market_ticker: str | None = None,
        asset_class: str | None = None, timeout: float | None = None,
    ) -> None:
        if market_ticker is not None and asset_class is not None:
            raise InvalidRequest("market_ticker and asset_class are mutually exclusive")
        if not subtrader_id:
            raise InvalidRequest("subtrader_id is required")
        params = {"subtrader_id": subtrader_id, "market_ticker": market_ticker,
                  "asset_class": check_asset_class(asset_class)}
        await self._call(WRITE_OPS["DeleteFCMSubtraderRiskControls"], "DELETE",
                         "/margin/fcm/subtraders/risk_controls", EmptyResponse,
                         params=params, timeout=timeout)

    async def set_fcm_notional_risk_limit(self, limit: Decimal | str | int, *,
                                          timeout: float | None = None) -> None:
        """The member's own account notional limit (the smaller of it and Kalshi's wins)."""
        body = FCMNotionalRiskLimitRequest(
            notional_value_risk_limit=check_dollars(limit, "notional_value_risk_limit",
                                                    allow_zero=True))
        await self._call(WRITE_OPS["UpdateFCMNotionalRiskLimit"], "PUT",
                         "/margin/fcm/notional_risk_limit", EmptyResponse, body=body,
                         timeout=timeout)

    async def delete_fcm_notional_risk_limit(self, *, timeout: float | None = None) -> None:
        await self._call(WRITE_OPS["DeleteFCMNotionalRiskLimit"], "DELETE",
                         "/margin/fcm/notional_risk_limit", EmptyResponse, timeout=timeout)
