"""FIX against the simulator: order entry, listener, drop copy, RT resend/restart, MD books."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.core.backoff import Backoff
from kalshi_margin_stream.core.fix import (
    BusinessMessageReject,
    ExecutionReport,
    FixMessage,
    OrderGroupResponse,
    OrderMassCancelReport,
    Reject,
    SeqState,
    SessionKind,
    frame,
    utc_timestamp,
)
from kalshi_margin_stream.exceptions import AuthError, ConnectError, InvalidRequest, ProtocolError
from kalshi_margin_stream.fix import FixClient, FixReplayRejected, SeqStore
from kalshi_margin_stream.sim.server import Simulator
from kalshi_margin_stream.stream.subscriptions import Fills, Orders
from kalshi_margin_stream.testing import MARKETS, eventually, running_simulator, sim_and_client

FAST = {"backoff": Backoff(0.02, 0.1), "heartbeat_s": 5}


def er(pred: Any = None) -> Any:
    return lambda m: isinstance(m.body, ExecutionReport) and (pred is None or pred(m.body))


def tls_for(sim: Simulator) -> ssl.SSLContext:
    assert sim.fix is not None and sim.fix.cert_pem is not None
    ctx = ssl.create_default_context(cadata=sim.fix.cert_pem.decode())
    return ctx


@asynccontextmanager
async def fix_for(sim: Simulator, kind: SessionKind = SessionKind.NR,
                  credentials: Credentials | None = None, **kw: Any) -> AsyncIterator[FixClient]:
    creds = credentials or sim.credentials
    assert creds is not None
    options: dict[str, Any] = {**FAST, "tls": tls_for(sim) if sim.fix and sim.fix.tls else False}
    options.update(kw)
    async with FixClient(creds, kind=kind, host="127.0.0.1", port=sim.fix_port,
                         **options) as fix:
        yield fix


def second_key(sim: Simulator) -> Credentials:
    """Another key for the default user (one FIX connection per key)."""
    private = ed25519.Ed25519PrivateKey.generate()
    entry = sim.state.keys.add(private.public_key(), user_id=sim.user_id)
    return Credentials(entry.key_id, private)


def far_bid(sim: Simulator, ticker: str) -> Decimal:
    bid, _, _ = sim.exchange.best_prices(ticker)
    assert bid is not None
    return (bid - Decimal("0.0500")).quantize(Decimal("0.0001"))


async def test_order_lifecycle_over_tls_agrees_with_ws_and_rest() -> None:
    async with sim_and_client(sim_kw={"fix": True, "rate": 0}) as (sim, client):
        client.subscribe(Fills())
        client.subscribe(Orders())
        await client.wait_connected(5)
        await eventually(lambda: all((ch := client.session.channel(c)) is not None
                                     and ch.sid is not None for c in ("fill", "user_orders")))
        async with fix_for(sim, margin=client.margin_state) as fix:
            t = MARKETS[0]
            price = far_bid(sim, t)
            cl = fix.new_order(t, "bid", 5, price)
            new = (await fix.expect(er(lambda b: b.cl_ord_id == cl))).body
            assert new.exec_type == "0" and new.leaves_qty == Decimal("5.00")
            order_id = new.order_id
            cl2 = fix.amend(cl, t, "bid", 4, price + Decimal("0.0100"), order_id=order_id)
            rep = (await fix.expect(er(lambda b: b.cl_ord_id == cl2))).body
            assert rep.exec_type == "5" and rep.orig_cl_ord_id == cl and rep.order_qty == 4
            # a taker order crossing the book: Trade reports with position and fee
            _, ask, _ = sim.exchange.best_prices(t)
            assert ask is not None
            taker = fix.new_order(t, "buy", 3, ask, time_in_force="ioc")
            fill = (await fix.expect(er(lambda b: b.cl_ord_id == taker
                                        and b.exec_type == "F"))).body
            assert fill.trd_match_id and fill.long_qty is not None and fill.aggressor is True
            # REST and the engine agree with the FIX reports
            rest = await client.rest.get_order(order_id)
            assert rest.remaining_count == Decimal(4) and rest.price == price + Decimal("0.0100")
            # cancel; then the WS-fed margin state (also fed by FIX: deduplicated) equals REST
            fix.cancel(cl2, t, "bid", order_id=order_id)
            gone = (await fix.expect(er(lambda b: b.order_id == order_id
                                        and b.exec_type == "4"))).body
            assert gone.leaves_qty == 0 and gone.orig_cl_ord_id == cl2
            await eventually(lambda: order_id not in client.margin.account(0).open_orders)
            positions = {p.ticker: p.position for p in sim.exchange.positions(sim.user_id)}
            await eventually(lambda: client.margin.account(0).positions[t].count == positions[t])
            rest_fills = await client.rest.list_fills(ticker=t)
            assert sum(f.count for f in rest_fills.fills) == positions[t]
            # the same fills came over FIX and over WS; the state holds each one once
            n = len(rest_fills.fills)
            await eventually(lambda: client.margin.counters["fills_duplicate"] >= n)
            assert client.margin.fills_count == n


async def test_rejects_order_groups_and_mass_cancel() -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        async with fix_for(sim) as fix:
            with pytest.raises(InvalidRequest):
                fix.new_order(MARKETS[0], "bid", Decimal("1.5"), "1.0")
            with pytest.raises(InvalidRequest):
                fix.new_order(MARKETS[0], "bid", 1, "1.00001")
            cl = fix.new_order("NOPE", "bid", 1, "1.0000")
            rej = (await fix.expect(er(lambda b: b.cl_ord_id == cl))).body
            assert rej.exec_type == "8" and rej.ord_rej_reason == 1
            mark = fix.received
            fix.order_group("create", contracts_limit=10)
            uoh = (await fix.expect(lambda m: isinstance(m.body, OrderGroupResponse),
                                    since=mark)).body
            gid = uoh.order_group_id
            assert sim.exchange.get_order_group(sim.user_id, gid).contracts_limit == 10
            a = fix.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]), order_group_id=gid)
            b = fix.new_order(MARKETS[1], "bid", 1, far_bid(sim, MARKETS[1]))
            for c in (a, b):
                await fix.expect(er(lambda r, c=c: r.cl_ord_id == c and r.exec_type == "0"))
            # trigger cancels the group's order; reset, update and delete answer with UOH
            mark = fix.received
            fix.order_group("trigger", order_group_id=gid)
            await fix.expect(er(lambda r: r.cl_ord_id == a and r.exec_type == "4"), since=mark)
            assert sim.exchange.get_order_group(sim.user_id, gid).triggered
            for action, limit in (("reset", None), ("update", 20), ("delete", None)):
                mark = fix.received
                fix.order_group(action, order_group_id=gid, contracts_limit=limit)
                await fix.expect(lambda m: isinstance(m.body, OrderGroupResponse), since=mark)
            assert not sim.exchange.list_order_groups(sim.user_id)
            mark = fix.received
            fix.order_group("reset", order_group_id=gid)
            j = (await fix.expect(lambda m: isinstance(m.body, BusinessMessageReject),
                                  since=mark)).body
            assert j.text == "ORDER_GROUP_NOT_FOUND" and j.ref_msg_type == "UOG"
            # GTD: a resting order that expires at 126
            g = fix.new_order(MARKETS[1], "bid", 1, far_bid(sim, MARKETS[1]),
                              time_in_force="gtd",
                              expire_time=utc_timestamp(fix._now() + 3_600_000))
            await fix.expect(er(lambda r: r.cl_ord_id == g and r.exec_type == "0"))
            fix.mass_cancel()
            await fix.expect(lambda m: isinstance(m.body, OrderMassCancelReport))
            for c in (b, g):
                await fix.expect(er(lambda r, c=c: r.exec_type == "4" and r.orig_cl_ord_id == c))
            assert not sim.exchange.list_orders(sim.user_id, status="resting").items


@pytest.mark.parametrize("key_type", ["rsa", "ed25519"])
async def test_logon_signature_checked_for_both_key_types(key_type: str) -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        creds = sim.add_user(key_type=key_type)  # type: ignore[arg-type]
        async with fix_for(sim, credentials=creds) as fix:
            assert fix.active
        wrong = Credentials(creds.key_id, ed25519.Ed25519PrivateKey.generate())
        with pytest.raises(AuthError, match="invalid signature"):
            async with fix_for(sim, credentials=wrong):
                pass
        assert sim.fix is not None and sim.fix.logon_refusals == 1


async def test_rt_dropped_and_garbled_reports_are_resent_and_state_converges() -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        assert sim.fix is not None
        async with fix_for(sim, SessionKind.RT) as fix:
            sim.fix.faults.drop_next = 1
            sim.fix.faults.garble_next = 1
            cls = [fix.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]))
                   for _ in range(3)]
            for c in cls:
                await fix.expect(er(lambda r, c=c: r.cl_ord_id == c and r.exec_type == "0"))
            assert sim.fix.faults.counts["dropped"] == 1
            assert sim.fix.faults.counts["garbled"] == 1
            assert fix.session is not None and fix.session.counters["resend_requests"] >= 1
            # exactly one report per order reached the application, in order
            news = [m.body.cl_ord_id for m in fix.recent if isinstance(m.body, ExecutionReport)]
            assert news == cls


async def test_rt_restart_from_the_store_resumes_sequence_numbers(tmp_path: Path) -> None:
    store = tmp_path / "rt.json"
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        async with fix_for(sim, SessionKind.RT, store=SeqStore(store)) as fix:
            cl = fix.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]))
            await fix.expect(er(lambda r: r.cl_ord_id == cl))
        saved = SeqStore(store).load()
        assert saved.next_out > 3 and saved.next_in > 2
        async with fix_for(sim, SessionKind.RT, store=SeqStore(store)) as fix2:
            assert fix2.session is not None
            assert fix2.stats["logons"] == 1
            assert fix2.seq.next_out == saved.next_out + 1  # resumed: no 141=Y reset
            cl2 = fix2.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]))
            await fix2.expect(er(lambda r: r.cl_ord_id == cl2))


async def test_listener_and_drop_copy_replay() -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        async with fix_for(sim) as fix, \
                fix_for(sim, credentials=second_key(sim), listener=True) as listener:
            cl = fix.new_order(MARKETS[0], "bid", 2, far_bid(sim, MARKETS[0]))
            got = (await listener.expect(er(lambda r: r.cl_ord_id == cl))).body
            # a listener may not trade: BusinessMessageReject, and the session goes on
            mark = listener.received
            listener.new_order(MARKETS[0], "bid", 1, "1.0000")
            j = (await listener.expect(lambda m: isinstance(m.body, BusinessMessageReject),
                                       since=mark)).body
            assert j.ref_msg_type == "D" and listener.active
            fix.cancel(cl, MARKETS[0], "bid")
            await listener.expect(er(lambda r: r.exec_type == "4"))
        async with fix_for(sim, SessionKind.DC) as dc:
            reports = await dc.replay("0;0")
            assert [r.exec_type for r in reports] == ["0", "4"]
            assert reports[0].exec_id == got.exec_id
            assert await dc.replay("0;0", since_ms=10**13) == []
        async with fix_for(sim, SessionKind.DC, history=2) as small:
            with pytest.raises(ProtocolError, match="replay larger than the history"):
                await small.replay("0;0")  # 2 reports + U2 do not fit: no partial answer
        async with fix_for(sim, SessionKind.DC) as dc:
            assert sim.fix is not None
            sim.fix.replay_allowed = False
            with pytest.raises(FixReplayRejected) as info:
                await dc.replay("0;0")
            assert info.value.reason == 5


async def test_one_connection_per_key_and_reconnect_after_a_drop() -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        assert sim.fix is not None
        async with fix_for(sim) as fix:
            with pytest.raises(ConnectError, match="already exists"):
                async with fix_for(sim, reconnect=False):
                    pass
            sim.fix.disconnect_all()
            await eventually(lambda: fix.stats["logons"] == 2)
            cl = fix.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]))
            await fix.expect(er(lambda r: r.cl_ord_id == cl))
            assert fix.session is not None and fix.session.seq.next_out == 3  # reset on NR


async def test_market_data_books_equal_the_simulator() -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        async with fix_for(sim, SessionKind.MD) as md:
            md.subscribe(MARKETS + ["UNKNOWN"])

            def same() -> bool:
                for t in MARKETS:
                    book = md.books.books.get(t)
                    view = sim.exchange.orderbook(t)
                    if book is None or book.bids() != view.bids or book.asks() != view.asks:
                        return False
                return True

            await eventually(same)
            assert md.books.books["UNKNOWN"].bids() == []
            for _ in range(20):
                sim.step_flow(10)
            await eventually(same)
            assert md.books.trades, "the flow traded: MD reported trades"
            # a dropped link: reconnect (141=Y), resubscribe, fresh snapshots
            assert sim.fix is not None
            sim.fix.disconnect_all()
            await eventually(lambda: md.stats["logons"] == 2)
            sim.step_flow(20)
            await eventually(same)


async def test_garbled_inbound_message_is_rejected_and_the_session_survives() -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        async with fix_for(sim) as fix:
            s = fix.session
            assert s is not None and fix._writer is not None
            seq = s.seq.next_out
            s.seq.next_out += 1
            fix._writer.write(frame("D", [(49, s.config.comp_id), (56, "KalshiNR"),
                                          (34, str(seq)), (52, utc_timestamp(fix._now())),
                                          (11, "x"), (38, "1"), (40, "2")]))
            fix._writer.write(b"8=FIXT.1.1\x019=5\x01garbage")
            await eventually(lambda: bool(fix.rejects))
            rej: FixMessage = fix.rejects[0]
            assert isinstance(rej.body, Reject) and rej.body.ref_seq_num == seq
            assert rej.body.session_reject_reason == 1
            cl = fix.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]))
            await fix.expect(er(lambda r: r.cl_ord_id == cl))
            assert fix.active and fix.connects == 1


async def test_a_stalled_gateway_is_detected_by_heartbeats_and_the_client_reconnects() -> None:
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        assert sim.fix is not None
        async with fix_for(sim, heartbeat_s=1) as fix:
            sim.fix.faults.stall(3.0)
            await eventually(lambda: fix.stats["reconnects"] >= 1, timeout=10)
            await eventually(lambda: fix.stats["logons"] >= 2, timeout=15)
            cl = fix.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]))
            await fix.expect(er(lambda r: r.cl_ord_id == cl))


async def test_unread_messages_stay_bounded_and_an_overrun_reader_is_told() -> None:
    """Nobody iterating ``messages()`` used to grow an unbounded queue (an MD session
    read only through ``books`` kept every update forever)."""
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        async with fix_for(sim, SessionKind.MD, history=8) as md:
            md.subscribe(MARKETS)
            await eventually(lambda: md.received >= len(MARKETS))
            first = md.received
            got = []
            async for msg in md.messages():  # within the window: every one, in order, once
                got.append(msg.seq)
                if len(got) == first:
                    break
            assert got == sorted(got) and len(set(got)) == first

            def overrun() -> bool:  # flow until 20 more updates arrived, none read
                sim.step_flow(5)
                return md.received >= first + 20

            await eventually(overrun, timeout=20)
            assert len(md.recent) == 8  # all that is kept
            with pytest.raises(ProtocolError, match="went past unread"):
                async for _ in md.messages():
                    pass
            later = []
            async for msg in md.messages():  # goes on from the oldest still held
                later.append(msg.seq)
                if len(later) == 8:
                    break
            assert later == sorted(later) and later[0] > got[-1]


async def test_a_gateway_that_stops_reading_is_dropped_and_redialled() -> None:
    """``writer.drain()`` once waited forever on a peer that took no more bytes."""
    from kalshi_margin_stream.core.fix import (
        FixSession,
        LogonReceived,
        NewOrderSingle,
        Role,
        SessionConfig,
    )

    logons = 0
    stop = asyncio.Event()
    handlers: set[asyncio.Task[None]] = set()

    async def gateway(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal logons
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        s = FixSession(SessionConfig(kind=SessionKind.NR, comp_id="KalshiNR"),
                       role=Role.ACCEPTOR)
        now = utc_ms()
        s.connection_made(now)
        try:
            while not s.active:
                data = await reader.read(65536)
                if not data:
                    return
                s.receive_data(data, now)
                for ev in s.events_received():
                    if isinstance(ev, LogonReceived):
                        s.accept_logon(now, ev.message)
                for out in s.data_to_send():
                    writer.write(out)
            logons += 1
            await stop.wait()  # logged on, then never reads again
        finally:
            writer.transport.abort()
            handlers.discard(task)

    server = await asyncio.start_server(gateway, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    creds = Credentials("k", ed25519.Ed25519PrivateKey.generate())
    try:
        async with FixClient(creds, host="127.0.0.1", port=port, tls=False, heartbeat_s=1,
                             backoff=Backoff(0.02, 0.1)) as fix:
            fix.send(NewOrderSingle(  # ~16 MB: more than the socket buffers take
                cl_ord_id="big", order_qty=Decimal(1), price=Decimal(1), side="1",
                symbol="X" * 16_000_000, time_in_force="1"))
            await eventually(lambda: fix.stats["reconnects"] >= 1 and logons >= 2,
                             timeout=30)
    finally:
        stop.set()
        server.close()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


def utc_ms() -> int:
    import time
    return time.time_ns() // 1_000_000


async def test_rt_reports_missed_while_disconnected_are_resent_on_resume(
        tmp_path: Path) -> None:
    """fix.md §5.1: RT messages missed while disconnected can be requested after
    reconnecting. The simulator used to drop them (a fill or cancel never reached FIX)."""
    from kalshi_margin_stream.rest import RestClient

    store = tmp_path / "rt.json"
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        assert sim.credentials is not None
        async with fix_for(sim, SessionKind.RT, store=SeqStore(store)) as fix:
            cl = fix.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]))
            new = (await fix.expect(er(lambda r: r.cl_ord_id == cl))).body
        async with RestClient(sim.credentials, base_url=sim.rest_url) as rest:
            await rest.cancel_order(new.order_id)  # while the RT identity is away
        async with fix_for(sim, SessionKind.RT, store=SeqStore(store)) as fix2:
            gone = await fix2.expect(er(lambda r: r.order_id == new.order_id
                                        and r.exec_type == "4"))
            assert gone.header.poss_dup is True  # a resend, not a new message
            cl2 = fix2.new_order(MARKETS[0], "bid", 1, far_bid(sim, MARKETS[0]))
            await fix2.expect(er(lambda r: r.cl_ord_id == cl2))
            cancels = [m for m in fix2.recent if isinstance(m.body, ExecutionReport)
                       and m.body.order_id == new.order_id]
            assert len(cancels) == 1  # once


class CountingStore(SeqStore):
    """A SeqStore that counts its file writes."""

    writes = 0

    def save(self, seq: Any, *, next_out: int | None = None) -> None:
        before = self._saved
        super().save(seq, next_out=next_out)
        if self._saved != before:
            CountingStore.writes += 1


async def test_rt_store_reserves_numbers_instead_of_an_fsync_per_message(
        tmp_path: Path) -> None:
    """Every RT send used to fsync the store on the event loop (~5 ms each here)."""
    from kalshi_margin_stream.fix.store import SEQ_RESERVE

    store = tmp_path / "rt.json"
    CountingStore.writes = 0
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        async with fix_for(sim, SessionKind.RT, store=CountingStore(store)) as fix:
            price = far_bid(sim, MARKETS[0])
            cls = [fix.new_order(MARKETS[0], "bid", 1, price) for _ in range(200)]
            await fix.expect(er(lambda r: r.cl_ord_id == cls[-1]), timeout=30)
            sent = fix.seq.next_out
            on_disk = SeqStore(store).load()  # what a crash right now would leave
            assert on_disk.next_out >= sent  # ahead of every number that left
            assert on_disk.next_out <= sent + SEQ_RESERVE
            assert CountingStore.writes <= 10  # not one per message (200 sends)
            crashed = SeqState(next_out=on_disk.next_out, next_in=on_disk.next_in)
        assert SeqStore(store).load().next_out == fix.seq.next_out  # a clean close: exact
        SeqStore(store).save(crashed)  # as if the process had died before closing
        async with fix_for(sim, SessionKind.RT, store=SeqStore(store)) as again:
            cl = again.new_order(MARKETS[0], "bid", 1, price)  # the gap was gap-filled
            await again.expect(er(lambda r: r.cl_ord_id == cl and r.exec_type == "0"))


async def test_a_link_that_drops_after_our_logout_is_not_logged_as_a_loss(
        caplog: pytest.LogCaptureFixture) -> None:
    """A close once we have logged out is the normal end: it logged "FIX connection lost"
    at WARNING (a drop while the session is active still does)."""
    async with running_simulator(markets=MARKETS, rate=0, fix=True, fix_tls=False) as sim:
        assert sim.fix is not None
        caplog.set_level(logging.DEBUG, logger="kalshi_margin_stream.fix")
        async with fix_for(sim, reconnect=False) as fix:
            sim.fix.faults.stall(30)  # the gateway does not answer our Logout...
            assert fix.session is not None
            fix.session.logout(utc_ms(), None)
            fix._flush()
            sim.fix.disconnect_all()  # ...and resets the link
            await eventually(lambda: fix._fatal is not None)
            sim.fix.faults.stall_until = 0.0
        lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
        assert lost == [] and any("closed after logout" in r.getMessage()
                                  for r in caplog.records), caplog.text
