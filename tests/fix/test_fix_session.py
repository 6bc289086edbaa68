"""The Sans-I/O FIX session, initiator against acceptor in memory (no sockets, no clock)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.core.auth import PrivateKey
from kalshi_margin_stream.core.fix import (
    ApplicationMessage,
    Disconnect,
    ExecutionReport,
    FixSession,
    GapDetected,
    Garbled,
    Header,
    LoggedOn,
    LoggedOut,
    Logon,
    LogonReceived,
    PeerReject,
    Rejected,
    Role,
    SeqState,
    SequenceReset,
    SessionConfig,
    SessionKind,
    SessionState,
    encode,
    frame,
    sign_logon,
    verify_logon,
)
from kalshi_margin_stream.core.fix.session import Event

KEY = "9f3c2a1e-5b7d-4c8e-a1f2-3d4e5f607182"
T0 = 1_792_159_385_118


def er(n: int) -> ExecutionReport:
    return ExecutionReport(avg_px=Decimal("0.0000"), cl_ord_id=f"c{n}", cum_qty=Decimal("0.00"),
                           exec_id=f"1;{n}", order_id=f"o{n}", order_qty=Decimal("1.00"),
                           ord_status="0", side="1", symbol="KXBTCPERP",
                           transact_time="20261016-14:03:06.015", exec_type="0",
                           leaves_qty=Decimal("1.00"))


class Pair:
    """A client session and a simulator-side session joined by a perfect wire."""

    def __init__(self, kind: SessionKind = SessionKind.NR, *, key: PrivateKey | None = None,
                 client_seq: SeqState | None = None, server_seq: SeqState | None = None,
                 reset: bool = True, verify_with: PrivateKey | None = None) -> None:
        self.key = key or ed25519.Ed25519PrivateKey.generate()
        self.public = (verify_with or self.key).public_key()
        self.client = FixSession(SessionConfig(kind=kind, comp_id=KEY, reset_on_logon=reset),
                                 seq=client_seq, sign=lambda h: sign_logon(self.key, h))
        self.server = FixSession(SessionConfig(kind=kind, comp_id=kind.value),
                                 role=Role.ACCEPTOR, seq=server_seq)
        self.client_events: list[Event] = []
        self.server_events: list[Event] = []
        self.now = T0

    def pump(self) -> None:
        for _ in range(50):
            moved = False
            for data in self.client.data_to_send():
                moved = True
                self.server.receive_data(data, self.now)
            for ev in self.server.events_received():
                self.server_events.append(ev)
                if isinstance(ev, LogonReceived):
                    msg = ev.message
                    assert isinstance(msg.body, Logon)
                    if verify_logon(self.public, msg.header, msg.body.raw_data):
                        self.server.accept_logon(self.now, msg)
                    else:
                        self.server.refuse_logon(self.now, "invalid signature")
            for data in self.server.data_to_send():
                moved = True
                self.client.receive_data(data, self.now)
            self.client_events.extend(self.client.events_received())
            if not moved:
                return
        raise AssertionError("the sessions never went quiet")

    def connect(self) -> None:
        self.server.connection_made(self.now)
        self.client.connection_made(self.now)
        self.pump()

    def app(self, events: list[Event]) -> list[ExecutionReport]:
        return [e.message.body for e in events if isinstance(e, ApplicationMessage)
                and isinstance(e.message.body, ExecutionReport)]


@pytest.mark.parametrize("key", [ed25519.Ed25519PrivateKey.generate(),
                                 rsa.generate_private_key(public_exponent=65537, key_size=2048)],
                         ids=["ed25519", "rsa"])
def test_logon_is_signed_and_verified(key: PrivateKey) -> None:
    pair = Pair(key=key)
    pair.connect()
    assert pair.client.active and pair.server.active
    assert any(isinstance(e, LoggedOn) for e in pair.client_events)
    assert pair.client.seq.next_out == 2 and pair.client.seq.next_in == 2


def test_a_bad_signature_is_refused_with_a_logout_and_no_retry() -> None:
    pair = Pair(verify_with=ed25519.Ed25519PrivateKey.generate())
    pair.connect()
    assert not pair.client.active
    out = [e for e in pair.client_events if isinstance(e, LoggedOut)]
    assert out and out[0].text == "invalid signature"
    disc = [e for e in pair.client_events if isinstance(e, Disconnect)]
    assert disc and disc[0].retry is False


def test_logon_carries_141_on_nr_and_resumes_on_rt() -> None:
    pair = Pair(SessionKind.RT, reset=False, client_seq=SeqState(next_out=57, next_in=40),
                server_seq=SeqState(next_out=40, next_in=57))
    pair.connect()
    assert pair.client.active
    assert pair.client.seq.next_out == 58 and pair.client.seq.next_in == 41
    pair2 = Pair(SessionKind.NR, client_seq=SeqState(next_out=57, next_in=40))
    pair2.connect()
    assert pair2.client.seq.next_out == 2  # 141=Y reset both sides


def test_heartbeat_test_request_and_dead_link() -> None:
    pair = Pair()
    pair.connect()
    pair.now += 30_000
    pair.client.tick(pair.now)
    sent = pair.client.data_to_send()
    assert len(sent) == 1 and b"\x0135=0\x01" in sent[0]
    # the server stays silent: after 1.2 intervals a TestRequest, after one more: dead
    pair.now += 6_000
    pair.client.tick(pair.now)
    assert b"\x0135=1\x01" in pair.client.data_to_send()[0]
    pair.now += 30_000
    pair.client.tick(pair.now)
    disc = [e for e in pair.client.events_received() if isinstance(e, Disconnect)]
    assert disc and disc[0].retry


def test_test_request_is_answered_with_its_id() -> None:
    pair = Pair()
    pair.connect()
    pair.now += 40_000
    pair.server.tick(pair.now)  # the server heard nothing: heartbeat + TestRequest
    pair.pump()
    assert pair.server.active and pair.server._test_req is None


def test_rt_dropped_message_is_recovered_by_resend_request() -> None:
    pair = Pair(SessionKind.RT)
    pair.connect()
    pair.server.drop_next_outbound = 1
    for n in range(3):
        pair.server.send(er(n), pair.now)
    pair.pump()
    got = [r.cl_ord_id for r in pair.app(pair.client_events)]
    assert got == ["c0", "c1", "c2"]
    assert any(isinstance(e, GapDetected) for e in pair.client_events)
    assert pair.client.seq.next_in == pair.server.seq.next_out


def test_rt_resend_gap_fills_admin_messages() -> None:
    pair = Pair(SessionKind.RT)
    pair.connect()
    pair.now += 30_000
    pair.server.tick(pair.now)  # a heartbeat the client will lose
    pair.server.data_to_send()
    pair.server.send(er(7), pair.now)
    pair.pump()
    assert [r.cl_ord_id for r in pair.app(pair.client_events)] == ["c7"]
    assert pair.server.counters["gap_fills"] >= 1


def test_nr_gap_disconnects_for_a_reset_reconnect() -> None:
    pair = Pair(SessionKind.NR)
    pair.connect()
    pair.server.send(er(1), pair.now)
    pair.server.data_to_send()  # lost
    pair.server.send(er(2), pair.now)
    pair.pump()
    assert pair.client.state is SessionState.CLOSED
    disc = [e for e in pair.client_events if isinstance(e, Disconnect)]
    assert disc and disc[0].retry


def test_seq_too_low_without_possdup_is_fatal_for_the_connection() -> None:
    pair = Pair(SessionKind.RT)
    pair.connect()
    stale = encode(Header(sender_comp_id="KalshiRT", target_comp_id=KEY, msg_seq_num=1,
                          sending_time="20261016-14:03:05.118"), er(1))
    pair.client.receive_data(stale, pair.now)
    assert pair.client.state is SessionState.CLOSED


def test_garbled_and_malformed_inbound_messages_do_not_kill_the_session() -> None:
    pair = Pair(SessionKind.NR)
    pair.connect()
    seq = pair.client.seq.next_in
    good = encode(Header(sender_comp_id="KalshiNR", target_comp_id=KEY, msg_seq_num=seq,
                         sending_time="20261016-14:03:05.118"), er(1))
    pair.client.receive_data(good[:-4] + (b"998\x01" if good.endswith(b"999\x01")
                                          else b"999\x01"), pair.now)
    assert any(isinstance(e, Garbled) for e in pair.client.events_received())
    # a well-framed message missing a required tag: Reject 35=3, seq consumed, still active
    bad = frame("8", [(49, "KalshiNR"), (56, KEY), (34, str(seq)),
                      (52, "20261016-14:03:05.118"), (6, "0"), (11, "x")])
    pair.client.receive_data(bad, pair.now)
    events = pair.client.events_received()
    assert any(isinstance(e, Rejected) for e in events)
    pair.client_events.clear()
    pair.pump()
    assert any(isinstance(e, PeerReject) for e in pair.server_events)
    pair.server.seq.next_out = seq + 1
    pair.server.send(er(2), pair.now)
    pair.pump()
    assert pair.client.active and [r.cl_ord_id for r in pair.app(pair.client_events)] == ["c2"]


def test_graceful_logout() -> None:
    pair = Pair()
    pair.connect()
    pair.client.logout(pair.now)
    pair.pump()
    assert pair.client.state is SessionState.CLOSED and pair.server.state is SessionState.CLOSED
    assert any(isinstance(e, LoggedOut) and not e.by_peer for e in pair.client_events)


def test_config_rules() -> None:
    with pytest.raises(ValueError):
        SessionConfig(kind=SessionKind.DC, comp_id=KEY, listener=True)
    with pytest.raises(ValueError):
        SessionConfig(kind=SessionKind.NR, comp_id=KEY, listener=True, cancel_on_disconnect=True)
    assert SessionConfig(kind=SessionKind.NR, comp_id=KEY, reset_on_logon=False).resets
    assert not SessionConfig(kind=SessionKind.RT, comp_id=KEY, reset_on_logon=False).resets


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400), st.integers(1, 255)),
                max_size=6))
def test_any_garbled_stream_leaves_the_session_alive_and_typed(
        damage: list[tuple[int, int, int]]) -> None:
    pair = Pair(SessionKind.RT)
    pair.connect()
    stream = b""
    for n in range(4):
        pair.server.send(er(n), pair.now)
        stream += b"".join(pair.server.data_to_send())
    data = bytearray(stream)
    for _, pos, xor in damage:
        data[pos % len(data)] ^= xor
    pair.client.receive_data(bytes(data), pair.now)
    events = pair.client.events_received()
    assert all(isinstance(e, (ApplicationMessage, Garbled, Rejected, GapDetected, Disconnect,
                              LoggedOut, PeerReject)) for e in events)
    if not damage:
        assert pair.client.active and len(pair.app(events)) == 4


def test_rt_resume_with_both_sides_behind_converges() -> None:
    """Both ends ask for a resend at logon; each must answer the other's early request.

    Found by hand: a client resuming from a store met a simulator that was also behind,
    and both dropped the other's ResendRequest as "after the gap": the session hung.
    """
    pair = Pair(SessionKind.RT, reset=False, client_seq=SeqState(next_out=10, next_in=1),
                server_seq=SeqState(next_out=14, next_in=6))
    pair.connect()
    assert pair.client.active and pair.server.active
    assert pair.client.seq.next_in == pair.server.seq.next_out
    assert pair.server.seq.next_in == pair.client.seq.next_out
    assert pair.client.counters["gap_fills"] >= 1 and pair.server.counters["gap_fills"] >= 1
    pair.server.send(er(5), pair.now)
    pair.pump()
    assert [r.cl_ord_id for r in pair.app(pair.client_events)] == ["c5"]


def test_an_unanswered_resend_request_ends_the_connection_for_a_retry() -> None:
    pair = Pair(SessionKind.RT)
    pair.connect()
    pair.server.drop_next_outbound = 1
    pair.server.send(er(1), pair.now)
    pair.server.send(er(2), pair.now)
    for data in pair.server.data_to_send():
        pair.client.receive_data(data, pair.now)
    assert b"\x0135=2\x01" in b"".join(pair.client.data_to_send())  # lost on the way
    for _ in range(4):  # the peer stays alive (heartbeats) but never resends
        pair.now += 8_000
        pair.server.tick(pair.now)
        for data in pair.server.data_to_send():
            pair.client.receive_data(data, pair.now)
        pair.client.tick(pair.now)
    events = pair.client.events_received()
    disc = [e for e in events if isinstance(e, Disconnect)]
    assert disc and disc[0].retry and "ResendRequest" in disc[0].reason
    assert pair.app(events) == []  # c2 came early and was dropped: nothing out of order


def test_a_sequence_reset_that_lowers_the_expected_seq_is_rejected() -> None:
    pair = Pair(SessionKind.RT)
    pair.connect()
    for _ in range(3):
        pair.server.send(er(0), pair.now)
    pair.pump()
    expected = pair.client.seq.next_in
    lower = encode(Header(sender_comp_id="KalshiRT", target_comp_id=KEY,
                          msg_seq_num=expected, sending_time="20261016-14:03:05.118"),
                   SequenceReset(gap_fill=False, new_seq_no=2))
    pair.client.receive_data(lower, pair.now)
    assert pair.client.seq.next_in == expected  # not moved back
    out = b"".join(pair.client.data_to_send())
    assert b"\x0135=3\x01" in out and b"\x01371=36\x01" in out and b"attempt to lower" in out
    assert pair.client.active
    higher = encode(Header(sender_comp_id="KalshiRT", target_comp_id=KEY,
                           msg_seq_num=expected, sending_time="20261016-14:03:05.118"),
                    SequenceReset(gap_fill=False, new_seq_no=expected + 5))
    pair.client.receive_data(higher, pair.now)
    assert pair.client.seq.next_in == expected + 5
