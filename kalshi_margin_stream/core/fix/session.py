"""The FIX session state machine (Sans-I/O), for both ends of a connection.

Theory of operation
-------------------
Bytes in (:meth:`FixSession.receive_data`), events out (:meth:`events_received`) and
bytes out (:meth:`data_to_send`); the caller owns the socket and the clock (every call
takes ``now_ms``) and calls :meth:`tick` now and then for the heartbeat timers. One
class serves the initiator (our client) and the acceptor (the simulator): the rules
are the same, only the Logon differs (the initiator signs and sends it; the acceptor
raises :class:`LogonReceived` and the caller accepts or refuses it).

Sequence numbers live in a :class:`SeqState`, outside the session, so a KalshiRT
session can resume after a reconnect (and, through a store file, after a restart)
(fix.md §5):

* inbound seq == expected: processed; lower without PossDup (43=Y): fatal (Logout
  and :class:`Disconnect`); lower with PossDup: a duplicate, ignored;
* higher on **RT**: one ResendRequest ``7=expected|16=0`` (through the latest) and
  the early message is dropped; the peer's resend brings it back in order (an early
  ResendRequest is answered first, so two sides both behind cannot deadlock; a resend
  with no progress for one HeartBtInt ends the connection, retryable). On
  NR/DC/MD a gap cannot be repaired in-session: Logout, then :class:`Disconnect`
  (the shell reconnects with 141=Y and reconciles).
* an inbound ResendRequest is answered from our own store: application messages
  resent with 43=Y/122, admin messages and anything no longer held replaced by
  SequenceReset-GapFill runs.

Garbled framing (BodyLength/CheckSum) is dropped without consuming a sequence
number (FIX's rule), so on RT the next message shows the gap and the resend repairs
it. A well-framed message with a bad field is answered with Reject (35=3) and does
consume its number. The session survives both.

One class of ~650 lines on purpose: the sequence rules, resend answers and timers
read and move the same few counters, and FIX's rules are easiest to check against
fix.md §5 when they sit in one place (the events and config are small types above).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from .codec import FrameReader, split_fields
from .errors import FixFieldError, FixGarbled, RejectReason
from .messages import (
    FixBody,
    FixMessage,
    Header,
    Heartbeat,
    Logon,
    Logout,
    Reject,
    ResendRequest,
    SequenceReset,
    TestRequest,
    decode_fields,
    encode,
    utc_timestamp,
)

__all__ = [
    "ApplicationMessage", "Disconnect", "Event", "FixSession", "GapDetected", "Garbled",
    "LoggedOn", "LoggedOut", "LogonReceived", "PeerReject", "Rejected", "Role", "SeqState",
    "SessionConfig", "SessionKind", "SessionState",
]


class SessionKind(StrEnum):
    """The four margin sessions; the value is TargetCompID (fix.md §1.1)."""

    NR = "KalshiNR"
    RT = "KalshiRT"
    DC = "KalshiDC"
    MD = "KalshiMD"

    @property
    def port(self) -> int:
        return {"KalshiNR": 8228, "KalshiDC": 8229, "KalshiRT": 8230, "KalshiMD": 8233}[self]

    @property
    def retransmits(self) -> bool:
        """Only KalshiRT keeps a store and answers ResendRequest."""
        return self is SessionKind.RT


class Role(StrEnum):
    INITIATOR = "initiator"
    ACCEPTOR = "acceptor"


class SessionState(StrEnum):
    CONNECTING = "connecting"
    LOGON_SENT = "logon_sent"
    AWAITING_LOGON = "awaiting_logon"
    ACTIVE = "active"
    LOGOUT_SENT = "logout_sent"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """What a session sends and expects.

    Args:
        kind: which Kalshi session (sets TargetCompID and the reset rule).
        comp_id: our CompID: the API key id (initiator) or the session name (acceptor).
        peer_comp_id: the other side's CompID (default: ``kind``'s name for an initiator).
        heartbeat_s: HeartBtInt (108); Kalshi's minimum is 3, default 30.
        reset_on_logon: send 141=Y. Always on NR/DC/MD; on RT False resumes the sequence.
        listener: 20126=Y with 21011=Y (read-only mode on NR/RT, fix.md §9).
        cancel_on_disconnect: 8013=Y.
        retention_hours: 20200 (RT only; max 72).
        store_limit: application messages kept for resend (RT).
    """

    kind: SessionKind
    comp_id: str
    peer_comp_id: str = ""
    heartbeat_s: int = 30
    reset_on_logon: bool = True
    listener: bool = False
    cancel_on_disconnect: bool = False
    retention_hours: int | None = None
    skip_pending: bool = False
    store_limit: int = 100_000

    def __post_init__(self) -> None:
        if self.heartbeat_s < 1:
            raise ValueError("heartbeat_s must be >= 1")
        if not self.comp_id:
            raise ValueError("comp_id is empty")
        if self.listener and self.kind not in (SessionKind.NR, SessionKind.RT):
            raise ValueError("listener mode exists only on KalshiNR and KalshiRT")
        if self.listener and self.cancel_on_disconnect:
            raise ValueError("a listener session cannot cancel orders on disconnect")
        if self.retention_hours is not None and not 1 <= self.retention_hours <= 72:
            raise ValueError("retention_hours must be 1..72")

    @property
    def resets(self) -> bool:
        """141=Y on Logon: mandatory except on RT (fix.md §5.1)."""
        return self.reset_on_logon or not self.kind.retransmits


@dataclass(slots=True)
class SeqState:
    """Sequence numbers and the resend store of one session identity.

    ``sent`` maps our seq to ``(body, original SendingTime)`` for application messages
    (what a ResendRequest can get back); admin messages are never kept (gap-filled).
    """

    next_out: int = 1
    next_in: int = 1
    sent: dict[int, tuple[FixBody, str]] = field(default_factory=dict)

    def reset(self) -> None:
        self.next_out = 1
        self.next_in = 1
        self.sent.clear()


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedOn:
    """The Logon exchange completed; the session is active."""

    message: FixMessage


@dataclass(frozen=True, slots=True)
class LogonReceived:
    """(Acceptor) A Logon arrived: check it, then ``accept_logon`` or ``refuse_logon``."""

    message: FixMessage


@dataclass(frozen=True, slots=True)
class ApplicationMessage:
    """An in-sequence application message (ExecutionReport, W/X, UOH, ...)."""

    message: FixMessage


@dataclass(frozen=True, slots=True)
class PeerReject:
    """The peer answered one of ours with a session Reject (35=3)."""

    message: FixMessage


@dataclass(frozen=True, slots=True)
class Rejected:
    """We answered a malformed inbound message with a Reject (35=3); session goes on."""

    error: FixFieldError


@dataclass(frozen=True, slots=True)
class Garbled:
    """Inbound bytes with broken framing were dropped (no seq consumed)."""

    reason: str


@dataclass(frozen=True, slots=True)
class GapDetected:
    """Inbound seq ``received`` > ``expected``: resend asked (RT) or disconnecting."""

    expected: int
    received: int


@dataclass(frozen=True, slots=True)
class LoggedOut:
    """The Logout handshake finished (or the peer logged us out with ``text``)."""

    text: str | None
    by_peer: bool


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the transport now. ``retry``: a reconnect may help (False: fatal, e.g. auth)."""

    reason: str
    retry: bool


Event = (LoggedOn | LogonReceived | ApplicationMessage | PeerReject | Rejected | Garbled
         | GapDetected | LoggedOut | Disconnect)

_FATAL_LOGOUT_WORDS = ("signature", "auth", "permission", "invalid", "not allowed", "listener",
                       "too low", "required")
"""A refused Logon whose Text has one of these will fail the same way again (fix.md §3.4)."""
_SLACK = 0.2
"""Receive silence tolerated beyond one HeartBtInt before a TestRequest (fraction)."""
_LOGOUT_WAIT_MS = 2_000


class FixSession:
    """One FIX connection's protocol state (see the module docstring).

    Args:
        config: the session's settings.
        role: initiator (client) or acceptor (simulator).
        seq: sequence state; pass the same object (or one loaded from a store) to resume.
        sign: initiator only: ``header -> base64 signature`` for the Logon (§3.2).
    """

    def __init__(self, config: SessionConfig, *, role: Role = Role.INITIATOR,
                 seq: SeqState | None = None,
                 sign: Callable[[Header], str] | None = None) -> None:
        if role is Role.INITIATOR and sign is None:
            raise ValueError("an initiator needs a signer for its Logon")
        self.config = config
        self.role = role
        self.seq = seq if seq is not None else SeqState()
        self._sign = sign
        self.peer_comp_id = config.peer_comp_id or (
            config.kind.value if role is Role.INITIATOR else "")
        self.state = SessionState.CONNECTING
        self.heartbeat_s = config.heartbeat_s
        self._reader = FrameReader()
        self._out: list[bytes] = []
        self._events: list[Event] = []
        self._last_sent_ms = 0
        self._last_recv_ms = 0
        self._state_since_ms = 0
        self._test_req: tuple[str, int] | None = None
        self._resend_asked_for: int | None = None
        self._resend_since_ms = 0
        self.drop_next_outbound = 0
        """Test/simulator fault knob: encode and count, but do not send, the next N."""
        self.counters = {"sent": 0, "received": 0, "garbled": 0, "rejected": 0,
                         "resend_requests": 0, "resent": 0, "gap_fills": 0, "dropped": 0}

    # --- the caller's interface -------------------------------------------------------

    def events_received(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    @property
    def active(self) -> bool:
        return self.state is SessionState.ACTIVE

    def connection_made(self, now_ms: int) -> None:
        """The transport is up: an initiator sends its signed Logon."""
        self._last_recv_ms = self._last_sent_ms = self._state_since_ms = now_ms
        if self.role is Role.ACCEPTOR:
            self.state = SessionState.AWAITING_LOGON
            return
        cfg = self.config
        if cfg.resets:
            self.seq.reset()
        header = self._header(now_ms)
        assert self._sign is not None
        signature = self._sign(header)
        body = Logon(
            heart_bt_int=cfg.heartbeat_s, reset_seq_num=True if cfg.resets else None,
            cancel_orders_on_disconnect=True if cfg.cancel_on_disconnect else None,
            raw_data_length=len(signature), raw_data=signature,
            listener_session=True if cfg.listener else None,
            message_retention_period=cfg.retention_hours if cfg.kind.retransmits else None,
            use_dollars=True if cfg.kind is not SessionKind.MD else None,
            skip_pending_exec_reports=True if (cfg.listener or cfg.skip_pending) else None)
        self._emit(header, body, now_ms)
        self.state = SessionState.LOGON_SENT

    def connection_lost(self) -> None:
        self.state = SessionState.CLOSED

    def send(self, body: FixBody, now_ms: int) -> int:
        """Send an application message; returns its MsgSeqNum.

        Raises:
            RuntimeError: the session is not active (not logged on, or closing).
        """
        if self.state is not SessionState.ACTIVE:
            raise RuntimeError(f"FIX session is {self.state.value}, not active")
        header = self._header(now_ms)
        self._emit(header, body, now_ms)
        return header.msg_seq_num

    def logout(self, now_ms: int, text: str | None = None) -> None:
        """Start a graceful Logout (the peer answers with its own Logout)."""
        if self.state in (SessionState.ACTIVE, SessionState.LOGON_SENT):
            self._emit(self._header(now_ms), Logout(text=text), now_ms)
            self.state = SessionState.LOGOUT_SENT
            self._state_since_ms = now_ms
        elif self.state is not SessionState.LOGOUT_SENT:
            self._close("logout before logon", retry=False)

    # acceptor

    def accept_logon(self, now_ms: int, message: FixMessage) -> None:
        """(Acceptor) Answer the Logon ``message`` with a Logon and go active."""
        logon = message.body
        assert isinstance(logon, Logon)
        self.peer_comp_id = message.header.sender_comp_id
        if logon.heart_bt_int:
            self.heartbeat_s = logon.heart_bt_int
        reply = Logon(heart_bt_int=self.heartbeat_s,
                      reset_seq_num=True if logon.reset_seq_num else None)
        self._emit(self._header(now_ms), reply, now_ms)
        self.state = SessionState.ACTIVE
        if message.seq > self.seq.next_in:
            self._ask_resend(self.seq.next_in, message.seq, now_ms)
        else:
            self.seq.next_in = message.seq + 1

    def refuse_logon(self, now_ms: int, text: str, *, peer: str | None = None) -> None:
        """(Acceptor) Answer with Logout(58=text) and close."""
        if peer:
            self.peer_comp_id = peer
        self._emit(self._header(now_ms, seq=1 if self.seq.next_out == 1 else None),
                   Logout(text=text), now_ms)
        self._close(f"logon refused: {text}", retry=False)

    def reject(self, now_ms: int, ref_seq: int, *, reason: int, text: str,
               ref_msg_type: str | None = None, ref_tag: int | None = None) -> None:
        """Send a session Reject (35=3)."""
        self._emit(self._header(now_ms), Reject(
            ref_seq_num=ref_seq, text=text, ref_tag_id=ref_tag, ref_msg_type=ref_msg_type,
            session_reject_reason=reason), now_ms)

    # --- timers ------------------------------------------------------------------------

    def tick(self, now_ms: int) -> None:
        """Heartbeats, TestRequests and handshake timeouts due at ``now_ms``."""
        hb = self.heartbeat_s * 1000
        if self.state in (SessionState.LOGON_SENT, SessionState.AWAITING_LOGON):
            if now_ms - self._state_since_ms >= hb:
                self._close("no Logon answer within one heartbeat interval", retry=True)
            return
        if self.state is SessionState.LOGOUT_SENT:
            if now_ms - self._state_since_ms >= min(hb, _LOGOUT_WAIT_MS):
                self._events.append(LoggedOut(None, by_peer=False))
                self._close("logout not answered", retry=False)
            return
        if self.state is not SessionState.ACTIVE:
            return
        if self._resend_asked_for is not None and now_ms - self._resend_since_ms >= hb:
            # every later message waits on the replay: a silent peer must not stall us
            text = "ResendRequest not answered within one heartbeat interval"
            self._emit(self._header(now_ms), Logout(text=text), now_ms)
            self._close(text, retry=True)
            return
        if now_ms - self._last_sent_ms >= hb:
            self._emit(self._header(now_ms), Heartbeat(), now_ms)
        silent = now_ms - self._last_recv_ms
        if self._test_req is None:
            if silent >= hb * (1 + _SLACK):
                test_id = f"TEST-{now_ms}"
                self._test_req = (test_id, now_ms)
                self._emit(self._header(now_ms), TestRequest(test_req_id=test_id), now_ms)
        elif now_ms - self._test_req[1] >= hb:
            self._close("no answer to TestRequest: link is dead", retry=True)

    # --- inbound -----------------------------------------------------------------------

    def receive_data(self, data: bytes, now_ms: int) -> None:
        """Feed bytes from the transport; complete messages are handled at once."""
        if self.state is SessionState.CLOSED:
            return
        self._reader.feed(data)
        while not self._closed():
            try:
                got = self._reader.next_frame()
            except FixGarbled as exc:
                self.counters["garbled"] += 1
                self._events.append(Garbled(str(exc)))
                continue
            if got is None:
                return
            self._last_recv_ms = now_ms
            self.counters["received"] += 1
            try:
                message = decode_fields(split_fields(got[1]))
            except FixFieldError as exc:
                self._bad_message(exc, now_ms)
                continue
            self._handle(message, now_ms)

    def _bad_message(self, exc: FixFieldError, now_ms: int) -> None:
        if exc.seq is None or self.state not in (SessionState.ACTIVE, SessionState.LOGOUT_SENT):
            self.counters["garbled"] += 1
            self._events.append(Garbled(str(exc)))
            if self.state in (SessionState.AWAITING_LOGON, SessionState.LOGON_SENT):
                self._close(f"unreadable Logon exchange: {exc}", retry=True)
            return
        if exc.seq > self.seq.next_in:
            self._gap(exc.seq, now_ms)
            return
        if exc.seq < self.seq.next_in:
            return  # a malformed duplicate: nothing to answer
        self.seq.next_in += 1
        self.counters["rejected"] += 1
        self.reject(now_ms, exc.seq, reason=exc.reason, text=exc.text,
                    ref_msg_type=exc.msg_type, ref_tag=exc.tag)
        self._events.append(Rejected(exc))

    def _handle(self, message: FixMessage, now_ms: int) -> None:
        body = message.body
        header = message.header
        seq = header.msg_seq_num
        if self.state is SessionState.AWAITING_LOGON:
            if not isinstance(body, Logon):
                self._close(f"first message must be Logon, got 35={body.MSG_TYPE}", retry=False)
                return
            if body.reset_seq_num:
                self.seq.reset()
                if seq != 1:
                    self.refuse_logon(now_ms, f"MsgSeqNum {seq} on a reset Logon (must be 1)",
                                      peer=header.sender_comp_id)
                    return
            elif seq < self.seq.next_in:
                self.refuse_logon(now_ms, f"MsgSeqNum too low, expecting {self.seq.next_in} "
                                          f"but received {seq}", peer=header.sender_comp_id)
                return
            self.peer_comp_id = header.sender_comp_id
            self._events.append(LogonReceived(message))
            return
        if self.state is SessionState.LOGON_SENT:
            self._handle_logon_answer(message, now_ms)
            return
        if isinstance(body, SequenceReset) and not body.gap_fill:
            # Reset mode: the peer moves our expectation, whatever the seq says -- but
            # never backwards (FIX: Reject "attempt to lower sequence number").
            if body.new_seq_no < self.seq.next_in:
                self.reject(now_ms, seq, reason=RejectReason.INCORRECT_VALUE,
                            text=f"attempt to lower sequence number, invalid value "
                                 f"NewSeqNo(36)={body.new_seq_no}",
                            ref_msg_type="4", ref_tag=36)
                return
            self.seq.next_in = body.new_seq_no
            self._resend_asked_for = None
            return
        expected = self.seq.next_in
        if seq > expected:
            if isinstance(body, Logout):
                self._handle_logout(body, now_ms)
                return
            if isinstance(body, ResendRequest):
                # Answered at once, early or not (FIX's rule): when both sides are behind
                # (an RT resume), each would otherwise drop the other's request forever.
                self._answer_resend(body, now_ms)
            self._gap(seq, now_ms)
            return
        if seq < expected:
            if header.poss_dup:
                return  # already seen
            text = f"MsgSeqNum too low, expecting {expected} but received {seq}"
            self._emit(self._header(now_ms), Logout(text=text), now_ms)
            self._close(text, retry=True)
            return
        self.seq.next_in = seq + 1
        if self._resend_asked_for is not None:
            self._resend_since_ms = now_ms  # the replay is moving
            if seq >= self._resend_asked_for:
                self._resend_asked_for = None
        self._dispatch(message, now_ms)

    def _handle_logon_answer(self, message: FixMessage, now_ms: int) -> None:
        body = message.body
        if isinstance(body, Logout):
            text = body.text or "logon refused"
            self._events.append(LoggedOut(text, by_peer=True))
            retry = not any(w in text.lower() for w in _FATAL_LOGOUT_WORDS)
            self._close(f"logon refused: {text}", retry=retry)
            return
        if not isinstance(body, Logon):
            if isinstance(body, Reject):
                self._events.append(PeerReject(message))
            self._close(f"expected a Logon answer, got 35={body.MSG_TYPE}", retry=True)
            return
        if body.heart_bt_int:
            self.heartbeat_s = body.heart_bt_int
        self.state = SessionState.ACTIVE
        self._events.append(LoggedOn(message))
        seq = message.seq
        if seq > self.seq.next_in:
            self._gap(seq, now_ms)
        elif seq < self.seq.next_in:
            text = f"MsgSeqNum too low, expecting {self.seq.next_in} but received {seq}"
            self._emit(self._header(now_ms), Logout(text=text), now_ms)
            self._close(text, retry=True)
        else:
            self.seq.next_in = seq + 1

    def _dispatch(self, message: FixMessage, now_ms: int) -> None:
        body = message.body
        if isinstance(body, Heartbeat):
            if self._test_req is not None and body.test_req_id == self._test_req[0]:
                self._test_req = None
        elif isinstance(body, TestRequest):
            self._emit(self._header(now_ms), Heartbeat(test_req_id=body.test_req_id), now_ms)
        elif isinstance(body, ResendRequest):
            self._answer_resend(body, now_ms)
        elif isinstance(body, SequenceReset):
            if body.new_seq_no > self.seq.next_in:
                self.seq.next_in = body.new_seq_no
        elif isinstance(body, Logout):
            self._handle_logout(body, now_ms)
        elif isinstance(body, Reject):
            self._events.append(PeerReject(message))
        elif isinstance(body, Logon):
            self.reject(now_ms, message.seq, reason=RejectReason.INCORRECT_VALUE,
                        text="already logged on", ref_msg_type="A")
        else:
            self._events.append(ApplicationMessage(message))

    def _handle_logout(self, body: Logout, now_ms: int) -> None:
        if self.state is SessionState.LOGOUT_SENT:
            self._events.append(LoggedOut(body.text, by_peer=False))
            self._close("logged out", retry=False)
            return
        self._emit(self._header(now_ms), Logout(), now_ms)
        self._events.append(LoggedOut(body.text, by_peer=True))
        self._close(f"peer logged out: {body.text or ''}".rstrip(": "), retry=True)

    # --- gaps and resends ------------------------------------------------------------------

    def _gap(self, received: int, now_ms: int) -> None:
        expected = self.seq.next_in
        if not self.config.kind.retransmits:
            self._events.append(GapDetected(expected, received))
            text = f"MsgSeqNum gap: expected {expected}, received {received}"
            self._emit(self._header(now_ms), Logout(text=text), now_ms)
            self._close(text, retry=True)
            return
        if self._resend_asked_for is not None:
            return  # the resend already asked for covers this one (16=0: through the latest)
        self._events.append(GapDetected(expected, received))
        self._ask_resend(expected, received, now_ms)

    def _ask_resend(self, begin: int, received: int, now_ms: int) -> None:
        self._resend_asked_for = received
        self._resend_since_ms = now_ms
        self.counters["resend_requests"] += 1
        self._emit(self._header(now_ms), ResendRequest(begin_seq_no=begin, end_seq_no=0), now_ms)

    def _answer_resend(self, req: ResendRequest, now_ms: int) -> None:
        last = self.seq.next_out - 1
        end = last if req.end_seq_no == 0 or req.end_seq_no > last else req.end_seq_no
        begin = max(1, req.begin_seq_no)
        if not self.config.kind.retransmits:
            self.reject(now_ms, self.seq.next_in - 1, reason=RejectReason.INVALID_MSGTYPE,
                        text="ResendRequest is not supported on this session",
                        ref_msg_type="2")
            return
        stamp = utc_timestamp(now_ms)
        gap_start: int | None = None
        for n in range(begin, end + 1):
            kept = self.seq.sent.get(n)
            if kept is None:
                if gap_start is None:
                    gap_start = n
                continue
            if gap_start is not None:
                self._gap_fill(gap_start, n, stamp, now_ms)
                gap_start = None
            body, original = kept
            self._write(Header(sender_comp_id=self.config.comp_id,
                               target_comp_id=self.peer_comp_id, msg_seq_num=n,
                               sending_time=stamp, poss_dup=True, orig_sending_time=original),
                        body, now_ms)
            self.counters["resent"] += 1
        if gap_start is not None:
            self._gap_fill(gap_start, end + 1, stamp, now_ms)

    def _gap_fill(self, start: int, new_seq: int, stamp: str, now_ms: int) -> None:
        self.counters["gap_fills"] += 1
        self._write(Header(sender_comp_id=self.config.comp_id, target_comp_id=self.peer_comp_id,
                           msg_seq_num=start, sending_time=stamp, poss_dup=True,
                           orig_sending_time=stamp),
                    SequenceReset(gap_fill=True, new_seq_no=new_seq), now_ms)

    # --- outbound plumbing ----------------------------------------------------------------

    def _header(self, now_ms: int, *, seq: int | None = None) -> Header:
        return Header(sender_comp_id=self.config.comp_id, target_comp_id=self.peer_comp_id,
                      msg_seq_num=self.seq.next_out if seq is None else seq,
                      sending_time=utc_timestamp(now_ms))

    def _emit(self, header: Header, body: FixBody, now_ms: int) -> None:
        """Send a new message: takes the next seq and keeps application messages (RT)."""
        self.seq.next_out = header.msg_seq_num + 1
        if not body.ADMIN and self.config.kind.retransmits:
            sent = self.seq.sent
            sent[header.msg_seq_num] = (body, header.sending_time)
            if len(sent) > self.config.store_limit:
                del sent[next(iter(sent))]
        self._write(header, body, now_ms)

    def _write(self, header: Header, body: FixBody, now_ms: int) -> None:
        self._last_sent_ms = now_ms
        self.counters["sent"] += 1
        data = encode(header, body)
        if self.drop_next_outbound > 0 and not body.ADMIN:
            self.drop_next_outbound -= 1
            self.counters["dropped"] += 1
            return
        self._out.append(data)

    def _closed(self) -> bool:
        return self.state is SessionState.CLOSED

    def _close(self, reason: str, *, retry: bool) -> None:
        if self.state is SessionState.CLOSED:
            return
        self.state = SessionState.CLOSED
        self._events.append(Disconnect(reason, retry))
