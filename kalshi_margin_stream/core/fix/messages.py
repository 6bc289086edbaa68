"""Typed FIX messages of the Kalshi margin gateway (fix.md §3-§10), and their codec.

Each message is a frozen msgspec Struct whose fields are *named by their tag*
(``msgspec.field(name="11")``), declared in the order Kalshi writes them, so one
generic encoder/decoder serves every type and ``encode(decode(b)) == b`` for the
documented messages. Prices, amounts and quantities are :class:`~decimal.Decimal`
(never float) and keep their wire text (``"10.00"`` stays ``"10.00"``); UTC
timestamps stay ``str`` because the Logon signature covers their exact bytes
(:func:`utc_timestamp` / :func:`parse_utc_timestamp` convert). Y/N flags are
``bool | None`` so an explicit ``N`` survives a round trip. Repeating groups are
lists of small Structs whose first field is the group's delimiter tag.

Unknown tags are skipped on decode (Kalshi adds fields over time); a missing
required tag, a bad value or a broken group raises :class:`FixFieldError` with the
SessionRejectReason to answer with.

The module is long (~670 lines) because it is the tag table: one Struct per message type of
fix.md, next to the one generic codec that reads their tags; split apart, a tag
and the code that writes it would live in different files.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

import msgspec

from .codec import Fields, frame_body, split_fields
from .errors import FixFieldError, RejectReason

__all__ = [
    "MESSAGE_TYPES", "BusinessMessageReject", "CollateralChange", "EventResendComplete",
    "EventResendReject", "EventResendRequest", "ExecutionReport", "FixBody", "FixMessage",
    "Header", "Heartbeat", "Logon", "Logout", "MDEntry", "MDIncEntry",
    "MarketDataIncrementalRefresh", "MarketDataRequest", "MarketDataRequestReject",
    "MarketDataSnapshotFullRefresh", "MiscFee", "NewOrderSingle", "OrderCancelReject",
    "OrderCancelReplaceRequest", "OrderCancelRequest", "OrderGroupRequest",
    "OrderGroupResponse", "OrderMassCancelReport", "OrderMassCancelRequest", "Party",
    "Reject", "RelatedSym", "ResendRequest", "SequenceReset", "TestRequest", "decode",
    "decode_fields", "encode", "parse_utc_timestamp", "utc_timestamp",
]


def _t(tag: int, default: Any = msgspec.NODEFAULT) -> Any:
    if isinstance(default, list):
        return msgspec.field(name=str(tag), default_factory=list)
    return msgspec.field(name=str(tag), default=default)


class _Struct(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    pass


# --- header -------------------------------------------------------------------------


class Header(_Struct, frozen=True, kw_only=True):
    """Standard header after 8/9/35 (fix.md §2.2)."""

    sender_comp_id: str = _t(49)
    target_comp_id: str = _t(56)
    msg_seq_num: int = _t(34)
    sending_time: str = _t(52)
    sender_sub_id: str | None = _t(50, None)
    poss_dup: bool | None = _t(43, None)
    poss_resend: bool | None = _t(97, None)
    orig_sending_time: str | None = _t(122, None)


class FixBody(_Struct, frozen=True, kw_only=True):
    """Base of every message body; ``MSG_TYPE`` is tag 35."""

    MSG_TYPE: ClassVar[str] = ""
    ADMIN: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class FixMessage:
    """One decoded message: its header and its typed body."""

    header: Header
    body: FixBody

    @property
    def seq(self) -> int:
        return self.header.msg_seq_num


# --- repeating-group entries ------------------------------------------------------------


class Party(_Struct, frozen=True, kw_only=True):
    party_id: str = _t(448)
    party_role: int | None = _t(452, None)


class MiscFee(_Struct, frozen=True, kw_only=True):
    amount: Decimal = _t(137)
    currency: str | None = _t(138, None)
    fee_type: str | None = _t(139, None)
    basis: int | None = _t(891, None)


class CollateralChange(_Struct, frozen=True, kw_only=True):
    amount: Decimal = _t(1704)
    kind: str | None = _t(1705, None)


class RelatedSym(_Struct, frozen=True, kw_only=True):
    symbol: str = _t(55)


class MDEntry(_Struct, frozen=True, kw_only=True):
    """A 35=W level: 269 ``0`` bid / ``1`` offer."""

    entry_type: Literal["0", "1", "2"] = _t(269)
    price: Decimal | None = _t(270, None)
    size: Decimal | None = _t(271, None)
    date: str | None = _t(272, None)
    time: str | None = _t(273, None)


class MDIncEntry(_Struct, frozen=True, kw_only=True):
    """A 35=X entry: a level's new absolute size (269 0/1) or a trade (269 2)."""

    action: Literal["0", "1", "2"] = _t(279)
    symbol: str | None = _t(55, None)
    entry_type: Literal["0", "1", "2"] = _t(269)
    price: Decimal | None = _t(270, None)
    size: Decimal | None = _t(271, None)
    date: str | None = _t(272, None)
    time: str | None = _t(273, None)
    aggressor_side: Literal["1", "2"] | None = _t(2446, None)
    trade_type: str | None = _t(828, None)
    trade_id: str | None = _t(1003, None)
    cl_ord_id: str | None = _t(11, None)
    alloc_account: str | None = _t(79, None)


# --- session (admin) messages -------------------------------------------------------------


class Logon(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "A"
    ADMIN = True
    encrypt_method: int = _t(98, 0)
    heart_bt_int: int | None = _t(108, None)
    reset_seq_num: bool | None = _t(141, None)
    cancel_orders_on_disconnect: bool | None = _t(8013, None)
    raw_data_length: int | None = _t(95, None)
    raw_data: str | None = _t(96, None)
    default_appl_ver_id: str = _t(1137, "9")
    listener_session: bool | None = _t(20126, None)
    message_retention_period: int | None = _t(20200, None)
    use_dollars: bool | None = _t(21005, None)
    skip_pending_exec_reports: bool | None = _t(21011, None)
    use_expired_ord_status: bool | None = _t(21012, None)
    enable_ioc_cancel_report: bool | None = _t(21007, None)
    preserve_original_order_qty: bool | None = _t(21008, None)


class Heartbeat(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "0"
    ADMIN = True
    test_req_id: str | None = _t(112, None)


class TestRequest(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "1"
    ADMIN = True
    test_req_id: str = _t(112)


class ResendRequest(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "2"
    ADMIN = True
    begin_seq_no: int = _t(7)
    end_seq_no: int = _t(16)


class Reject(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "3"
    ADMIN = True
    ref_seq_num: int = _t(45)
    text: str | None = _t(58, None)
    ref_tag_id: int | None = _t(371, None)
    ref_msg_type: str | None = _t(372, None)
    session_reject_reason: int | None = _t(373, None)


class SequenceReset(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "4"
    ADMIN = True
    gap_fill: bool | None = _t(123, None)
    new_seq_no: int = _t(36)


class Logout(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "5"
    ADMIN = True
    text: str | None = _t(58, None)


# --- order entry -----------------------------------------------------------------------------

SideCode = Literal["1", "2"]
TifCode = Literal["0", "1", "3", "4", "6"]


class NewOrderSingle(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "D"
    cl_ord_id: str = _t(11)
    exec_inst: str | None = _t(18, None)
    order_qty: Decimal = _t(38)
    ord_type: Literal["2"] = _t(40, "2")
    price: Decimal = _t(44)
    side: SideCode = _t(54)
    symbol: str = _t(55)
    time_in_force: TifCode | None = _t(59, None)
    expire_time: str | None = _t(126, None)
    order_group_id: str | None = _t(526, None)
    alloc_account: int | None = _t(79, None)
    parties: list[Party] = _t(453, [])
    self_trade_prevention: Literal["1", "2"] | None = _t(2964, None)
    cancel_order_on_pause: bool | None = _t(21006, None)


class OrderCancelReplaceRequest(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "G"
    cl_ord_id: str = _t(11)
    order_id: str | None = _t(37, None)
    order_qty: Decimal = _t(38)
    ord_type: Literal["2"] = _t(40, "2")
    orig_cl_ord_id: str = _t(41)
    price: Decimal | None = _t(44, None)
    side: SideCode = _t(54)
    symbol: str = _t(55)
    time_in_force: TifCode | None = _t(59, None)
    expire_time: str | None = _t(126, None)
    alloc_account: int | None = _t(79, None)


class OrderCancelRequest(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "F"
    cl_ord_id: str = _t(11)
    order_id: str | None = _t(37, None)
    orig_cl_ord_id: str = _t(41)
    side: SideCode = _t(54)
    symbol: str = _t(55)
    alloc_account: int | None = _t(79, None)


ExecTypeCode = Literal["0", "F", "4", "5", "8", "C", "A", "6", "E"]
OrdStatusCode = Literal["0", "1", "2", "4", "5", "6", "8", "A", "C", "E"]


class ExecutionReport(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "8"
    avg_px: Decimal = _t(6)
    cl_ord_id: str = _t(11)
    cum_qty: Decimal = _t(14)
    exec_id: str = _t(17)
    last_mkt: str | None = _t(30, None)
    last_px: Decimal | None = _t(31, None)
    last_qty: Decimal | None = _t(32, None)
    order_id: str = _t(37)
    order_qty: Decimal = _t(38)
    ord_status: OrdStatusCode = _t(39)
    orig_cl_ord_id: str | None = _t(41, None)
    price: Decimal | None = _t(44, None)
    side: SideCode = _t(54)
    symbol: str = _t(55)
    text: str | None = _t(58, None)
    time_in_force: TifCode | None = _t(59, None)
    transact_time: str = _t(60)
    ord_rej_reason: int | None = _t(103, None)
    expire_time: str | None = _t(126, None)
    exec_type: ExecTypeCode = _t(150)
    leaves_qty: Decimal = _t(151)
    alloc_account: int | None = _t(79, None)
    order_group_id: str | None = _t(526, None)
    parties: list[Party] = _t(453, [])
    long_qty: Decimal | None = _t(704, None)
    short_qty: Decimal | None = _t(705, None)
    misc_fees: list[MiscFee] = _t(136, [])
    trd_match_id: str | None = _t(880, None)
    aggressor: bool | None = _t(1057, None)
    collateral_changes: list[CollateralChange] = _t(1703, [])
    clearing_business_date: str | None = _t(715, None)


class OrderCancelReject(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "9"
    cl_ord_id: str = _t(11)
    order_id: str | None = _t(37, None)
    ord_status: OrdStatusCode | None = _t(39, None)
    orig_cl_ord_id: str | None = _t(41, None)
    text: str | None = _t(58, None)
    cxl_rej_reason: int | None = _t(102, None)
    cxl_rej_response_to: Literal["1", "2"] | None = _t(434, None)


class OrderMassCancelRequest(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "q"
    cl_ord_id: str = _t(11)
    mass_cancel_request_type: str = _t(530, "6")


class OrderMassCancelReport(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "r"
    cl_ord_id: str = _t(11)
    order_id: str | None = _t(37, None)
    mass_cancel_response: str = _t(531)
    mass_cancel_reject_reason: int | None = _t(532, None)
    text: str | None = _t(58, None)


class OrderGroupRequest(FixBody, frozen=True, kw_only=True):
    """35=UOG; ``action`` 1 create · 2 reset · 3 delete · 4 trigger · 5 update."""

    MSG_TYPE = "UOG"
    action: Literal["1", "2", "3", "4", "5"] = _t(20131)
    order_group_id: str | None = _t(20130, None)
    contracts_limit: Decimal | None = _t(20132, None)


class OrderGroupResponse(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "UOH"
    order_group_id: str = _t(20130)
    contracts_limit: Decimal | None = _t(20132, None)


class BusinessMessageReject(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "j"
    ref_seq_num: int | None = _t(45, None)
    text: str | None = _t(58, None)
    ref_msg_type: str = _t(372)
    ref_id: str | None = _t(379, None)
    reason: int = _t(380)


# --- drop copy ------------------------------------------------------------------------------


class EventResendRequest(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "U1"
    begin_exec_id: str = _t(21001)
    end_exec_id: str | None = _t(21002, None)


class EventResendComplete(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "U2"
    ref_seq_num: int = _t(45)
    count: int = _t(21003)


class EventResendReject(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "U3"
    ref_seq_num: int = _t(45)
    reason: int = _t(21004)
    text: str | None = _t(58, None)


# --- market data ----------------------------------------------------------------------------


class MarketDataRequest(FixBody, frozen=True, kw_only=True):
    """``subscription`` 0 snapshot · 1 snapshot + updates · 2 unsubscribe."""

    MSG_TYPE = "V"
    subscription: Literal["0", "1", "2"] = _t(263)
    symbols: list[RelatedSym] = _t(146, [])


class MarketDataSnapshotFullRefresh(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "W"
    symbol: str = _t(55)
    entries: list[MDEntry] = _t(268, [])


class MarketDataIncrementalRefresh(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "X"
    entries: list[MDIncEntry] = _t(268, [])


class MarketDataRequestReject(FixBody, frozen=True, kw_only=True):
    MSG_TYPE = "Y"
    reason: int | None = _t(281, None)
    text: str | None = _t(58, None)


MESSAGE_TYPES: dict[str, type[FixBody]] = {
    cls.MSG_TYPE: cls for cls in (
        Logon, Heartbeat, TestRequest, ResendRequest, Reject, SequenceReset, Logout,
        NewOrderSingle, OrderCancelReplaceRequest, OrderCancelRequest, ExecutionReport,
        OrderCancelReject, OrderMassCancelRequest, OrderMassCancelReport, OrderGroupRequest,
        OrderGroupResponse, BusinessMessageReject, EventResendRequest, EventResendComplete,
        EventResendReject, MarketDataRequest, MarketDataSnapshotFullRefresh,
        MarketDataIncrementalRefresh, MarketDataRequestReject)
}


# --- timestamps -----------------------------------------------------------------------------


def utc_timestamp(ms: int) -> str:
    """``YYYYMMDD-HH:MM:SS.sss`` (UTC) for Unix milliseconds."""
    dt = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{dt:%Y%m%d-%H:%M:%S}.{ms % 1000:03d}"


def parse_utc_timestamp(text: str) -> int:
    """Unix ms of a UTCTimestamp, with or without fractional seconds.

    Raises:
        ValueError: not ``YYYYMMDD-HH:MM:SS[.fff...]``.
    """
    main, dot, frac = text.partition(".")
    dt = datetime.strptime(main, "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    if dot and not (frac.isdigit() and len(frac) <= 9):
        raise ValueError(f"bad fractional seconds in {text!r}")
    ms = int((frac + "000")[:3]) if dot else 0
    return int(dt.timestamp()) * 1000 + ms


# --- the generic codec ----------------------------------------------------------------------

_STR, _INT, _DEC, _BOOL, _LIT, _GROUP = range(6)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    tag: int
    kind: int
    required: bool
    choices: frozenset[str] = frozenset()
    group: _Plan | None = None


@dataclass(frozen=True, slots=True)
class _Plan:
    cls: type[msgspec.Struct]
    fields: tuple[_Field, ...]
    by_tag: dict[int, _Field]


def _kind(tp: Any) -> tuple[int, frozenset[str], type[msgspec.Struct] | None]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _kind(inner[0])
    if origin is Literal:
        return _LIT, frozenset(typing.get_args(tp)), None
    if origin is list:
        (item,) = typing.get_args(tp)
        return _GROUP, frozenset(), item
    return {str: _STR, int: _INT, Decimal: _DEC, bool: _BOOL}[tp], frozenset(), None


_PLANS: dict[type[msgspec.Struct], _Plan] = {}


def _plan(cls: type[msgspec.Struct]) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    out = []
    for f in msgspec.structs.fields(cls):
        kind, choices, item = _kind(f.type)
        required = f.default is msgspec.NODEFAULT and f.default_factory is msgspec.NODEFAULT
        out.append(_Field(f.name, int(f.encode_name), kind, required, choices,
                          _plan(item) if item is not None else None))
    plan = _Plan(cls, tuple(out), {f.tag: f for f in out})
    _PLANS[cls] = plan
    return plan


def _encode_struct(plan: _Plan, obj: msgspec.Struct, out: list[str]) -> None:
    """Append ``tag=value SOH`` strings for every field that is set, in declared order."""
    for f in plan.fields:
        value = getattr(obj, f.name)
        if value is None:
            continue
        kind = f.kind
        if kind == _STR:
            if "\x01" in value:
                raise ValueError(f"tag {f.tag}: a FIX value cannot contain SOH")
            out.append(f"{f.tag}={value}\x01")
        elif kind == _DEC:
            out.append(f"{f.tag}={value:f}\x01")
        elif kind == _BOOL:
            out.append(f"{f.tag}={'Y' if value else 'N'}\x01")
        elif kind == _GROUP:
            if value:
                assert f.group is not None
                out.append(f"{f.tag}={len(value)}\x01")
                for entry in value:
                    _encode_struct(f.group, entry, out)
        else:
            out.append(f"{f.tag}={value}\x01")


_HEADER = _plan(Header)
_HEADER_TAGS = frozenset(_HEADER.by_tag)


def encode(header: Header, body: FixBody) -> bytes:
    """The complete message (8, 9, 35, header, body, 10)."""
    parts = [f"35={body.MSG_TYPE}\x01"]
    _encode_struct(_HEADER, header, parts)
    _encode_struct(_plan(type(body)), body, parts)
    return frame_body("".join(parts))


_DECIMAL_TEXT = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
"""FIX Price/Qty/Amt: digits, one optional point, optional minus (no exponent, no NaN)."""


def _convert(f: _Field, value: str, msg_type: str) -> Any:
    kind = f.kind
    if kind == _STR:
        return value
    if kind == _DEC:
        if _DECIMAL_TEXT.fullmatch(value):
            return Decimal(value)
    elif kind == _INT:
        digits = value[1:] if value[:1] == "-" else value
        if digits.isdigit() and digits.isascii():
            return int(value)
    elif kind == _BOOL:
        if value == "Y":
            return True
        if value == "N":
            return False
    elif value in f.choices:
        return value
    reason = RejectReason.INCORRECT_VALUE if kind in (_BOOL, _LIT) \
        else RejectReason.INCORRECT_FORMAT
    raise FixFieldError(f"tag {f.tag}: bad value {value[:40]!r}", reason=reason, tag=f.tag,
                        msg_type=msg_type)


def _missing(plan: _Plan, values: dict[str, Any], msg_type: str) -> None:
    for f in plan.fields:
        if f.required and f.name not in values:
            raise FixFieldError(f"required tag {f.tag} missing",
                                reason=RejectReason.REQUIRED_TAG_MISSING, tag=f.tag,
                                msg_type=msg_type)


def _decode_group(f: _Field, count_text: str, fields: Fields, i: int,
                  msg_type: str) -> tuple[list[Any], int]:
    group = f.group
    assert group is not None
    if not count_text.isdigit():
        raise FixFieldError(f"tag {f.tag}: bad group count {count_text[:20]!r}",
                            reason=RejectReason.INCORRECT_FORMAT, tag=f.tag, msg_type=msg_type)
    count = int(count_text)
    delimiter = group.fields[0].tag
    entries: list[Any] = []
    current: dict[str, Any] | None = None
    while i < len(fields):
        tag, value = fields[i]
        gf = group.by_tag.get(tag)
        if gf is None:
            break
        if tag == delimiter:
            if current is not None:
                _missing(group, current, msg_type)
                entries.append(group.cls(**current))
            current = {}
        elif current is None or gf.name in current:
            raise FixFieldError(f"group {f.tag}: entry does not start with tag {delimiter}",
                                reason=RejectReason.INCORRECT_VALUE, tag=tag, msg_type=msg_type)
        current[gf.name] = _convert(gf, value, msg_type)
        i += 1
    if current is not None:
        _missing(group, current, msg_type)
        entries.append(group.cls(**current))
    if len(entries) != count:
        raise FixFieldError(f"group {f.tag}: {count} entries announced, {len(entries)} found",
                            reason=RejectReason.INCORRECT_VALUE, tag=f.tag, msg_type=msg_type)
    return entries, i


def _decode_struct(plan: _Plan, fields: Fields, msg_type: str,
                   header: dict[str, Any] | None = None) -> Any:
    """``plan.cls`` from ``fields``; header tags go to ``header`` when it is given."""
    values: dict[str, Any] = {}
    by_tag = plan.by_tag
    head_tags = _HEADER.by_tag if header is not None else None
    i, n = 0, len(fields)
    while i < n:
        tag, value = fields[i]
        i += 1
        f = by_tag.get(tag)
        target = values
        if f is None:
            if head_tags is None:
                continue  # unknown tags are tolerated
            f = head_tags.get(tag)
            if f is None:
                continue
            assert header is not None
            target = header
        name = f.name
        if name in target:
            raise FixFieldError(f"tag {tag} appears twice", reason=RejectReason.INCORRECT_VALUE,
                                tag=tag, msg_type=msg_type)
        kind = f.kind
        if kind == _STR:
            target[name] = value
        elif kind == _GROUP:
            target[name], i = _decode_group(f, value, fields, i, msg_type)
        else:
            target[name] = _convert(f, value, msg_type)
    _missing(plan, values, msg_type)
    return plan.cls(**values)


def decode_fields(fields: Fields) -> FixMessage:
    """A message from its body fields (``35`` first, as :class:`FrameReader` gives them).

    Raises:
        FixFieldError: unknown MsgType, missing/duplicate/malformed tags, broken groups.
    """
    if not fields or fields[0][0] != 35:
        raise FixFieldError("MsgType (35) must come first",
                            reason=RejectReason.REQUIRED_TAG_MISSING, tag=35)
    msg_type = fields[0][1]
    head: dict[str, Any] = {}
    try:
        cls = MESSAGE_TYPES.get(msg_type)
        if cls is None:
            raise FixFieldError(f"unsupported MsgType {msg_type[:8]!r}",
                                reason=RejectReason.INVALID_MSGTYPE, tag=35, msg_type=msg_type)
        body = _decode_struct(_plan(cls), fields[1:], msg_type, head)
        _missing(_HEADER, head, msg_type)
        header = Header(**head)
    except FixFieldError as exc:
        exc.seq = next((int(v) for t, v in fields if t == 34 and v.isdigit() and v.isascii()),
                       None)
        exc.msg_type = msg_type
        raise
    return FixMessage(header, body)


def decode(message: bytes) -> FixMessage:
    """Decode one whole framed message (checks BodyLength and CheckSum).

    Raises:
        FixGarbled: bad framing. FixFieldError: bad content.
    """
    from .codec import FrameReader  # local: the reader is the only framing check

    reader = FrameReader()
    reader.feed(message)
    got = reader.next_frame()
    if got is None or reader.buffered:
        from .errors import FixGarbled
        raise FixGarbled("not exactly one complete message")
    return decode_fields(split_fields(got[1]))
