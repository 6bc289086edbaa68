"""Record what a live client receives, for an exact replay later.

Run: .venv/bin/python examples/record_session.py [OUT_DIR] [--seconds 5]
Against Kalshi: Client(Credentials.from_env(), env="demo", recorder=Recorder(out)).
The command-line equivalent is ``kalshi-margin-stream record``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile

from kalshi_margin_stream import Books, Client, Trades
from kalshi_margin_stream.recording import Recorder
from kalshi_margin_stream.sim import Simulator

MARKETS = ("KXBTCPERP", "KXETHPERP")


async def main(out: str, seconds: float) -> None:
    async with Simulator(markets=list(MARKETS), rate=300) as sim:
        assert sim.credentials is not None
        recorder = Recorder(out, compress="gzip", rotate_minutes=60)
        # The client starts the recorder, and flushes and closes it on exit.
        async with Client(sim.credentials, rest_url=sim.rest_url, ws_url=sim.ws_url,
                          recorder=recorder) as client:
            books, trades = client.subscribe(Books(MARKETS)), client.subscribe(Trades(MARKETS))

            async def drain(sub: object) -> None:
                async for _ in sub:  # type: ignore[attr-defined]
                    pass

            tasks = [asyncio.ensure_future(drain(s)) for s in (books, trades)]
            await asyncio.sleep(seconds)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    s = recorder.stats()
    print(json.dumps({"frames": s.frames, "written": s.written, "shed": s.shed,
                      "bytes_disk": s.bytes_disk, "files": [str(f) for f in recorder.files]}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default=None)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    asyncio.run(main(args.out or tempfile.mkdtemp(prefix="kalshi-rec-"), args.seconds))
