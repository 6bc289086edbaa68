"""Accounts: users, subaccounts, deposits and the two kinds of transfer."""

from __future__ import annotations

from decimal import Decimal

from .errors import Rejection, invalid_parameters, not_found, transfer_already_applied
from .ledger import Account, Subaccount
from .state import State
from .views import Page, TransferView

__all__ = ["add_user", "deposit", "create_subaccount", "transfer_between", "intra_exchange",
           "get_transfer", "list_transfers"]

ZERO = Decimal(0)
CENT = Decimal("0.01")
CENTICENT = Decimal("0.0001")
INSTANCES = ("event_contract", "margined")


def add_user(st: State, user_id: str | None, cash: Decimal | None, synthetic: bool) -> str:
    uid = user_id or st.ids.uuid()
    if uid in st.accounts:
        return uid
    cfg = st.config
    start = cfg.default_cash if cash is None else cash
    event = cfg.default_event_contract_balance
    st.accounts[uid] = Account(uid, cash=start, event_balance=event, synthetic=synthetic,
                               notional_limit=cfg.default_notional_limit)
    st.deposits += start + event
    return uid


def deposit(st: State, user_id: str, amount: Decimal, subaccount: int) -> None:
    sub = st.subaccount(user_id, subaccount)
    sub.cash += amount
    st.deposits += amount


def create_subaccount(st: State, user_id: str) -> int:
    acct = st.account(user_id)
    n = len(acct.subaccounts)
    if n > st.config.max_subaccount:
        raise invalid_parameters("all subaccounts already exist")
    while n in acct.subaccounts:
        n += 1
    acct.subaccounts[n] = Subaccount(n)
    return n


def transfer_between(st: State, user_id: str, *, client_transfer_id: str, from_subaccount: int,
                     to_subaccount: int, amount_cents: int) -> None:
    acct = st.account(user_id)
    if not client_transfer_id:
        raise invalid_parameters("client_transfer_id is required")
    if client_transfer_id in acct.transfer_ids:
        raise transfer_already_applied()
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise invalid_parameters("amount_cents must be a positive integer")
    for n in (from_subaccount, to_subaccount):
        if not isinstance(n, int) or isinstance(n, bool):
            raise invalid_parameters("subaccount numbers must be integers")
    if from_subaccount == to_subaccount:
        raise invalid_parameters("from_subaccount and to_subaccount must differ")
    src = st.subaccount(user_id, from_subaccount)
    dst = st.subaccount(user_id, to_subaccount)
    amount = Decimal(amount_cents) * CENT
    if src.cash < amount:
        raise Rejection(400, "insufficient_balance", "insufficient balance")
    src.cash -= amount
    dst.cash += amount
    acct.transfer_ids.add(client_transfer_id)


def intra_exchange(st: State, user_id: str, *, source: str, destination: str,
                   amount_centicents: int, client_transfer_id: str | None,
                   now_ms: int) -> TransferView:
    acct = st.account(user_id)
    if client_transfer_id:
        prior = st.transfers.get((user_id, client_transfer_id))
        if prior is not None:
            return get_transfer(st, user_id, prior)
    if source not in INSTANCES or destination not in INSTANCES or source == destination:
        raise invalid_parameters("source/destination must be event_contract and margined")
    if (isinstance(amount_centicents, bool) or not isinstance(amount_centicents, int)
            or amount_centicents <= 0):
        raise invalid_parameters("amount must be a positive integer (centicents)")
    amount = Decimal(amount_centicents) * CENTICENT
    primary = acct.subaccounts[0]
    if source == "event_contract":
        if acct.event_balance < amount:
            raise Rejection(400, "insufficient_balance", "insufficient balance")
        acct.event_balance -= amount
        primary.cash += amount
    else:
        if primary.cash < amount:
            raise Rejection(400, "insufficient_balance", "insufficient balance")
        primary.cash -= amount
        acct.event_balance += amount
    view = TransferView(transfer_id=st.ids.uuid(), source=source, destination=destination,
                        amount=amount, status="complete", created_ts_ms=now_ms)
    acct.transfers.append(view)
    if client_transfer_id:
        st.transfers[(user_id, client_transfer_id)] = view.transfer_id
    return view


def get_transfer(st: State, user_id: str, transfer_id: str) -> TransferView:
    for t in st.account(user_id).transfers:
        if t.transfer_id == transfer_id:
            return t
    raise not_found(f"transfer {transfer_id}")


def list_transfers(st: State, user_id: str, limit: int, cursor: str | None) -> Page[TransferView]:
    from .queries import page_newest_first

    items = st.account(user_id).transfers
    return page_newest_first([(i + 1, t) for i, t in enumerate(items)], limit, cursor,
                             lambda _t: True)
