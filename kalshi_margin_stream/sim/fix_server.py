"""The simulator's FIX acceptor: KalshiNR/RT/DC/MD over the same engine as REST and WS.

One listening port serves all four sessions; the Logon's TargetCompID (56) picks the
session type (Kalshi uses one port per type: 8228/8229/8230/8233). TLS on loopback
with a self-signed certificate made at start (``tls=True``), or plain TCP.

Each connection runs a :class:`~kalshi_margin_stream.core.fix.FixSession` acceptor.
The Logon is checked like Kalshi documents it (fix.md §3): known key, signature over
the pre-hash, SendingTime within 30 s, 141=Y on NR/DC/MD, listener needs 21011=Y,
one connection per key. KalshiRT keeps its sequence numbers and sent messages per key
across connections, so a client can resume and ask for a resend.

Order entry calls the engine, publishes its events through
:meth:`~.state.SimState.apply` (so WS and REST see the same thing), and every
event batch comes back here to become ExecutionReports (:mod:`.fix_reports`).
Trading sessions get the reports of the orders they placed; listener sessions get
every report of their account (fix.md §9; UNCONFIRMED whether Kalshi includes REST
orders: we do).

Fault knobs (:class:`FixFaults`): drop the next N outbound application messages
(still stored, so RT can resend them), garble the next N (CheckSum broken), stall
all connections for a while, disconnect everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..core.fix import (
    ApplicationMessage,
    BusinessMessageReject,
    Disconnect,
    EventResendComplete,
    EventResendReject,
    EventResendRequest,
    ExecutionReport,
    FixBody,
    FixGarbled,
    FixMessage,
    FixSession,
    FrameReader,
    Logon,
    LogonReceived,
    MarketDataIncrementalRefresh,
    MarketDataRequest,
    MarketDataRequestReject,
    MarketDataSnapshotFullRefresh,
    NewOrderSingle,
    OrderCancelReject,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    OrderGroupRequest,
    OrderGroupResponse,
    OrderMassCancelReport,
    OrderMassCancelRequest,
    Role,
    SeqState,
    SessionConfig,
    SessionKind,
    decode_fields,
    parse_utc_timestamp,
    split_fields,
    utc_timestamp,
    verify_logon,
)
from ..core.fix.errors import FixError
from .engine.errors import Rejection
from .engine.events import Event
from .engine.views import TimeInForce
from .fix_reports import MdBook, ReportBook, exec_id_key
from .state import SimState

__all__ = ["SENDING_TIME_WINDOW_MS", "FixAcceptor", "FixFaults", "self_signed_context"]

log = logging.getLogger("kalshi_margin_stream.sim.fix")

SENDING_TIME_WINDOW_MS = 30_000
"""Logon SendingTime tolerance (fix.md §3.2 step 5)."""
_TICK_S = 0.2
_TIF = {"1": "good_till_canceled", "3": "immediate_or_cancel", "4": "fill_or_kill"}
_REJ = {  # engine code -> (OrdRejReason 103, Text 58), fix.md §7.4 table
    "not_found": (1, "MARKET_NOT_FOUND"),
    "trading_is_paused": (2, "EXCHANGE_PAUSED"),
    "market_not_active": (2, "MARKET_INACTIVE"),
    "order_already_exists": (6, "ORDER_ALREADY_EXISTS"),
    "NOTIONAL_RISK_LIMIT_EXCEEDED": (3, "INSUFFICIENT_BALANCE"),
    "order_group_triggered": (3, "EXCEEDED_ORDER_GROUP_RISK_LIMIT"),
    "invalid_order": (11, "INVALID_ORDER"),
    "invalid_price": (11, "INVALID_ORDER"),
}


def self_signed_context(host: str = "127.0.0.1") -> tuple[ssl.SSLContext, bytes]:
    """A server TLS context with a fresh self-signed certificate; returns (ctx, cert PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory() as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        ctx.load_cert_chain(cert_path, key_path)
    return ctx, cert_pem


@dataclass
class FixFaults:
    """Fault knobs; each applies to the next outbound application messages of any session."""

    drop_next: int = 0
    garble_next: int = 0
    stall_until: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: {"dropped": 0, "garbled": 0,
                                                            "stalls": 0, "disconnects": 0})

    def stall(self, seconds: float) -> None:
        self.stall_until = time.monotonic() + seconds
        self.counts["stalls"] += 1


class _Conn:
    """One accepted connection."""

    def __init__(self, acceptor: FixAcceptor, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.acceptor = acceptor
        self.reader = reader
        self.writer = writer
        self.session: FixSession | None = None
        self.key_id = ""
        self.user_id = ""
        self.listener = False
        self.kind = SessionKind.NR
        self.symbols: set[str] = set()

    def now(self) -> int:
        return self.acceptor.state.wall_ms()

    def flush(self) -> None:
        s = self.session
        if s is None or self.writer.is_closing():
            return
        faults = self.acceptor.faults
        for data in s.data_to_send():
            if faults.garble_next > 0 and b"\x0135=8\x01" in data:
                faults.garble_next -= 1
                faults.counts["garbled"] += 1
                data = data[:-4] + (b"000\x01" if not data.endswith(b"000\x01") else b"001\x01")
            self.writer.write(data)

    def send(self, body: FixBody) -> None:
        s = self.session
        if s is None or not s.active:
            return
        faults = self.acceptor.faults
        if faults.drop_next > 0 and not body.ADMIN:
            faults.drop_next -= 1
            faults.counts["dropped"] += 1
            s.drop_next_outbound += 1
        s.send(body, self.now())
        self.flush()

    async def run(self) -> None:
        acc = self.acceptor
        frames = FrameReader()
        first: list[bytes] = []
        data: bytes | None
        try:
            # peek the Logon to learn the session type, then replay its bytes into the session
            while self.session is None:
                data = await asyncio.wait_for(self.reader.read(65536), timeout=10)
                if not data:
                    return
                first.append(data)
                frames.feed(data)
                try:
                    got = frames.next_frame()
                except FixGarbled:
                    return
                if got is None:
                    continue
                try:
                    msg = decode_fields(split_fields(got[1]))
                except FixError:
                    return
                self._start_session(msg)
            assert self.session is not None
            self.session.receive_data(b"".join(first), self.now())
            self._handle_events()
            while not self._closed():
                if time.monotonic() < acc.faults.stall_until:
                    await asyncio.sleep(min(_TICK_S, acc.faults.stall_until - time.monotonic()))
                    continue
                try:
                    data = await asyncio.wait_for(self.reader.read(65536), timeout=_TICK_S)
                except TimeoutError:
                    data = None
                if data == b"":
                    break
                if data:
                    self.session.receive_data(data, self.now())
                self.session.tick(self.now())
                self._handle_events()
                await self.writer.drain()
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError):
            pass
        finally:
            acc.conns.discard(self)
            if self.session is not None and self.session.config.cancel_on_disconnect:
                with contextlib.suppress(Rejection):
                    acc.state.apply(acc.state.exchange.cancel_all_orders(
                        self.user_id, now_ms=acc.state.now_ms()))
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()

    def _closed(self) -> bool:
        return self.session is None or self.session.state.value == "closed"

    def _start_session(self, msg: FixMessage) -> None:
        acc = self.acceptor
        target = msg.header.target_comp_id
        try:
            self.kind = SessionKind(target)
        except ValueError:
            self.kind = SessionKind.NR  # refused below with a CompID problem
        seq = None
        if self.kind is SessionKind.RT:
            seq = acc.rt_seq.setdefault(msg.header.sender_comp_id, SeqState())
        logon = msg.body
        cod = isinstance(logon, Logon) and bool(logon.cancel_orders_on_disconnect)
        self.session = FixSession(SessionConfig(kind=self.kind, comp_id=self.kind.value,
                                                cancel_on_disconnect=cod),
                                  role=Role.ACCEPTOR, seq=seq)
        self.session.connection_made(self.now())

    def _handle_events(self) -> None:
        s = self.session
        assert s is not None
        for ev in s.events_received():
            if isinstance(ev, LogonReceived):
                self._logon(ev.message)
            elif isinstance(ev, ApplicationMessage):
                try:
                    self._application(ev.message)
                except Exception:  # an engine bug must not kill the connection
                    log.exception("FIX request failed")
                    self._business_reject(ev.message, 0, "INTERNAL_ERROR")
            elif isinstance(ev, Disconnect):
                self.flush()
                return
        self.flush()

    # --- logon --------------------------------------------------------------------------

    def _logon(self, msg: FixMessage) -> None:
        acc = self.acceptor
        s = self.session
        assert s is not None
        logon = msg.body
        assert isinstance(logon, Logon)
        now = self.now()
        key = acc.state.keys.get(msg.header.sender_comp_id)
        problem = None
        if msg.header.target_comp_id != self.kind.value:
            problem = f"unknown TargetCompID {msg.header.target_comp_id}"
        elif msg.header.sender_sub_id is not None:
            problem = "SenderSubID not allowed on Logon"
        elif key is None:
            problem = "authentication failed: unknown API key"
        elif not verify_logon(key.public_key, msg.header, logon.raw_data):
            problem = "authentication failed: invalid signature"
        elif not self._fresh(msg.header.sending_time, now):
            problem = "SendingTime accuracy problem"
        elif not logon.reset_seq_num and not self.kind.retransmits:
            problem = f"ResetSeqNumFlag (141=Y) is required on {self.kind.value}"
        elif logon.listener_session and not logon.skip_pending_exec_reports:
            problem = "listener session requires SkipPendingExecReports (21011=Y)"
        elif logon.listener_session and self.kind not in (SessionKind.NR, SessionKind.RT):
            problem = "listener session only on KalshiNR/KalshiRT"
        elif any(c.key_id == key.key_id and c is not self and not c._closed()
                 for c in acc.conns):
            problem = "already exists"
        if problem is not None:
            acc.logon_refusals += 1
            s.refuse_logon(now, problem)
            return
        assert key is not None
        self.key_id, self.user_id = key.key_id, key.user_id
        self.listener = bool(logon.listener_session)
        acc.logons += 1
        s.accept_logon(now, msg)

    @staticmethod
    def _fresh(sending_time: str, now: int) -> bool:
        try:
            return abs(parse_utc_timestamp(sending_time) - now) <= SENDING_TIME_WINDOW_MS
        except ValueError:
            return False

    # --- application messages ----------------------------------------------------------------

    def _business_reject(self, msg: FixMessage, reason: int, text: str,
                         ref_id: str | None = None) -> None:
        self.send(BusinessMessageReject(ref_seq_num=msg.seq, text=text,
                                        ref_msg_type=msg.body.MSG_TYPE, ref_id=ref_id,
                                        reason=reason))

    def _application(self, msg: FixMessage) -> None:
        body = msg.body
        trading = (NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest,
                   OrderMassCancelRequest, OrderGroupRequest)
        if isinstance(body, trading):
            if self.kind not in (SessionKind.NR, SessionKind.RT):
                self._business_reject(msg, 3, "unsupported message type on this session")
            elif self.listener:
                self._business_reject(msg, 6, "listener session cannot trade")
            elif isinstance(body, OrderMassCancelRequest) and self.kind is not SessionKind.NR:
                self._business_reject(msg, 3, "mass cancel is KalshiNR only")
            else:
                self._trade(msg, body)
        elif isinstance(body, EventResendRequest) and self.kind in (SessionKind.DC,
                                                                    SessionKind.NR):
            self._replay(msg, body)
        elif isinstance(body, MarketDataRequest) and self.kind is SessionKind.MD:
            self._market_data(body)
        else:
            self._business_reject(msg, 3, "unsupported message type on this session")

    def _trade(self, msg: FixMessage, body: FixBody) -> None:
        acc = self.acceptor
        state = acc.state
        ex = state.exchange
        now = state.now_ms()
        reports = acc.reports
        if isinstance(body, NewOrderSingle):
            tif = _TIF.get(body.time_in_force or "1")
            expiry: int | None = None
            try:
                if body.time_in_force == "6":  # GTD: a resting order with an expiry (126)
                    tif = "good_till_canceled"
                    try:
                        expiry = parse_utc_timestamp(body.expire_time or "")
                    except ValueError:
                        raise Rejection(400, "invalid_order", "GTD needs ExpireTime (126)") \
                            from None
                if tif is None:  # Day (59=0) is not simulated (UNCONFIRMED end-of-day rule)
                    raise Rejection(400, "invalid_order", "unsupported TimeInForce")
                if body.order_qty != body.order_qty.to_integral_value():
                    raise Rejection(400, "invalid_order", "whole contracts only")
                inst = (body.exec_inst or "").split()
                res = ex.create_order(
                    self.user_id, ticker=body.symbol, client_order_id=body.cl_ord_id,
                    side="bid" if body.side == "1" else "ask",
                    count=body.order_qty, price=body.price,
                    time_in_force=cast(TimeInForce, tif),
                    self_trade_prevention_type=(
                        "maker" if body.self_trade_prevention == "2" else "taker_at_cross"),
                    post_only="6" in inst, reduce_only="E" in inst,
                    subaccount=body.alloc_account or 0, order_group_id=body.order_group_id,
                    expiration_ts_ms=expiry,
                    cancel_order_on_pause=bool(body.cancel_order_on_pause), now_ms=now)
            except Rejection as exc:
                code, text = _REJ.get(exc.code, (99, "INTERNAL_ERROR"))
                self.send(ExecutionReport(
                    avg_px=Decimal("0.0000"), cl_ord_id=body.cl_ord_id, cum_qty=Decimal("0.00"),
                    exec_id="-1;-1", order_id="NONE", order_qty=body.order_qty,
                    ord_status="8", price=body.price, side=body.side, symbol=body.symbol,
                    text=text, transact_time=utc_timestamp(now), ord_rej_reason=code,
                    exec_type="8", leaves_qty=Decimal("0.00")))
                return
            reports.prime(res.order, self.key_id)
            state.apply(res.events)
        elif isinstance(body, OrderCancelRequest | OrderCancelReplaceRequest):
            order_id = body.order_id or reports.order_for(self.user_id, body.orig_cl_ord_id)
            response_to = "1" if isinstance(body, OrderCancelRequest) else "2"
            try:
                if order_id is None:
                    raise Rejection(404, "not_found", "unknown order")
                view = ex.get_order(self.user_id, order_id)
                reports.pending[order_id] = (body.cl_ord_id, body.orig_cl_ord_id)
                if isinstance(body, OrderCancelRequest):
                    events = ex.cancel_order(self.user_id, order_id, subaccount=view.subaccount,
                                             now_ms=now).events
                else:
                    events = ex.amend_order(
                        self.user_id, order_id, ticker=body.symbol,
                        side="bid" if body.side == "1" else "ask",
                        price=body.price if body.price is not None else view.price,
                        count=body.order_qty, subaccount=view.subaccount,
                        updated_client_order_id=body.cl_ord_id, now_ms=now).events
            except Rejection as exc:
                if order_id is not None:
                    reports.pending.pop(order_id, None)
                self.send(OrderCancelReject(
                    cl_ord_id=body.cl_ord_id, order_id=order_id or "NONE", ord_status="8"
                    if order_id is None else None, orig_cl_ord_id=body.orig_cl_ord_id,
                    text=exc.code.upper(), cxl_rej_reason=1 if exc.code == "not_found" else 99,
                    cxl_rej_response_to=response_to))  # type: ignore[arg-type]
                return
            state.apply(events)
        elif isinstance(body, OrderMassCancelRequest):
            events = ex.cancel_all_orders(self.user_id, now_ms=now)
            for ev in events:
                order = getattr(ev, "order", None)
                if order is not None:
                    reports.pending[order.order_id] = (body.cl_ord_id, order.client_order_id)
            self.send(OrderMassCancelReport(cl_ord_id=body.cl_ord_id,
                                            order_id=f"mc-{msg.seq}", mass_cancel_response="6"))
            state.apply(events)
        elif isinstance(body, OrderGroupRequest):
            self._order_group(msg, body, now)

    def _order_group(self, msg: FixMessage, body: OrderGroupRequest, now: int) -> None:
        ex = self.acceptor.state.exchange
        events: list[Event] = []
        try:
            if body.action == "1":
                if body.contracts_limit is None:
                    self._business_reject(msg, 5, "OrderGroupContractsLimit (20132) required")
                    return
                res = ex.create_order_group(self.user_id, contracts_limit=body.contracts_limit,
                                            now_ms=now)
                gid = res.group.order_group_id
                events = res.events
            else:
                gid = body.order_group_id or ""
                if body.action == "2":
                    events = ex.reset_order_group(self.user_id, gid, now_ms=now)
                elif body.action == "3":
                    events = ex.delete_order_group(self.user_id, gid, now_ms=now)
                elif body.action == "4":
                    events = ex.trigger_order_group(self.user_id, gid, now_ms=now)
                else:
                    if body.contracts_limit is None:
                        self._business_reject(msg, 5, "OrderGroupContractsLimit (20132) required")
                        return
                    events = ex.update_order_group_limit(
                        self.user_id, gid, contracts_limit=body.contracts_limit, now_ms=now)
        except Rejection as exc:
            text = "ORDER_GROUP_NOT_FOUND" if exc.code == "not_found" else exc.code.upper()
            self._business_reject(msg, 0, text)
            return
        self.send(OrderGroupResponse(order_group_id=gid, contracts_limit=body.contracts_limit))
        self.acceptor.state.apply(events)

    def _replay(self, msg: FixMessage, body: EventResendRequest) -> None:
        acc = self.acceptor
        if not acc.replay_allowed:
            self.send(EventResendReject(ref_seq_num=msg.seq, reason=5, text="NOT_ENABLED"))
            return
        try:
            begin = exec_id_key(body.begin_exec_id)
            end = exec_id_key(body.end_exec_id) if body.end_exec_id else None
        except ValueError:
            self.send(EventResendReject(ref_seq_num=msg.seq, reason=3, text="bad ExecID"))
            return
        found = acc.reports.replay(self.user_id, begin, end)
        for rep in found:
            self.send(rep)
        self.send(EventResendComplete(ref_seq_num=msg.seq, count=len(found)))

    def _market_data(self, body: MarketDataRequest) -> None:
        acc = self.acceptor
        symbols = [s.symbol for s in body.symbols]
        if body.subscription == "2":
            if symbols:
                self.symbols.difference_update(symbols)
            else:
                self.symbols.clear()
            return
        if not symbols:
            self.send(MarketDataRequestReject(reason=4, text="NoRelatedSym (146) required"))
            return
        if len(set(symbols)) > 1000:
            self.send(MarketDataRequestReject(reason=2, text="too many symbols"))
            return
        now = acc.state.now_ms()
        for sym in dict.fromkeys(symbols):
            self.send(MarketDataSnapshotFullRefresh(symbol=sym,
                                                    entries=acc.md.snapshot(sym, now)))
            if body.subscription == "1":
                self.symbols.add(sym)


class FixAcceptor:
    """The FIX side of a running :class:`~.server.Simulator` (see module doc).

    Args:
        state: the simulator's shared state (engine, keys, event fan-out).
        host, port: where to listen (port 0 = a free port).
        tls: serve TLS 1.2+ with a generated self-signed certificate (``cert_pem``).
    """

    def __init__(self, state: SimState, *, host: str = "127.0.0.1", port: int = 0,
                 tls: bool = True) -> None:
        self.state = state
        self.host = host
        self._port = port
        self.tls = tls
        self.cert_pem: bytes | None = None
        self.faults = FixFaults()
        self.conns: set[_Conn] = set()
        self.rt_seq: dict[str, SeqState] = {}
        self.reports = ReportBook(clock=int(time.time()))
        self.md = MdBook()
        self.replay_allowed = True
        self.logons = 0
        self.logon_refusals = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._users: set[str] = set()
        self._keys_seen = -1

    @property
    def port(self) -> int:
        return self._port

    async def start(self) -> None:
        for ticker in self.state.market_tickers():
            self.md.seed(self.state.exchange.orderbook(ticker))
        self.state.listeners.append(self._on_events)
        ctx = None
        if self.tls:
            ctx, self.cert_pem = self_signed_context(self.host)
        self._server = await asyncio.start_server(self._accept, self.host, self._port, ssl=ctx)
        self._port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        """Stop listening, drop every connection, await their tasks."""
        if self._on_events in self.state.listeners:
            self.state.listeners.remove(self._on_events)
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if server is not None:
            await server.wait_closed()

    def disconnect_all(self) -> None:
        """Fault: abort every connection (clients see a dropped link)."""
        self.faults.counts["disconnects"] += 1
        for c in list(self.conns):
            transport = c.writer.transport
            transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(self, reader, writer)
        self.conns.add(conn)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await conn.run()
        finally:
            self._tasks.discard(task)

    def _fix_users(self) -> set[str]:
        n = len(self.state.keys)
        if n != self._keys_seen:
            self._users = self.state.keys.user_ids()
            self._keys_seen = n
        return self._users

    def _on_events(self, events: list[Event]) -> None:
        reports = self.reports.translate(events, self._fix_users())
        md = self.md.apply(events)
        served: set[str] = set()  # origin keys with a live order-entry session
        for conn in list(self.conns):
            s = conn.session
            if s is None or not s.active:
                continue
            if conn.kind is SessionKind.MD:
                if conn.symbols and md:
                    mine = [e for e in md if e.symbol in conn.symbols]
                    if mine:
                        conn.send(MarketDataIncrementalRefresh(entries=mine))
                continue
            if conn.kind is SessionKind.DC:
                continue
            if not conn.listener:
                served.add(conn.key_id)
            for rep in reports:
                if rep.user_id != conn.user_id:
                    continue
                if conn.listener or self.reports.origin.get(rep.order_id) == conn.key_id:
                    conn.send(rep.report)
        for rep in reports:
            key = self.reports.origin.get(rep.order_id)
            if key is not None and key not in served and key in self.rt_seq:
                self._park(self.rt_seq[key], rep.report)

    def _park(self, seq: SeqState, body: FixBody) -> None:
        """KalshiRT keeps what a disconnected identity missed, for its ResendRequest after
        it resumes (fix.md §5.1): numbered and stored as if sent."""
        seq.sent[seq.next_out] = (body, utc_timestamp(self.state.wall_ms()))
        seq.next_out += 1
