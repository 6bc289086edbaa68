"""FIX codec: every exact fix.md example round-trips byte for byte; garbage: typed errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.core.fix import (
    ExecutionReport,
    FixError,
    FixFieldError,
    FixGarbled,
    FrameReader,
    Header,
    Logon,
    MarketDataIncrementalRefresh,
    MDIncEntry,
    MiscFee,
    NewOrderSingle,
    RejectReason,
    decode,
    encode,
    frame,
    parse_utc_timestamp,
    utc_timestamp,
)

DATA = Path(__file__).parent.parent / "data" / "fix"
EXAMPLES = [line.strip().replace("|", "\x01").encode()
            for line in (DATA / "spec_examples.txt").read_text().splitlines()
            if line.startswith("8=")]


def test_the_spec_has_all_its_examples_here() -> None:
    assert len(EXAMPLES) == 36


@pytest.mark.parametrize("raw", EXAMPLES, ids=lambda b: b.split(b"\x01")[2].decode())
def test_spec_example_round_trips_byte_for_byte(raw: bytes) -> None:
    msg = decode(raw)
    assert encode(msg.header, msg.body) == raw
    # the framing we write matches the documented BodyLength and CheckSum
    body_type = msg.body.MSG_TYPE
    assert raw.startswith(b"8=FIXT.1.1\x01") and f"\x0135={body_type}\x01".encode() in raw


def test_fill_report_decodes_to_exact_decimals_and_groups() -> None:
    fill = next(decode(r).body for r in EXAMPLES if b"150=F" in r)
    assert isinstance(fill, ExecutionReport)
    assert fill.last_px == Decimal("11.2345") and fill.last_qty == Decimal("4.00")
    assert fill.misc_fees == [MiscFee(amount=Decimal("0.0090"), currency="USD", fee_type="4",
                                      basis=0)]
    assert fill.collateral_changes[0].amount == Decimal("-0.0090")
    assert fill.aggressor is False and fill.long_qty == Decimal("4.00")


def test_md_incremental_keeps_per_entry_symbol_and_trade_fields() -> None:
    x = next(decode(r).body for r in EXAMPLES if b"35=X" in r)
    assert isinstance(x, MarketDataIncrementalRefresh)
    assert [e.entry_type for e in x.entries] == ["0", "2"]
    assert x.entries[1].aggressor_side == "2"
    assert x.entries[1].trade_id == "02cfae92-12f4-4bc6-b613-4806e3604514"


def test_timestamps() -> None:
    assert utc_timestamp(1792159385118) == "20261016-14:03:05.118"
    assert parse_utc_timestamp("20261016-14:03:05.118") == 1792159385118
    assert parse_utc_timestamp("20261016-14:03:05") == 1792159385000
    with pytest.raises(ValueError):
        parse_utc_timestamp("2026-10-16 14:03")


def test_missing_required_tag_is_a_field_error_with_the_reject_code() -> None:
    raw = frame("D", [(49, "k"), (56, "KalshiNR"), (34, "4"), (52, "20261016-14:03:06.001"),
                      (11, "x"), (38, "10"), (40, "2"), (44, "1.0"), (54, "1")])
    with pytest.raises(FixFieldError) as info:
        decode(raw)
    assert info.value.reason == RejectReason.REQUIRED_TAG_MISSING and info.value.tag == 55
    assert info.value.seq == 4 and info.value.msg_type == "D"


@pytest.mark.parametrize("bad", [(54, "3"), (38, "1e5"), (38, "ten"), (21006, "maybe")])
def test_bad_values_are_rejected(bad: tuple[int, str]) -> None:
    fields = {11: "x", 38: "10", 40: "2", 44: "1.0", 54: "1", 55: "T"}
    fields[bad[0]] = bad[1]
    raw = frame("D", [(49, "k"), (56, "KalshiNR"), (34, "4"), (52, "20261016-14:03:06.001"),
                      *fields.items()])
    with pytest.raises(FixFieldError) as info:
        decode(raw)
    assert info.value.tag == bad[0]


def test_unknown_msg_type_and_broken_groups() -> None:
    head = [(49, "k"), (56, "KalshiNR"), (34, "4"), (52, "20261016-14:03:06.001")]
    with pytest.raises(FixFieldError) as info:
        decode(frame("ZZ", head))
    assert info.value.reason == RejectReason.INVALID_MSGTYPE
    with pytest.raises(FixFieldError):  # 2 announced, 1 present
        decode(frame("X", [*head, (268, "2"), (279, "0"), (269, "0")]))
    with pytest.raises(FixFieldError):  # an entry not starting with its delimiter
        decode(frame("X", [*head, (268, "1"), (269, "0"), (279, "0")]))


def test_checksum_and_length_errors_are_garbled() -> None:
    raw = EXAMPLES[0]
    with pytest.raises(FixGarbled):
        decode(raw[:-4] + b"000\x01" if not raw.endswith(b"000\x01") else raw[:-4] + b"001\x01")
    with pytest.raises(FixGarbled):
        decode(raw.replace(b"9=218", b"9=219"))


def test_reader_resynchronises_after_garbage() -> None:
    reader = FrameReader()
    reader.feed(b"junk\x01junk" + EXAMPLES[0][:30])
    with pytest.raises(FixGarbled):
        reader.next_frame()
    assert reader.next_frame() is None
    reader.feed(EXAMPLES[0][30:] + EXAMPLES[1])
    frames = [reader.next_frame(), reader.next_frame(), reader.next_frame()]
    assert frames[0] is not None and frames[0][0] == EXAMPLES[0]
    assert frames[1] is not None and frames[1][0] == EXAMPLES[1]
    assert frames[2] is None


# --- properties -------------------------------------------------------------------------------

_text = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
_price = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("999.9999"), places=4)
_qty = st.integers(min_value=1, max_value=10**6).map(Decimal)
_header = st.builds(Header, sender_comp_id=_text, target_comp_id=_text,
                    msg_seq_num=st.integers(1, 2**31),
                    sending_time=st.integers(0, 4 * 10**12).map(utc_timestamp),
                    poss_dup=st.none() | st.booleans())
_bodies = st.one_of(
    st.builds(NewOrderSingle, cl_ord_id=_text, order_qty=_qty, price=_price,
              side=st.sampled_from(["1", "2"]), symbol=_text,
              time_in_force=st.none() | st.sampled_from(["1", "3", "4"]),
              exec_inst=st.none() | st.sampled_from(["6", "E"]),
              alloc_account=st.none() | st.integers(0, 63),
              cancel_order_on_pause=st.none() | st.booleans()),
    st.builds(ExecutionReport, avg_px=_price, cl_ord_id=_text, cum_qty=_qty, exec_id=_text,
              order_id=_text, order_qty=_qty, ord_status=st.sampled_from(["0", "1", "2", "4"]),
              side=st.sampled_from(["1", "2"]), symbol=_text, transact_time=_text,
              exec_type=st.sampled_from(["0", "F", "4"]), leaves_qty=_qty,
              misc_fees=st.lists(st.builds(MiscFee, amount=_price, currency=st.just("USD")),
                                 max_size=3),
              aggressor=st.none() | st.booleans()),
    st.builds(MarketDataIncrementalRefresh, entries=st.lists(st.builds(
        MDIncEntry, action=st.sampled_from(["0", "1", "2"]), symbol=_text,
        entry_type=st.sampled_from(["0", "1", "2"]), price=_price, size=_qty,
        trade_id=st.none() | _text), max_size=5)),
    st.builds(Logon, heart_bt_int=st.integers(3, 120), reset_seq_num=st.none() | st.booleans(),
              raw_data=st.none() | _text),
)


@given(_header, _bodies)
def test_any_encoded_message_decodes_to_the_same_struct(header: Header, body: object) -> None:
    assert isinstance(body, (NewOrderSingle, ExecutionReport, MarketDataIncrementalRefresh,
                             Logon))
    raw = encode(header, body)
    msg = decode(raw)
    assert msg.header == header and msg.body == body


@given(st.sampled_from(EXAMPLES), st.data())
def test_garbled_input_gives_a_typed_error_never_a_crash(raw: bytes, data: st.DataObject) -> None:
    pos = data.draw(st.integers(0, len(raw) - 1))
    mode = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    if mode == "flip":
        garbled = raw[:pos] + bytes([raw[pos] ^ data.draw(st.integers(1, 255))]) + raw[pos + 1:]
    elif mode == "cut":
        garbled = raw[:pos] + raw[pos + 1:]
    else:
        garbled = raw[:pos] + data.draw(st.binary(min_size=1, max_size=4)) + raw[pos:]
    try:
        decode(garbled)
    except FixError:
        pass
    # a reader fed the garbage then a good message still yields the good one
    reader = FrameReader()
    reader.feed(garbled + raw)
    good = []
    for _ in range(8):
        try:
            got = reader.next_frame()
        except FixGarbled:
            continue
        if got is None:
            break
        good.append(got[0])
    assert good and good[-1] == raw


def test_a_body_length_that_runs_into_the_next_message_does_not_stall_the_reader() -> None:
    """Found by hypothesis: 9=218 garbled to 9=2180 made the reader wait for bytes that
    would never come, and the good message after it was never read."""
    raw = EXAMPLES[0]
    garbled = raw.replace(b"\x019=", b"\x019=9", 1)
    reader = FrameReader()
    reader.feed(garbled + raw)
    with pytest.raises(FixGarbled):
        reader.next_frame()
    got = reader.next_frame()
    assert got is not None and got[0] == raw
