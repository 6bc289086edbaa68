"""The sequence tracker reports a gap exactly when a seq is missing or goes backwards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kalshi_margin_stream.core.sequencing import ACCEPT, DUPLICATE, GAP, SeqTracker


@st.composite
def delivered(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A contiguous stream from ``start`` with drops, duplicates and swaps applied."""
    start = draw(st.integers(1, 5))
    n = draw(st.integers(1, 40))
    out: list[int] = []
    for seq in range(start, start + n):
        if draw(st.integers(0, 9)) == 0:
            continue  # dropped
        out.append(seq)
        if draw(st.integers(0, 9)) == 0:
            out.append(seq)  # duplicated
    for _ in range(draw(st.integers(0, 3))):  # adjacent swaps
        if len(out) > 1:
            i = draw(st.integers(0, len(out) - 2))
            out[i], out[i + 1] = out[i + 1], out[i]
    return start, out


@given(delivered())
def test_verdicts_match_a_plain_model(case: tuple[int, list[int]]) -> None:
    _, stream = case
    tracker = SeqTracker()
    last: int | None = None
    for seq in stream:
        verdict = tracker.check(7, seq)
        if last is None or seq == last + 1:
            assert verdict == ACCEPT
            last = seq
        elif seq == last:
            assert verdict == DUPLICATE
        else:
            assert verdict == GAP
            assert tracker.gap_expected == last + 1
            last = seq
        assert tracker.last(7) == last


@given(delivered())
def test_no_gap_reported_iff_nothing_missing_or_reordered(case: tuple[int, list[int]]) -> None:
    _, stream = case
    tracker = SeqTracker()
    verdicts = [tracker.check(1, s) for s in stream]
    deduped = [s for i, s in enumerate(stream) if i == 0 or s != stream[i - 1]]
    contiguous = all(b == a + 1 for a, b in zip(deduped, deduped[1:], strict=False))
    assert (GAP not in verdicts) == contiguous
    assert verdicts.count(DUPLICATE) == len(stream) - len(deduped)


def test_sids_are_independent_and_rebase_forget_reset() -> None:
    t = SeqTracker()
    assert t.expected(1) is None
    assert [t.check(1, 5), t.check(2, 1), t.check(1, 6), t.check(2, 2)] == [ACCEPT] * 4
    assert t.expected(1) == 7
    t.rebase(1, 100)
    assert t.check(1, 101) == ACCEPT
    t.forget(1)
    assert t.check(1, 3) == ACCEPT  # new baseline
    t.reset()
    assert t.last(2) is None
