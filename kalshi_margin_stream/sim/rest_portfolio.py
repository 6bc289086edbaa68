"""REST routes for the user's portfolio: fills, positions, balance, risk, funding payments,
subaccounts and transfers (rest.md §6.5, 6.6, 6.8, 6.10). All signed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core.numbers import fmt_count, fmt_dollars
from .engine.errors import invalid_parameters
from .engine.views import TransferView
from .rest_common import (
    STATE_KEY,
    USER_KEY,
    body_int,
    body_str,
    json_body,
    json_response,
    query_bool,
    query_int,
    query_str,
)
from .rest_market import parse_date
from .rest_views import (
    balance_json,
    notional_json,
    position_json,
    rfc3339,
    risk_json,
)
from .state import SimState

__all__ = ["add_routes"]

_INSTANCES = ("event_contract", "margined")


def _ctx(request: web.Request) -> tuple[SimState, str]:
    return request.app[STATE_KEY], str(request[USER_KEY])


def _ms(request: web.Request, name: str) -> int | None:
    value = query_int(request, name, lo=0)
    return None if value is None else value * 1000


async def fills(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    page = state.exchange.fills(
        user, subaccount=query_int(request, "subaccount", default=0, lo=0, hi=63),
        ticker=query_str(request, "ticker"), min_ts_ms=_ms(request, "min_ts"),
        max_ts_ms=_ms(request, "max_ts"),
        limit=query_int(request, "limit", default=100, lo=1, hi=1000) or 100,
        cursor=query_str(request, "cursor"))
    rows = [{"fill_id": f.fill_id, "order_id": f.order_id, "is_taker": f.is_taker,
             "side": f.side, "count": fmt_count(f.count), "created_time": rfc3339(f.ts_ms),
             "ticker": f.ticker, "price": fmt_dollars(f.price),
             "entry_price": fmt_dollars(f.entry_price), "fees": fmt_dollars(f.fee_cost),
             "realized_pnl": fmt_dollars(f.realized_pnl), "order_source": f.order_source}
            for f in page.items]
    return json_response({"fills": rows, "cursor": page.cursor})


async def positions(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    rows = state.exchange.positions(
        user, subaccount=query_int(request, "subaccount", lo=0, hi=63),
        ticker=query_str(request, "ticker"))
    return json_response({"positions": [position_json(p) for p in rows]})


async def balance(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    compute = query_bool(request, "compute_available_balance")
    return json_response(balance_json(state.exchange.balance(user), compute_available=compute))


async def risk(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    view = state.exchange.risk(user, subaccount=query_int(request, "subaccount", lo=0, hi=63))
    return json_response(risk_json(view))


async def notional_risk_limit(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    return json_response(notional_json(state.exchange.notional_risk_limit(user)))


async def funding_history(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    start = parse_date(request, "start_date", end=False)
    end = parse_date(request, "end_date", end=True)
    rows = state.exchange.funding_history(
        user, ticker=query_str(request, "ticker"),
        subaccount=query_int(request, "subaccount", lo=0, hi=63), start_ms=start, end_ms=end)
    return json_response({"funding_history": [
        {"market_ticker": p.ticker, "funding_time": rfc3339(p.funding_time_ms),
         "funding_rate": p.funding_rate, "mark_price": fmt_dollars(p.mark_price),
         "funding_amount": fmt_dollars(p.amount), "quantity": fmt_count(p.quantity),
         "subaccount_number": p.subaccount} for p in rows]})


async def create_subaccount(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    await json_body(request)  # Kalshi wants a JSON content type even here (rest.md §6.10)
    number = state.exchange.create_subaccount(user)
    return json_response({"subaccount_number": number}, 201)


async def subaccount_transfer(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    body = await json_body(request)
    transfer_id = body_str(body, "client_transfer_id", required=True)
    src = body_int(body, "from_subaccount", required=True)
    dst = body_int(body, "to_subaccount", required=True)
    cents = body_int(body, "amount_cents", required=True)
    assert transfer_id is not None and src is not None and dst is not None and cents is not None
    state.exchange.transfer_between_subaccounts(user, client_transfer_id=transfer_id,
                                                from_subaccount=src, to_subaccount=dst,
                                                amount_cents=cents)
    return json_response({})


async def intra_exchange_transfer(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    body = await json_body(request)
    source = body_str(body, "source", required=True)
    destination = body_str(body, "destination", required=True)
    amount = body_int(body, "amount", required=True)
    for name, value in (("source", source), ("destination", destination)):
        if value not in _INSTANCES:
            raise invalid_parameters(f"{name} must be event_contract or margined")
    for name in ("source_exchange_shard", "destination_exchange_shard"):
        shard = body_int(body, name)
        if shard is not None and not 0 <= shard <= 100:
            raise invalid_parameters(f"{name} must be between 0 and 100")
    assert source is not None and destination is not None and amount is not None
    view = state.exchange.intra_exchange_transfer(
        user, source=source, destination=destination, amount_centicents=amount,
        client_transfer_id=body_str(body, "client_transfer_id"), now_ms=state.now_ms())
    return json_response({"transfer_id": view.transfer_id})


def _transfer_json(t: TransferView) -> dict[str, Any]:
    return {"transfer_id": t.transfer_id, "source": t.source, "destination": t.destination,
            "source_exchange_shard": 0, "destination_exchange_shard": 0,
            "amount": fmt_dollars(t.amount), "status": t.status,
            "created_ts": t.created_ts_ms // 1000}


async def list_transfers(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    page = state.exchange.list_transfers(
        user, limit=query_int(request, "limit", default=100, lo=1, hi=500) or 100,
        cursor=query_str(request, "cursor"))
    return json_response({"transfers": [_transfer_json(t) for t in page.items],
                          "cursor": page.cursor})


async def get_transfer(request: web.Request) -> web.Response:
    state, user = _ctx(request)
    view = state.exchange.get_transfer(user, request.match_info["transfer_id"])
    return json_response({"transfer": _transfer_json(view)})


def add_routes(app: web.Application, prefix: str) -> None:
    r = app.router
    r.add_get(prefix + "/margin/fills", fills)
    r.add_get(prefix + "/margin/positions", positions)
    r.add_get(prefix + "/margin/balance", balance)
    r.add_get(prefix + "/margin/risk", risk)
    r.add_get(prefix + "/margin/notional_risk_limit", notional_risk_limit)
    r.add_get(prefix + "/margin/funding_history", funding_history)
    r.add_post(prefix + "/portfolio/margin/subaccounts", create_subaccount)
    r.add_post(prefix + "/portfolio/margin/subaccounts/transfer", subaccount_transfer)
    r.add_post(prefix + "/portfolio/intra_exchange_instance_transfer", intra_exchange_transfer)
    r.add_get(prefix + "/portfolio/intra_exchange_instance_transfers", list_transfers)
    r.add_get(prefix + "/portfolio/intra_exchange_instance_transfers/{transfer_id}",
              get_transfer)
