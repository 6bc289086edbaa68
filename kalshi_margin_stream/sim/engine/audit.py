"""Self-check of every structural and money invariant; cheap enough for tests and debugging.

:func:`audit` returns human-readable violations (empty = healthy). It checks:

* each book level's total equals the sum of its orders' ``remaining``, which are all > 0,
  and each resting order is registered (order index, user's resting set, group set);
* no crossed book (best bid < best ask);
* each subaccount's resting exposure equals its resting orders;
* the ledger identity of :mod:`.ledger` (exact), and net position zero per market.
"""

from __future__ import annotations

from decimal import Decimal

from .state import State

__all__ = ["audit", "ledger_totals"]

ZERO = Decimal(0)


def ledger_totals(st: State) -> dict[str, Decimal]:
    """Totals behind the ledger invariant (see :mod:`.ledger`).

    Keys: ``cash`` (margin + event-contract cash of every user), ``deposits``,
    ``realized``, ``cost_basis``, ``fees_collected``, ``funding_residual``, and
    ``net_position:<ticker>`` per market.
    """
    cash = realized = cost = ZERO
    net: dict[str, Decimal] = {t: ZERO for t in st.markets}
    for acct in st.accounts.values():
        cash += acct.event_balance
        for sub in acct.subaccounts.values():
            cash += sub.cash
            for t, pos in sub.positions.items():
                realized += pos.realized
                cost += pos.cost
                net[t] += pos.qty
    out = {"cash": cash, "deposits": st.deposits, "realized": realized, "cost_basis": cost,
           "fees_collected": st.fees_collected, "funding_residual": st.funding_residual}
    out.update({f"net_position:{t}": q for t, q in net.items()})
    return out


def audit(st: State) -> list[str]:
    bad: list[str] = []
    exposure: dict[tuple[str, int, str], list[Decimal]] = {}
    for t, m in st.markets.items():
        for side in (m.book.bids, m.book.asks):
            if side.prices != sorted(side.levels):
                bad.append(f"{t}: price index out of sync")
            for price, level in side.levels.items():
                total = sum((o.remaining for o in level.orders.values()), ZERO)
                if not level.orders or level.total != total or total <= 0:
                    bad.append(f"{t} {price}: level total {level.total} != {total}")
                for o in level.orders.values():
                    if o.remaining <= 0 or o.price != price or o.ticker != t:
                        bad.append(f"{o.order_id}: bad resting order")
                    if st.orders.get(o.order_id) is not o:
                        bad.append(f"{o.order_id}: resting but not indexed")
                    if o.order_id not in st.accounts[o.user_id].resting:
                        bad.append(f"{o.order_id}: missing from the user's resting set")
                    if o.group_id is not None and o.group_id in st.groups and \
                            o.order_id not in st.groups[o.group_id].orders:
                        bad.append(f"{o.order_id}: missing from its group")
                    e = exposure.setdefault((o.user_id, o.subaccount, t), [ZERO] * 4)
                    i = 0 if o.side == "bid" else 2
                    e[i] += o.remaining
                    e[i + 1] += o.remaining * o.price
        bb, ba = m.book.best_bid(), m.book.best_ask()
        if bb is not None and ba is not None and bb >= ba:
            bad.append(f"{t}: crossed book {bb} >= {ba}")
    for acct in st.accounts.values():
        for sub in acct.subaccounts.values():
            for t, exp in sub.exposure.items():
                want = exposure.get((acct.user_id, sub.number, t), [ZERO] * 4)
                have = [exp.bid_qty, exp.bid_notional, exp.ask_qty, exp.ask_notional]
                if have != want:
                    bad.append(f"{acct.user_id}/{sub.number} {t}: exposure {have} != {want}")
    tot = ledger_totals(st)
    expect = tot["deposits"] + tot["realized"] - tot["fees_collected"] - tot["funding_residual"]
    if tot["cash"] != expect:
        bad.append(f"ledger: cash {tot['cash']} != {expect}")
    if tot["realized"] != tot["cost_basis"]:
        bad.append(f"ledger: realized {tot['realized']} != cost basis {tot['cost_basis']}")
    for key, value in tot.items():
        if key.startswith("net_position:") and value != 0:
            bad.append(f"{key} = {value}")
    return bad
