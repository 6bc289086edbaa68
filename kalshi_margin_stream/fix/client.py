"""The asyncio shell around the Sans-I/O FIX session: TLS, reconnect, timers, shutdown.

``async with FixClient(creds, kind=SessionKind.NR, host=..., port=...) as fix:`` opens
the connection, logs on (signed, fix.md §3.2) and returns once the session is active.
One task (the runner) owns the socket: it feeds received bytes to the
:class:`~..core.fix.FixSession`, writes what it produces, runs the heartbeat timers
and reconnects with :class:`~..core.backoff.Backoff` when the link drops (a refused
Logon for a fatal reason, e.g. a bad signature, is raised instead of retried).
KalshiRT sessions can keep their sequence numbers in a :class:`~.store.SeqStore`.
Leaving the block sends Logout, waits (bounded) for the answer and closes the socket.

Order entry (:meth:`new_order`, :meth:`amend`, :meth:`cancel`, :meth:`mass_cancel`,
:meth:`order_group`), listener mode (``listener=True``), drop-copy replay
(:meth:`replay`) and market data (:meth:`subscribe`, :attr:`books`) are thin methods
over :meth:`send`. Every ExecutionReport also feeds ``margin`` (a
:class:`~..core.margin.MarginState`, possibly shared with a WebSocket client).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from types import TracebackType
from typing import Literal

from ..core.auth import Credentials
from ..core.backoff import Backoff
from ..core.fix import (
    ApplicationMessage,
    Disconnect,
    EventResendComplete,
    EventResendReject,
    EventResendRequest,
    ExecutionReport,
    FixBody,
    FixMessage,
    FixSession,
    LoggedOn,
    LoggedOut,
    MarketDataIncrementalRefresh,
    MarketDataRequest,
    MarketDataSnapshotFullRefresh,
    NewOrderSingle,
    OrderCancelReplaceRequest,
    OrderCancelRequest,
    OrderGroupRequest,
    OrderMassCancelRequest,
    PeerReject,
    RelatedSym,
    SeqState,
    SessionConfig,
    SessionKind,
    SessionState,
    parse_utc_timestamp,
    sign_logon,
)
from ..core.fix.feeds import BookFeed, apply_report
from ..core.fix.messages import SideCode
from ..core.margin import MarginState
from ..exceptions import (
    AuthError,
    ClientClosed,
    ConnectError,
    InvalidRequest,
    KalshiError,
    ProtocolError,
)
from .store import SEQ_RESERVE, SeqStore

__all__ = ["FixClient", "FixReplayRejected", "check_price", "check_count"]

log = logging.getLogger("kalshi_margin_stream.fix")

_TICK_S = 0.25
_LOGOUT_WAIT_S = 2.0
_SAVE_EVERY_S = 1.0
_SIDES = {"bid": "1", "buy": "1", "ask": "2", "sell": "2"}
_TIFS = {"day": "0", "gtc": "1", "ioc": "3", "fok": "4", "gtd": "6"}
_Q4 = Decimal("0.0001")


class FixReplayRejected(ProtocolError):
    """A drop-copy EventResendRequest was refused (35=U3, ``reason`` = 21004)."""

    def __init__(self, reason: int, text: str | None) -> None:
        self.reason = reason
        super().__init__(f"replay rejected: 21004={reason} {text or ''}".rstrip())


def check_price(price: Decimal | str) -> Decimal:
    """A positive dollar price with at most 4 places, written with 4 (``11.2345``)."""
    try:
        p = Decimal(str(price))
    except ArithmeticError:
        raise InvalidRequest(f"price {price!r} is not a decimal") from None
    try:
        on_grid = p.is_finite() and p > 0 and p == p.quantize(_Q4)
    except ArithmeticError:  # too many digits for the quantize (``1e400``)
        on_grid = False
    if not on_grid:
        raise InvalidRequest(f"price {price!r}: need a positive dollar price with <= 4 places")
    return p.quantize(_Q4)


def _side(side: str) -> SideCode:
    """FIX Side (54) of ``bid``/``buy`` or ``ask``/``sell``."""
    if side not in _SIDES:
        raise InvalidRequest(f"side must be bid, ask, buy or sell, not {side!r}")
    return "1" if _SIDES[side] == "1" else "2"


def check_count(count: int | Decimal | str) -> Decimal:
    """Whole contracts only on margin (fix.md §11)."""
    try:
        c = Decimal(str(count))
    except ArithmeticError:
        raise InvalidRequest(f"count {count!r} is not a number") from None
    if not c.is_finite() or c <= 0 or c != c.to_integral_value():
        raise InvalidRequest(f"count {count!r}: need a positive whole number of contracts")
    return Decimal(int(c))


class FixClient:
    """One Kalshi margin FIX session with reconnects (see the module docstring).

    Args:
        credentials: API key id (SenderCompID) and private key (Logon signature).
        kind: KalshiNR, KalshiRT, KalshiDC or KalshiMD.
        host, port: the gateway (or the simulator: ``sim.fix_port``).
        tls: True (verify with the system CAs), an ``ssl.SSLContext``, or False (plain
            TCP, simulator only).
        listener: read-only listener mode (NR/RT, fix.md §9).
        store: RT only: where to keep sequence numbers across restarts; with it the
            Logon resumes (no 141) unless ``reset_on_logon=True``.
        margin: state fed by every ExecutionReport.
        heartbeat_s, cancel_on_disconnect, retention_hours: Logon fields 108/8013/20200.
        backoff: reconnect schedule (default 0.5 s doubling to 30 s, jittered).
        reconnect: reconnect after a dropped link (False: the first drop ends the client).
    """

    def __init__(self, credentials: Credentials, *, kind: SessionKind = SessionKind.NR,
                 host: str, port: int, tls: bool | ssl.SSLContext = True,
                 server_hostname: str | None = None, listener: bool = False,
                 store: SeqStore | str | None = None, reset_on_logon: bool | None = None,
                 margin: MarginState | None = None, heartbeat_s: int = 30,
                 cancel_on_disconnect: bool = False, retention_hours: int | None = None,
                 backoff: Backoff | None = None, reconnect: bool = True,
                 connect_timeout: float = 10.0, history: int = 10_000) -> None:
        self.credentials = credentials
        self.kind = kind
        self.host = host
        self.port = port
        self._ssl: ssl.SSLContext | None
        if tls is True:
            self._ssl = ssl.create_default_context()
            self._ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        elif tls is False:
            self._ssl = None
        else:
            self._ssl = tls
        self._server_hostname = server_hostname
        self._store = SeqStore(store) if isinstance(store, str) else store
        if self._store is not None and kind is not SessionKind.RT:
            raise ValueError("a sequence store only makes sense on KalshiRT")
        resets = reset_on_logon if reset_on_logon is not None else self._store is None
        self.config = SessionConfig(
            kind=kind, comp_id=credentials.key_id, heartbeat_s=heartbeat_s,
            reset_on_logon=resets, listener=listener,
            cancel_on_disconnect=cancel_on_disconnect, retention_hours=retention_hours)
        self.seq = self._store.load() if self._store is not None else SeqState()
        self._reserved = self.seq.next_out  # numbers below this are covered by the store
        self._saved_at = 0.0
        self.margin = margin
        self.books = BookFeed()
        self.session: FixSession | None = None
        self._backoff = backoff or Backoff()
        self._reconnect = reconnect
        self._connect_timeout = connect_timeout
        self._writer: asyncio.StreamWriter | None = None
        self._runner: asyncio.Task[None] | None = None
        self._logged_on = asyncio.Event()
        self._changed = asyncio.Event()
        self._fatal: BaseException | None = None
        self._last_reason = ""
        self._connect_error: str | None = None  # why the last connect failed, if it did
        self._comp_warned = False
        self._closing = False
        self.recent: deque[FixMessage] = deque(maxlen=history)
        """The latest application messages (what :meth:`expect` and :meth:`messages` read)."""
        self._received = 0
        self._next_unread = 0  # number of the next message :meth:`messages` yields
        self.connects = 0
        self.stats = {"reports": 0, "fills_new": 0, "md": 0, "reconnects": 0, "logons": 0}
        self._md_symbols: dict[str, None] = {}
        self.rejects: deque[FixMessage] = deque(maxlen=1000)
        """Session Rejects (35=3) the gateway sent us: bugs on our side, to be logged."""

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FixClient:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def start(self, timeout: float = 30.0) -> None:
        """Connect and log on; returns once the session is active.

        Raises:
            AuthError: the Logon was refused for a reason a retry cannot fix.
            ConnectError: no session within ``timeout``.
        """
        if self._runner is not None:
            raise RuntimeError("already started")
        self._runner = asyncio.create_task(self._run(), name=f"fix-{self.kind.value}")
        try:
            await asyncio.wait_for(self._wait_logged_on(), timeout)
        except TimeoutError:
            await self.aclose()
            raise ConnectError(f"no FIX session with {self.host}:{self.port} "
                               f"within {timeout:g} s") from None
        except BaseException:
            await self.aclose()
            raise

    async def _wait_logged_on(self) -> None:
        while not self._logged_on.is_set():
            if self._fatal is not None:
                raise self._fatal
            self._changed.clear()
            await self._changed.wait()
        if self._fatal is not None:
            raise self._fatal

    @property
    def active(self) -> bool:
        return self.session is not None and self.session.active

    async def aclose(self) -> None:
        """Logout (bounded wait for the answer), close the socket, stop the runner."""
        if self._closing and self._runner is None:
            return
        self._closing = True
        s, w = self.session, self._writer
        if s is not None and w is not None and s.active:
            s.logout(self._now(), None)
            self._flush()
            deadline = time.monotonic() + _LOGOUT_WAIT_S
            while s.state.value != "closed" and time.monotonic() < deadline:
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._save(exact=True)

    # --- sending ---------------------------------------------------------------------------

    def _now(self) -> int:
        return time.time_ns() // 1_000_000

    def send(self, body: FixBody) -> int:
        """Send an application message now; returns its MsgSeqNum.

        Raises:
            ClientClosed: closed. ConnectError: not logged on right now (reconnecting).
        """
        if self._closing:
            raise ClientClosed("FIX client is closed")
        s = self.session
        if s is None or not s.active:
            raise ConnectError("FIX session is not active (reconnecting)")
        seq = s.send(body, self._now())
        self._save()  # the store moves before the bytes leave: a crash never reuses a seq
        self._flush()
        return seq

    def _flush(self) -> None:
        s, w = self.session, self._writer
        if s is None or w is None or w.is_closing():
            return
        for data in s.data_to_send():
            w.write(data)

    def _save(self, *, exact: bool = False) -> None:
        """Keep the store ahead of every number that may leave (see :mod:`.store`).

        Outbound numbers are reserved :data:`SEQ_RESERVE` at a time, so a save (an
        fsync, milliseconds on the loop) happens once per reservation, or once a
        second for inbound progress; ``exact`` (a closed connection) writes the true
        numbers, so a clean restart resumes without a gap.
        """
        store = self._store
        if store is None:
            return
        now = time.monotonic()
        if exact:
            store.save(self.seq)
            self._reserved = self.seq.next_out
        elif self.seq.next_out >= self._reserved or now - self._saved_at >= _SAVE_EVERY_S:
            self._reserved = max(self._reserved, self.seq.next_out + SEQ_RESERVE)
            store.save(self.seq, next_out=self._reserved)
        else:
            return
        self._saved_at = now

    # --- receiving -------------------------------------------------------------------------

    async def messages(self) -> AsyncIterator[FixMessage]:
        """Every application message, in order and once (across iterators), until close.

        Read from :attr:`recent`, so memory stays bounded when nobody iterates.

        Raises:
            ProtocolError: more than ``history`` messages went past unread (never a
                silent gap); iterating again goes on from the oldest still held.
        """
        while True:
            first = self._received - len(self.recent)
            if self._next_unread < first:
                lost, self._next_unread = first - self._next_unread, first
                raise ProtocolError(f"{lost} FIX messages went past unread (history "
                                    f"{self.recent.maxlen}): read sooner or keep more")
            if self._next_unread < self._received:
                msg = self.recent[self._next_unread - first]
                self._next_unread += 1
                yield msg
                continue
            if self._closing:
                return
            if self._fatal is not None:
                raise self._fatal
            self._changed.clear()
            await self._changed.wait()

    async def expect(self, predicate: Callable[[FixMessage], bool], *,
                     timeout: float = 10.0, since: int = 0) -> FixMessage:
        """The first message (number ``since`` or later) for which ``predicate`` holds.

        Raises:
            TimeoutError: none within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            first = self._received - len(self.recent)
            for i, msg in enumerate(self.recent):
                if first + i >= since and predicate(msg):
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching FIX message")
            if self._fatal is not None:
                raise self._fatal
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    @property
    def received(self) -> int:
        """How many application messages arrived so far (a mark for ``expect(since=)``)."""
        return self._received

    def _deliver(self, message: FixMessage) -> None:
        body = message.body
        if message.header.target_comp_id != self.credentials.key_id and not self._comp_warned:
            # fix.md §1.2: inbound CompIDs are not consistent in the docs; log, never fail
            self._comp_warned = True
            log.warning("! FIX inbound 56=%s is not our key id", message.header.target_comp_id)
        if isinstance(body, ExecutionReport):
            self.stats["reports"] += 1
            if self.margin is not None:
                try:
                    new_fill, _ = apply_report(self.margin, body)
                except (KalshiError, ValueError, KeyError):  # bad report: keep the session
                    log.exception("! ExecutionReport not applied to the margin state")
                else:
                    self.stats["fills_new"] += new_fill
        elif isinstance(body, MarketDataSnapshotFullRefresh):
            self.stats["md"] += 1
            self.books.apply_snapshot(body)
        elif isinstance(body, MarketDataIncrementalRefresh):
            self.stats["md"] += 1
            self.books.apply_incremental(body)
            if self.books.desynced:
                self._resubscribe(sorted(self.books.desynced))
        self._received += 1
        self.recent.append(message)

    # --- the runner ------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._closing:
                retry = await self._connect_once()
                if self._closing:
                    return
                if not retry or not self._reconnect:
                    if self._fatal is None:
                        self._fatal = ConnectError(self._connect_error or (
                            f"FIX connection closed: {self._last_reason or 'link lost'}"))
                    self._changed.set()
                    return
                self.stats["reconnects"] += 1
                await asyncio.sleep(self._backoff.next_delay())
        finally:
            self._logged_on.clear()
            self._changed.set()

    async def _connect_once(self) -> bool:
        """One connection's life; True when a reconnect may help."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                self.host, self.port, ssl=self._ssl,
                server_hostname=(self._server_hostname or self.host) if self._ssl else None),
                self._connect_timeout)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            self._connect_error = self._connect_failure(exc)
            log.warning("! %s", self._connect_error)
            return True
        self._connect_error = None
        self.connects += 1
        key = self.credentials.private_key
        s = FixSession(self.config, seq=self.seq, sign=lambda h: sign_logon(key, h))
        self.session, self._writer = s, writer
        try:
            s.connection_made(self._now())
            self._save()  # the Logon's number too is stored before it leaves
            self._flush()
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(65536), _TICK_S)
                except TimeoutError:
                    data = None
                if data == b"":
                    s.connection_lost()
                    return True
                now = self._now()
                if data:
                    s.receive_data(data, now)
                s.tick(now)
                outcome = self._handle_events(s)
                self._save()
                self._flush()
                try:  # a peer that takes no bytes for two heartbeats is as dead as a silent one
                    await asyncio.wait_for(writer.drain(), 2 * s.heartbeat_s)
                except TimeoutError:
                    log.warning("! FIX peer %s:%s is not reading: reconnecting", self.host,
                                self.port)
                    s.connection_lost()
                    writer.transport.abort()  # close() would wait to flush to a deaf peer
                    return True
                if outcome is not None:
                    return outcome
        except (ConnectionError, OSError, ssl.SSLError) as exc:
            if self._closing or s.state in (SessionState.LOGOUT_SENT, SessionState.CLOSED):
                log.debug("FIX connection closed after logout: %r", exc)  # not a loss
            else:
                log.warning("! FIX connection lost: %s", str(exc) or type(exc).__name__)
            return True
        finally:
            self._logged_on.clear()
            self._save(exact=True)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), _LOGOUT_WAIT_S)
            writer.transport.abort()  # no-op when closed; ends a close stuck on unsent bytes

    def _connect_failure(self, exc: BaseException) -> str:
        """Why the connection could not be opened, never an empty reason.

        A TLS client at a plain-TCP server (the simulator's ``sim --fix``) sees its
        handshake reset with no message at all: say what it is and what to try.
        """
        why = str(exc) or type(exc).__name__
        if not str(exc) and isinstance(exc, TimeoutError):
            why = f"no answer within {self._connect_timeout:g} s"
        hint = ""
        if self._ssl and isinstance(exc, (ssl.SSLError, ConnectionResetError,
                                          ConnectionAbortedError, BrokenPipeError)):
            hint = " (TLS handshake refused: is the server plain TCP? try --plain / tls=False)"
        return f"FIX connect to {self.host}:{self.port} failed: {why}{hint}"

    def _handle_events(self, s: FixSession) -> bool | None:
        outcome: bool | None = None
        for ev in s.events_received():
            if isinstance(ev, ApplicationMessage):
                self._deliver(ev.message)
            elif isinstance(ev, LoggedOn):
                self.stats["logons"] += 1
                self._backoff.reset()
                self._logged_on.set()
                if self._md_symbols and self.connects > 1:
                    self._resubscribe(list(self._md_symbols))
            elif isinstance(ev, PeerReject):
                log.warning("! FIX session reject: %s", ev.message.body)
                self.rejects.append(ev.message)
            elif isinstance(ev, LoggedOut):
                if ev.by_peer and ev.text:
                    log.warning("! FIX logout from %s: %s", self.kind.value, ev.text)
            elif isinstance(ev, Disconnect):
                self._last_reason = ev.reason
                if not ev.retry and not self._logged_on.is_set() and not self._closing:
                    self._fatal = AuthError(f"FIX {ev.reason}")
                outcome = ev.retry
        self._changed.set()
        return outcome

    # --- order entry ---------------------------------------------------------------------

    def new_order(self, symbol: str, side: Literal["bid", "ask", "buy", "sell"],
                  count: int | Decimal | str, price: Decimal | str, *,
                  time_in_force: Literal["day", "gtc", "ioc", "fok", "gtd"] = "gtc",
                  expire_time: str | None = None, post_only: bool = False,
                  reduce_only: bool = False, order_group_id: str | None = None,
                  subaccount: int | None = None, client_order_id: str | None = None,
                  self_trade_prevention: Literal["taker_at_cross", "maker"] | None = None,
                  cancel_order_on_pause: bool | None = None) -> str:
        """Send a NewOrderSingle (35=D); returns its ClOrdID.

        Raises:
            InvalidRequest: a price with more than 4 places, a fractional count, ...
        """
        if side not in _SIDES or time_in_force not in _TIFS:
            raise InvalidRequest(f"bad side {side!r} or time in force {time_in_force!r}")
        if (time_in_force == "gtd") != (expire_time is not None):
            raise InvalidRequest("expire_time goes with time_in_force='gtd' (and only with it)")
        if subaccount is not None and not 0 <= subaccount <= 63:
            raise InvalidRequest("subaccount must be 0..63")
        inst = " ".join(x for x, on in (("6", post_only), ("E", reduce_only)) if on)
        cl = client_order_id or str(uuid.uuid4())
        self.send(NewOrderSingle(
            cl_ord_id=cl, exec_inst=inst or None, order_qty=check_count(count),
            price=check_price(price), side=_side(side),
            symbol=symbol, time_in_force=_TIFS[time_in_force],  # type: ignore[arg-type]
            expire_time=expire_time, order_group_id=order_group_id, alloc_account=subaccount,
            self_trade_prevention=None if self_trade_prevention is None
            else ("2" if self_trade_prevention == "maker" else "1"),
            cancel_order_on_pause=cancel_order_on_pause))
        return cl

    def amend(self, orig_client_order_id: str, symbol: str,
              side: Literal["bid", "ask", "buy", "sell"], count: int | Decimal | str,
              price: Decimal | str, *, order_id: str | None = None) -> str:
        """OrderCancelReplaceRequest (35=G): new total ``count`` and price; new ClOrdID."""
        cl = str(uuid.uuid4())
        self.send(OrderCancelReplaceRequest(
            cl_ord_id=cl, order_id=order_id, order_qty=check_count(count),
            orig_cl_ord_id=orig_client_order_id, price=check_price(price),
            side=_side(side), symbol=symbol))
        return cl

    def cancel(self, orig_client_order_id: str, symbol: str,
               side: Literal["bid", "ask", "buy", "sell"], *, order_id: str | None = None) -> str:
        """OrderCancelRequest (35=F); returns the cancel's ClOrdID."""
        cl = str(uuid.uuid4())
        self.send(OrderCancelRequest(cl_ord_id=cl, order_id=order_id,
                                     orig_cl_ord_id=orig_client_order_id,
                                     side=_side(side), symbol=symbol))
        return cl

    def mass_cancel(self) -> str:
        """OrderMassCancelRequest (35=q, KalshiNR only, 1/s)."""
        cl = str(uuid.uuid4())
        self.send(OrderMassCancelRequest(cl_ord_id=cl))
        return cl

    def order_group(self, action: Literal["create", "reset", "delete", "trigger", "update"],
                    *, order_group_id: str | None = None,
                    contracts_limit: int | None = None) -> int:
        """OrderGroupRequest (35=UOG); the answer is a UOH (or 35=j). Returns the seq."""
        code = {"create": "1", "reset": "2", "delete": "3", "trigger": "4", "update": "5"}
        if (action == "create") != (order_group_id is None):
            raise InvalidRequest("create takes no order_group_id; the other actions need one")
        if action in ("create", "update") and (contracts_limit is None
                                               or not 1 <= contracts_limit <= 1_000_000):
            raise InvalidRequest("contracts_limit must be 1..1,000,000")
        return self.send(OrderGroupRequest(
            action=code[action], order_group_id=order_group_id,  # type: ignore[arg-type]
            contracts_limit=Decimal(contracts_limit) if contracts_limit is not None else None))

    # --- drop copy -----------------------------------------------------------------------

    async def replay(self, begin_exec_id: str, end_exec_id: str | None = None, *,
                     since_ms: int | None = None, until_ms: int | None = None,
                     timeout: float = 30.0) -> list[ExecutionReport]:
        """Replay ExecutionReports by ExecID range (35=U1), filtered by TransactTime.

        Raises:
            FixReplayRejected: 35=U3. TimeoutError: no U2/U3 in time.
            ProtocolError: more reports than ``history`` holds.
        """
        mark = self._received
        seq = self.send(EventResendRequest(begin_exec_id=begin_exec_id,
                                           end_exec_id=end_exec_id))
        done = await self.expect(
            lambda m: isinstance(m.body, EventResendComplete | EventResendReject)
            and m.body.ref_seq_num == seq, timeout=timeout, since=mark)
        if isinstance(done.body, EventResendReject):
            raise FixReplayRejected(done.body.reason, done.body.text)
        first = self._received - len(self.recent)
        if first > mark:  # the replay outgrew the history: never return part of it
            raise ProtocolError(f"replay larger than the history ({self.recent.maxlen} "
                                f"messages): narrow the ExecID range or keep more")
        out: list[ExecutionReport] = []
        for i, msg in enumerate(self.recent):
            body = msg.body
            if first + i < mark or not isinstance(body, ExecutionReport):
                continue
            ts = parse_utc_timestamp(body.transact_time)
            if (since_ms is None or ts >= since_ms) and (until_ms is None or ts <= until_ms):
                out.append(body)
        return out

    # --- market data ---------------------------------------------------------------------

    def subscribe(self, symbols: list[str], *, snapshot_only: bool = False) -> int:
        """MarketDataRequest (35=V, 263=1, or 0 for one snapshot)."""
        if not symbols or len(set(symbols)) > 1000:
            raise InvalidRequest("need 1..1000 symbols")
        if not snapshot_only:
            self._md_symbols.update(dict.fromkeys(symbols))
        return self.send(MarketDataRequest(subscription="0" if snapshot_only else "1",
                                           symbols=[RelatedSym(symbol=s) for s in symbols]))

    def unsubscribe(self, symbols: list[str] | None = None) -> int:
        for s in symbols or list(self._md_symbols):
            self._md_symbols.pop(s, None)
        return self.send(MarketDataRequest(
            subscription="2", symbols=[RelatedSym(symbol=s) for s in symbols or []]))

    def _resubscribe(self, symbols: list[str]) -> None:
        """MD has no per-symbol sequence: a broken book is rebuilt from a new snapshot."""
        s = self.session
        if s is None or not s.active or not symbols:
            return
        now = self._now()
        rel = [RelatedSym(symbol=x) for x in symbols]
        s.send(MarketDataRequest(subscription="2", symbols=rel), now)
        s.send(MarketDataRequest(subscription="1", symbols=rel), now)
        self.books.desynced.difference_update(symbols)
