"""What live exit triggers cost the simulated exchange: microseconds per synthetic-flow
action, with N users each holding a position, without and with one bracket each.

Every call that touches a market re-evaluates that market's live triggers (after the
liquidation scan, which the positions alone already cost), so this is the engine's
hot-path overhead of the feature. Best of ``repeats`` runs (the machine is shared).

    python benchmarks/bench_exit_triggers.py [--actions 2000] [--users 20 100]
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import time
from decimal import Decimal

from kalshi_margin_stream.sim.engine import Exchange, ExchangeConfig, SyntheticFlow
from kalshi_margin_stream.sim.engine.config import default_markets

__all__ = ["run"]

TICKER = "KXBTCPERP"
T0 = 1_788_500_000_000
TICK = Decimal("0.0001")


def _once(users: int, with_triggers: bool, actions: int) -> float:
    ex = Exchange(ExchangeConfig(markets=default_markets([TICKER])), seed=7, now_ms=T0)
    flow = SyntheticFlow(ex, seed=7)
    flow.seed_books(T0)
    for i in range(users):
        user = ex.add_user(f"u{i}")
        _, ask, _ = ex.best_prices(TICKER)
        assert ask is not None
        ex.create_order(user, ticker=TICKER, client_order_id=f"c{i}", side="bid",
                        count=Decimal(1), price=ask, time_in_force="immediate_or_cancel",
                        now_ms=T0)
        if with_triggers:
            mark = ex.market(TICKER).liquidation_mark_price.price
            ex.set_exit_trigger(user, scope="cross", ticker=TICKER,
                                stop_loss_price=(mark / 3).quantize(TICK),
                                take_profit_price=(mark * 3).quantize(TICK), now_ms=T0)
    now = T0
    start = time.perf_counter()
    for _ in range(actions):
        now += 50
        flow.step(now, actions=1)
    return (time.perf_counter() - start) / actions * 1e6


def run(actions: int = 2000, users: tuple[int, ...] = (20, 100),
        repeats: int = 3) -> list[dict[str, float]]:
    """Rows ``{users, without_us, with_us}``: µs per flow action, best of ``repeats``."""
    rows = []
    for n in users:
        without = min(_once(n, False, actions) for _ in range(repeats))
        with_ = min(_once(n, True, actions) for _ in range(repeats))
        rows.append({"users": n, "without_us": without, "with_us": with_})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=2000)
    parser.add_argument("--users", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--repeats", type=int, default=3)
    a = parser.parse_args()
    for row in run(a.actions, tuple(a.users), a.repeats):
        print(f"{row['users']:>4} users with a position: {row['without_us']:7.0f} us/action "
              f"without triggers, {row['with_us']:7.0f} us with one bracket each")
