"""The kalshi-sdk side of the benchmarks. Runs ONLY inside benchmarks/.venv-kalshi-sdk.

kalshi-sdk (22.4.0) needs Python >= 3.12, so it lives in its own virtualenv and
this script is its only entry point: the benchmark scripts start it as a
subprocess and read one JSON object from its stdout. It imports nothing from
kalshi_margin_stream and nothing of ours is imported into it.

Modes (each times only kalshi-sdk's own code; inputs are frame files):

* ``decode``: ``json.loads`` + the pydantic model of the frame's ``type``
  (``kalshi.perps.ws.dispatch.MESSAGE_MODELS`` plus the control models);
* ``pipeline``: ``PerpsWebSocket._process_frame`` on each frame (its real recv path
  minus the socket: json, seq tracking, pydantic, ``PerpsOrderbookManager`` apply,
  dispatch to the subscription queues), with subscriptions installed as a
  subscribe would;
* ``book``: ``PerpsOrderbookManager`` apply of pre-validated deltas, then the
  best bid/ask and top-10 read through ``get()`` after every update;
* ``e2e``: a real ``PerpsWebSocket`` session against the loopback sender.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from kalshi.auth import KalshiAuth
from kalshi.perps.config import PerpsConfig
from kalshi.perps.ws.backpressure import MessageQueue, OverflowStrategy
from kalshi.perps.ws.channels import PerpsSubscription, PerpsSubscriptionManager
from kalshi.perps.ws.client import PerpsWebSocket
from kalshi.perps.ws.dispatch import MESSAGE_MODELS, PerpsMessageDispatcher
from kalshi.perps.ws.models.control import (
    OkResponse,
    PerpsErrorResponse,
    SubscribedResponse,
    UnsubscribedResponse,
)
from kalshi.perps.ws.models.orderbook import (
    MarginOrderbookDeltaMessage,
    MarginOrderbookSnapshotMessage,
)
from kalshi.perps.ws.orderbook import PerpsOrderbookManager
from kalshi.perps.ws.sequence import PerpsSequenceTracker

MODELS: dict[str, Any] = {
    **MESSAGE_MODELS,
    "subscribed": SubscribedResponse,
    "unsubscribed": UnsubscribedResponse,
    "ok": OkResponse,
    "error": PerpsErrorResponse,
}
# Same channel -> sid map as benchmarks/generate_data.py SIDS (kept in step by hand:
# this file must not import ours).
SIDS = {"orderbook_delta": 1, "trade": 2, "ticker": 3, "user_orders": 4, "fill": 5,
        "order_group_updates": 6}
SEND_TS_OFFSET = 10**18


def _frames(path: str) -> list[bytes]:
    return [line for line in Path(path).read_bytes().splitlines() if line.strip()]


def _median_per_item(run: Any, repeats: int) -> tuple[float, list[float]]:
    figures = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter_ns()
        n = run()
        figures.append((time.perf_counter_ns() - t0) / max(n, 1))
    return statistics.median(figures), figures


# --- decode -------------------------------------------------------------------------


def mode_decode(args: argparse.Namespace) -> dict[str, Any]:
    frames = _frames(args.frames)
    loads = json.loads
    models = MODELS

    def run() -> int:
        for f in frames:
            data = loads(f)
            models[data["type"]].model_validate(data)
        return len(frames)

    run()  # warm-up
    med, figs = _median_per_item(run, args.repeats)
    return {"ns_per_frame": med, "runs": figs, "frames": len(frames)}


# --- pipeline -----------------------------------------------------------------------


def _install(ws: PerpsWebSocket, maxsize: int) -> PerpsSubscriptionManager:
    """Wire the managers exactly as ``PerpsWebSocket._start`` does, minus the socket."""
    sub_mgr = PerpsSubscriptionManager(None)  # type: ignore[arg-type]
    ws._sub_mgr = sub_mgr
    ws._seq_tracker = PerpsSequenceTracker(on_gap=ws._handle_seq_gap)
    ws._orderbook_mgr = PerpsOrderbookManager()
    ws._dispatcher = PerpsMessageDispatcher(
        sub_mgr=sub_mgr, seq_tracker=ws._seq_tracker, orderbook_mgr=ws._orderbook_mgr)
    for client_id, (channel, sid) in enumerate(SIDS.items(), start=1):
        queue: MessageQueue[Any] = MessageQueue(maxsize=maxsize,
                                                overflow=OverflowStrategy.ERROR)
        sub = PerpsSubscription(client_id, channel, {}, queue)
        sub.server_sid = sid
        sub_mgr._subscriptions[client_id] = sub
        sub_mgr._sid_to_client[sid] = client_id
    return sub_mgr


def _config(port: int = 9) -> PerpsConfig:
    return PerpsConfig(base_url=f"http://127.0.0.1:{port}/trade-api/v2",
                       ws_base_url=f"ws://127.0.0.1:{port}/trade-api/ws/v2/margin")


def mode_pipeline(args: argparse.Namespace) -> dict[str, Any]:
    frames = [f.decode() for f in _frames(args.frames)]  # websockets hands it str

    async def main() -> dict[str, Any]:
        figures = []
        books: dict[str, Any] = {}
        for i in range(args.repeats + 1):
            ws = PerpsWebSocket(auth=None, config=_config())  # type: ignore[arg-type]
            sub_mgr = _install(ws, maxsize=len(frames) + 10)
            process = ws._process_frame
            gc.collect()
            t0 = time.perf_counter_ns()
            for f in frames:
                await process(f)
            elapsed = time.perf_counter_ns() - t0
            delivered = sum(s.queue.qsize() for s in sub_mgr._subscriptions.values())
            if i:  # the first pass is a warm-up
                figures.append(elapsed / len(frames))
            assert ws._orderbook_mgr is not None
            books = {t: [len(b.bid), len(b.ask)] for t, b in ws._orderbook_mgr._books.items()}
        return {"ns_per_frame": statistics.median(figures), "runs": figures,
                "frames": len(frames), "delivered": delivered, "books": books}

    return asyncio.run(main())


# --- book reads ---------------------------------------------------------------------


def mode_book(args: argparse.Namespace) -> dict[str, Any]:
    frames = _frames(args.frames)
    snapshot = MarginOrderbookSnapshotMessage.model_validate_json(frames[0])
    ticker = snapshot.msg.market_ticker
    validate = MarginOrderbookDeltaMessage.model_validate_json

    def timed(read: Any) -> float:
        # Fresh models every repeat: a Decimal caches its hash, so reusing them
        # would hide the cost of hashing each new price.
        figures = []
        for i in range(args.repeats + 1):
            deltas = [validate(f) for f in frames[1:]]
            mgr = PerpsOrderbookManager()
            mgr.apply_snapshot(snapshot)
            apply, get = mgr._apply_delta_inplace, mgr.get
            gc.collect()
            t0 = time.perf_counter_ns()
            if read is None:
                for d in deltas:
                    apply(d)
            else:
                for d in deltas:
                    apply(d)
                    read(get(ticker))
            if i:
                figures.append((time.perf_counter_ns() - t0) / len(deltas))
        return statistics.median(figures)

    def top1(ob: Any) -> None:
        _ = ob.bids[0], ob.asks[0]

    def top10(ob: Any) -> None:
        _ = ob.bids[:10], ob.asks[:10]

    out: dict[str, Any] = {"updates": len(frames) - 1, "apply": timed(None),
                           "apply_top1": timed(top1), "apply_top10": timed(top10)}
    mgr = PerpsOrderbookManager()
    mgr.apply_snapshot(snapshot)
    for f in frames[1:]:
        mgr._apply_delta_inplace(validate(f))
    ob = mgr.get(ticker)
    assert ob is not None
    out["final_best"] = [str(ob.bids[0].price), str(ob.asks[0].price)]
    out["final_depth"] = [len(ob.bids), len(ob.asks)]
    return out


# --- end to end ---------------------------------------------------------------------


def mode_e2e(args: argparse.Namespace) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    auth = KalshiAuth("bench-key-id", key)

    async def one_run() -> dict[str, Any]:
        ws = PerpsWebSocket(auth=auth, config=_config(args.port))
        target = args.count
        done = asyncio.Event()
        state = {"n": 0, "t_first": 0, "t_last": 0}
        lat: list[int] = []
        clock = time.monotonic_ns

        async def consume(stream: Any) -> None:
            async for msg in stream:
                now = clock()
                if state["n"] == 0:
                    state["t_first"] = now
                state["n"] += 1
                if args.latency:
                    extra = msg.model_extra or {}
                    sent = extra.get("sending_ts_ms")
                    if sent is not None:
                        lat.append(now - (sent - SEND_TS_OFFSET))
                if state["n"] >= target:
                    state["t_last"] = now
                    done.set()

        async with ws.connect() as session:
            tasks = []
            for channel in SIDS:
                overflow = (OverflowStrategy.ERROR if channel in
                            ("orderbook_delta", "order_group_updates")
                            else OverflowStrategy.DROP_OLDEST)
                stream = await session.subscribe(channel, overflow=overflow,
                                                 maxsize=target + 10)
                tasks.append(asyncio.create_task(consume(stream)))
            try:
                await asyncio.wait_for(done.wait(), timeout=args.timeout)
                timed_out = False
            except TimeoutError:
                timed_out = True
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        n = state["n"]
        elapsed = (state["t_last"] or clock()) - state["t_first"]
        return {"received": n, "rate": n / (elapsed / 1e9) if elapsed > 0 else 0.0,
                "timed_out": timed_out, "latencies_ns": lat}

    async def main() -> list[dict[str, Any]]:
        return [await one_run() for _ in range(args.repeats)]

    return {"runs": asyncio.run(main())}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("versions", "decode", "pipeline", "book", "e2e"))
    p.add_argument("--frames")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--latency", action="store_true")
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()
    if args.mode == "versions":
        from importlib import metadata
        out: dict[str, Any] = {"python": sys.version.split()[0]}
        for name in ("kalshi-sdk", "pydantic", "pydantic-core", "websockets"):
            out[name] = metadata.version(name)
    else:
        out = {"decode": mode_decode, "pipeline": mode_pipeline, "book": mode_book,
               "e2e": mode_e2e}[args.mode](args)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
