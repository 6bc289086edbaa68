"""The end-to-end benchmark's receivers, one per run, each in its own process.

Every receiver connects to the loopback sender, subscribes to the six channels,
and counts the data messages until it has them all, stamping the time of the
first and the last. With ``--latency`` it also reads each message's send stamp
(``sending_ts_ms`` = ``SEND_TS_OFFSET`` + the sender's CLOCK_MONOTONIC ns) and
keeps ``monotonic_ns() - stamp``: send to consumer.

Kinds:

* ``aiohttp``, ``websockets``, ``picows``: the bare libraries, text frames only,
  no decoding: the receive ceiling of each transport;
* ``core+aiohttp``: bare aiohttp feeding our Sans-I/O ``Session`` (decode, seq,
  books) and handing its ``Data`` events to a consumer;
* ``client-aiohttp``, ``client-websockets``: our ``kalshi_margin_stream.Client``
  on each transport (when the client exists in this checkout).

Prints one JSON line: ``{"runs": [{"received", "rate", "timed_out", "latencies_ns"}]}``.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import json
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from benchmarks.generate_data import SEND_TS_OFFSET, SIDS

__all__ = ["KINDS", "Counter", "client_available", "main"]

_TS_KEY = '"sending_ts_ms":'
_MARKETS = ("KXBTCPERP1", "KXETHPERP1", "KXSOLPERP1")
SUBSCRIBE = json.dumps({"id": 1, "cmd": "subscribe",
                        "params": {"channels": list(SIDS), "market_tickers": list(_MARKETS)}})


class Counter:
    """Counts data messages, times first and last, collects latencies when asked."""

    def __init__(self, target: int, latency: bool) -> None:
        self.target = target
        self.latency = latency
        self.n = 0
        self.t_first = 0
        self.t_last = 0
        self.lat: list[int] = []
        self.done = asyncio.Event()

    def text(self, data: str | bytes) -> None:
        """One raw text frame (acks are not counted)."""
        if data[:22] in ('{"type":"subscribed","', b'{"type":"subscribed","'):
            return
        now = time.monotonic_ns()
        if self.latency:
            key: Any = _TS_KEY if isinstance(data, str) else _TS_KEY.encode()
            i = data.find(key) + 16
            self.lat.append(now - (int(data[i:i + 19]) - SEND_TS_OFFSET))
        self._count(now)

    def stamped(self, sending_ts: int | None) -> None:
        """One decoded message whose ``sending_ts_ms`` is ``sending_ts``."""
        now = time.monotonic_ns()
        if self.latency and sending_ts is not None:
            self.lat.append(now - (sending_ts - SEND_TS_OFFSET))
        self._count(now)

    def _count(self, now: int) -> None:
        if self.n == 0:
            self.t_first = now
        self.n += 1
        if self.n >= self.target:
            self.t_last = now
            self.done.set()

    def result(self, timed_out: bool) -> dict[str, Any]:
        end = self.t_last or time.monotonic_ns()
        elapsed = end - self.t_first
        rate = (self.n - 1) / (elapsed / 1e9) if elapsed > 0 and self.n > 1 else 0.0
        return {"received": self.n, "rate": rate, "timed_out": timed_out,
                "latencies_ns": self.lat}


async def _aiohttp(url: str, c: Counter) -> None:
    import aiohttp
    async with aiohttp.ClientSession() as http, http.ws_connect(url, autoping=True) as ws:
        await ws.send_str(SUBSCRIBE)
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                c.text(msg.data)
                if c.done.is_set():
                    return


async def _websockets(url: str, c: Counter) -> None:
    from websockets.asyncio.client import connect
    async with connect(url, compression=None, max_size=None) as ws:
        await ws.send(SUBSCRIBE)
        async for data in ws:
            c.text(data)
            if c.done.is_set():
                return


async def _picows(url: str, c: Counter) -> None:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

    class Listener(WSListener):
        def on_ws_connected(self, transport: WSTransport) -> None:
            transport.send(WSMsgType.TEXT, SUBSCRIBE.encode())

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                c.text(frame.get_payload_as_bytes())
                if c.done.is_set():
                    transport.send_close()
                    transport.disconnect()

    transport, _ = await ws_connect(Listener, url)
    try:
        await c.done.wait()
    finally:
        transport.disconnect()
        await transport.wait_disconnected()


def _data_unwrapper() -> Callable[[Any], int | None | bool]:
    """Returns ``f(event)``: the send stamp of a data event, ``False`` for other events.

    Handles both shapes of the session's output: data messages returned as
    themselves, or wrapped in ``events.Data`` (older core).
    """
    from kalshi_margin_stream.core import events, messages
    data_types = tuple(getattr(messages, n) for n in (
        "OrderbookSnapshot", "OrderbookDelta", "Ticker", "Trade", "Fill", "UserOrder",
        "OrderGroupUpdates"))
    wrapper = getattr(events, "Data", None)

    def stamp(ev: Any) -> int | None | bool:
        if isinstance(ev, data_types):
            sent: int | None = ev.sending_ts_ms
            return sent
        if wrapper is not None and type(ev) is wrapper:
            wrapped: int | None = ev.msg.sending_ts_ms
            return wrapped
        return False

    return stamp


async def _core_aiohttp(url: str, c: Counter) -> None:
    """Bare aiohttp feeding our Session; the consumer is called inline with each event."""
    import aiohttp

    from kalshi_margin_stream.core.session import Session
    stamp = _data_unwrapper()
    session = Session()
    session.subscribe(["orderbook_delta", "trade", "ticker"], tickers=_MARKETS)
    session.subscribe(["fill", "user_orders", "order_group_updates"])
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        session.connection_opened()
        for cmd in session.data_to_send():
            await ws.send_str(cmd.decode())
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            for ev in session.receive_frame(msg.data):
                sent = stamp(ev)
                if sent is not False:
                    c.stamped(sent if isinstance(sent, int) else None)
            for cmd in session.data_to_send():
                await ws.send_str(cmd.decode())
            if c.done.is_set():
                return


def _client_receiver(transport: str) -> Callable[[str, Counter], Coroutine[Any, Any, None]]:
    async def receive(url: str, c: Counter) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        import kalshi_margin_stream as kms
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        creds = kms.Credentials("bench-key-id", key)
        # No REST here: the sender only speaks WebSocket. The queues hold the whole
        # run so a consumer that is briefly descheduled never triggers a repair
        # (kalshi-sdk gets the same setting).
        client = kms.Client(creds, ws_url=url, rest_url="http://127.0.0.1:9/trade-api/v2",
                            transport=transport,  # type: ignore[arg-type]
                            rest_fallback=False, reconcile=False,
                            limits=kms.Limits(queue=c.target + 100))
        stale = 0

        async def consume(sub: Any) -> None:
            nonlocal stale
            async for item in sub:
                if isinstance(item, kms.Stale):
                    stale += 1
                    continue
                c.stamped(item.sending_ts_ms)

        async with client, asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(consume(client.subscribe(spec))) for spec in (
                kms.Books(_MARKETS), kms.Trades(), kms.Tickers(), kms.Fills(), kms.Orders(),
                kms.OrderGroups())]
            await c.done.wait()
            for t in tasks:
                t.cancel()
        if stale:
            raise RuntimeError(f"{stale} Stale markers: the client fell behind")

    return receive


def client_available() -> str | None:
    """``None`` when ``kalshi_margin_stream.Client`` exists, else why not."""
    try:
        import kalshi_margin_stream
    except ImportError as exc:  # pragma: no cover
        return str(exc)
    if not hasattr(kalshi_margin_stream, "Client"):
        return "kalshi_margin_stream.Client not in this checkout yet"
    return None


KINDS: dict[str, Callable[[str, Counter], Coroutine[Any, Any, None]]] = {
    "aiohttp": _aiohttp,
    "websockets": _websockets,
    "picows": _picows,
    "core+aiohttp": _core_aiohttp,
    "client-aiohttp": _client_receiver("aiohttp"),
    "client-websockets": _client_receiver("websockets"),
    "client-picows": _client_receiver("picows"),
}


async def _run(kind: str, url: str, count: int, latency: bool, timeout: float
               ) -> dict[str, Any]:
    c = Counter(count, latency)
    task = asyncio.create_task(KINDS[kind](url, c))
    waiter = asyncio.create_task(c.done.wait())
    await asyncio.wait({task, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    timed_out = not c.done.is_set()
    if not task.done() and not timed_out:  # let it close the connection cleanly
        await asyncio.wait({task}, timeout=5)
    for t in (task, waiter):
        if not t.done():
            t.cancel()
    results = await asyncio.gather(task, waiter, return_exceptions=True)
    err = results[0]
    if isinstance(err, BaseException) and not isinstance(err, asyncio.CancelledError):
        if not c.done.is_set():
            raise err
    return c.result(timed_out)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="one end-to-end receiver")
    p.add_argument("kind", choices=sorted(KINDS))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--latency", action="store_true")
    p.add_argument("--timeout", type=float, default=60.0)
    a = p.parse_args(argv)
    url = f"ws://127.0.0.1:{a.port}/trade-api/ws/v2/margin"
    runs = [asyncio.run(_run(a.kind, url, a.count, a.latency, a.timeout))
            for _ in range(a.repeats)]
    print(json.dumps({"runs": runs}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
