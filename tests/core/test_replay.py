"""The real captures replay with zero errors, and the books match a plain rebuild."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from kalshi_margin_stream.cli.main import main
from kalshi_margin_stream.core.replay import replay_lines

WS = Path(__file__).parents[1] / "data" / "ws"


def plain_books(path: Path) -> dict[str, dict[str, list[list[str]]]]:
    """The protocol rules with dicts and json only: the reference for the replay."""
    books: dict[str, dict[str, dict[Decimal, Decimal]]] = {}
    last_seq: dict[int, int] = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        f = json.loads(line)
        if f["type"] not in ("orderbook_snapshot", "orderbook_delta"):
            continue
        assert f["sid"] not in last_seq or f["seq"] == last_seq[f["sid"]] + 1
        last_seq[f["sid"]] = f["seq"]
        body = f["msg"]
        if f["type"] == "orderbook_snapshot":
            books[body["market_ticker"]] = {
                side: {Decimal(p): Decimal(s) for p, s in body.get(side, []) if Decimal(s) > 0}
                for side in ("bid", "ask")}
        else:
            levels = books[body["market_ticker"]][body["side"]]
            size = levels.get(Decimal(body["price"]), Decimal(0)) + Decimal(body["delta"])
            if size > 0:
                levels[Decimal(body["price"])] = size
            else:
                assert size == 0
                del levels[Decimal(body["price"])]
    return {t: {"bids": [[str(p), str(s)] for p, s in sorted(b["bid"].items(), reverse=True)],
                "asks": [[str(p), str(s)] for p, s in sorted(b["ask"].items())]}
            for t, b in books.items()}


@pytest.mark.parametrize("path", sorted(WS.glob("*.jsonl")), ids=lambda p: p.name)
def test_real_capture_replays_cleanly(path: Path) -> None:
    with path.open("rb") as fh:
        report = replay_lines(fh).to_json()
    assert report["errors"] == [] and report["gaps"] == 0 and report["duplicates"] == 0
    assert report["frames"] == sum(1 for line in path.read_text().splitlines() if line.strip())
    assert {t: {k: v for k, v in b.items() if k != "status"}
            for t, b in report["books"].items()} == plain_books(path)
    assert {b["status"] for b in report["books"].values()} <= {"synced"}


def test_public_capture_book_contents() -> None:
    with (WS / "ws__public_orderbook_ticker.jsonl").open("rb") as fh:
        report = replay_lines(fh).to_json()
    book = report["books"]["KXBTCPERP1"]
    assert report["by_type"] == {"orderbook_delta": 151, "orderbook_snapshot": 1,
                                 "subscribed": 3, "ticker": 74, "trade": 16}
    assert book["bids"][0][0] < book["asks"][0][0]
    assert all(len(level) == 2 and "." in level[0] for level in book["bids"] + book["asks"])


def test_replay_reports_gaps_duplicates_and_bad_lines(tmp_path: Path) -> None:
    lines = (WS / "ws__public_orderbook_ticker.jsonl").read_text().splitlines()
    frames = [x for x in lines if x.strip()]
    deltas = [i for i, x in enumerate(frames) if '"type":"orderbook_delta"' in x]
    mangled = list(frames)
    del mangled[deltas[20]]  # drop -> gap
    mangled.insert(deltas[5] + 1, frames[deltas[5]])  # duplicate
    mangled.insert(3, '{"type":"orderbook_delta","sid":99,"seq":"x"}')
    path = tmp_path / "m.jsonl"
    path.write_text("\n\n".join(mangled) + "\n")
    with path.open("rb") as fh:
        report = replay_lines(fh).to_json()
    assert report["duplicates"] == 1 and report["gaps"] == 1
    assert report["errors"][0]["line"] == 7  # blank lines count: frame 4 is on line 7
    assert "$.seq" in report["errors"][0]["reason"]


def test_cli_replay_json(capsys: pytest.CaptureFixture[str]) -> None:
    path = WS / "ws__public_orderbook_ticker.jsonl"
    assert main(["replay", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"frames", "by_type", "gaps", "duplicates", "errors", "books", "files",
                        "truncated", "unreadable_records", "shed_while_recording", "skipped"}
    assert {t: {k: v for k, v in b.items() if k != "status"}
            for t, b in out["books"].items()} == plain_books(path)
    assert main(["replay", str(path)]) == 0
    assert "KXBTCPERP1" in capsys.readouterr().out
    assert main(["replay", str(WS / "missing.jsonl")]) == 2


def test_console_script_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "kalshi_margin_stream.cli.main", "replay",
                          str(WS / "ws__private_lifecycle.jsonl"), "--json"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout)["by_type"]["user_order"] == 12


def test_the_passive_session_adopts_subscriptions_it_sees_announced() -> None:
    from kalshi_margin_stream.core import events as ev
    from kalshi_margin_stream.core.replay import PassiveSession

    s = PassiveSession()
    (event,) = s.receive_frame(b'{"type":"subscribed","id":7,'
                               b'"msg":{"channel":"orderbook_delta","sid":4}}')
    assert event == ev.ChannelSubscribed("orderbook_delta", 4)
    ch = s.channel("orderbook_delta")
    assert ch is not None and ch.sid == 4 and s.data_to_send() == []
    s.receive_frame(b'{"type":"orderbook_delta","sid":4,"seq":1,"msg":{"market_ticker":"A",'
                    b'"price":"1.0000","delta":"1.00","side":"bid"}}')
    assert s.stats.orphans == 0 and s.stats.resyncs == 0  # no snapshot yet: skipped, quiet
