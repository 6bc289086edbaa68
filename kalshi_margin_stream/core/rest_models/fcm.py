"""FCM member endpoints: subtraders, their initial-margin caps, the member notional limit."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from .common import RestModel

__all__ = [
    "AssetClass",
    "CreateFCMSubtraderRequest",
    "CreateFCMSubtraderResponse",
    "FCMNotionalRiskLimitRequest",
    "FCMSubtraderNotionalRiskLimit",
    "FCMSubtraderRiskControls",
    "FCMSubtraderRiskControlsResponse",
    "UpdateFCMSubtraderRiskControlsRequest",
]

AssetClass = Literal["Crypto", "Equities", "Metals"]
"""The spec's enum for asset-class caps (kalshi-sdk lists more; the server decides)."""


class CreateFCMSubtraderRequest(RestModel, frozen=True):
    subtrader_suffix: str


class CreateFCMSubtraderResponse(RestModel, frozen=True):
    subtrader_id: str


class FCMSubtraderRiskControls(RestModel, frozen=True):
    """An initial-margin cap: all markets, one market, or one asset class."""

    subtrader_id: str
    im_cap: Decimal
    current_im: Decimal
    market_ticker: str | None = None
    asset_class: str | None = None


class FCMSubtraderNotionalRiskLimit(RestModel, frozen=True):
    """An admin-set notional limit (no ``market_ticker``: the whole subtrader)."""

    subtrader_id: str
    notional_value_risk_limit: Decimal
    current_notional: Decimal
    market_ticker: str | None = None


class FCMSubtraderRiskControlsResponse(RestModel, frozen=True):
    """``GetFCMSubtraderRiskControlsResponse``."""

    risk_controls: list[FCMSubtraderRiskControls] = []
    notional_limits: list[FCMSubtraderNotionalRiskLimit] = []


class UpdateFCMSubtraderRiskControlsRequest(RestModel, frozen=True):
    subtrader_id: str
    im_cap: Decimal
    market_ticker: str | None = None
    asset_class: AssetClass | None = None


class FCMNotionalRiskLimitRequest(RestModel, frozen=True):
    """``UpdateFCMNotionalRiskLimitRequest``."""

    notional_value_risk_limit: Decimal
