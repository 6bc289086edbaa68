"""The end-to-end benchmark's sender: a bare WebSocket server on 127.0.0.1 in its own process.

No WebSocket library on this side, so the sender is never the bottleneck: it
does the HTTP upgrade by hand, answers ``subscribe`` commands with
``subscribed`` acks (sids from ``generate_data.SIDS``), and once every channel of
the stream is subscribed, writes pre-built unmasked text frames:

* ``throughput``: the whole stream, pre-framed and joined into large chunks,
  written as fast as the socket takes them;
* ``rate``: paced at ``--rate`` messages a second, one batch per asyncio timer
  tick (about 1 ms), or with ``--pacing fine`` in batches of a frame or two
  (``time.sleep`` pacing on a blocking socket); each frame's
  ``sending_ts_ms`` placeholder is overwritten, just before the write, with
  ``SEND_TS_OFFSET + time.monotonic_ns()``. CLOCK_MONOTONIC is one clock for every
  process on a Linux machine (unlike the wall clock, NTP cannot step it), so the
  receiver's ``monotonic_ns()`` minus that stamp is the send-to-consumer latency.

It answers pings and close frames, serves connections one after the other, and
exits when its stdin closes (the parent owns it). It listens on loopback only.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import base64
import hashlib
import json
import os
import socket
import struct
import time
from collections.abc import Sequence

from benchmarks.generate_data import SEND_TS_OFFSET, SEND_TS_PLACEHOLDER, SIDS, frames

__all__ = ["frame_header", "main", "parse_client_frames"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CHUNK = 256 * 1024


def frame_header(length: int, opcode: int = 0x1) -> bytes:
    """Header of one unmasked, final server frame (RFC 6455 section 5.2)."""
    if length < 126:
        return struct.pack("!BB", 0x80 | opcode, length)
    if length < 1 << 16:
        return struct.pack("!BBH", 0x80 | opcode, 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, 127, length)


def parse_client_frames(buf: bytearray) -> list[tuple[int, bytes]]:
    """Pop every complete (masked) client frame from ``buf``: ``(opcode, payload)``."""
    out = []
    while len(buf) >= 2:
        b1, b2 = buf[0], buf[1]
        length, pos = b2 & 0x7F, 2
        if length == 126:
            if len(buf) < 4:
                break
            length, pos = struct.unpack_from("!H", buf, 2)[0], 4
        elif length == 127:
            if len(buf) < 10:
                break
            length, pos = struct.unpack_from("!Q", buf, 2)[0], 10
        masked = b2 & 0x80
        need = pos + (4 if masked else 0) + length
        if len(buf) < need:
            break
        if masked:
            mask = bytes(buf[pos:pos + 4])
            data = bytes(buf[pos + 4:need])
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        else:
            payload = bytes(buf[pos:need])
        out.append((b1 & 0x0F, payload))
        del buf[:need]
    return out


class Sender:
    """Serves the stream to each connection in turn."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        raw = frames(args.count, seed=args.seed, send_ts=True)
        self.needed = set(SIDS)
        self.count = len(raw)
        if args.mode == "throughput":
            framed = [frame_header(len(f)) + f for f in raw]
            self.chunks: list[bytes] = []
            cur: list[bytes] = []
            size = 0
            for f in framed:
                cur.append(f)
                size += len(f)
                if size >= _CHUNK:
                    self.chunks.append(b"".join(cur))
                    cur, size = [], 0
            if cur:
                self.chunks.append(b"".join(cur))
        else:
            # (header + text before the stamp, text after it): the stamp is 19 digits.
            self.parts = []
            for f in raw:
                i = f.index(SEND_TS_PLACEHOLDER)
                self.parts.append((frame_header(len(f)) + f[:i], f[i + len(SEND_TS_PLACEHOLDER):]))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        key = b""
        for line in request.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        ready = asyncio.Event()
        closed = asyncio.Event()
        control = asyncio.create_task(self._control(reader, writer, ready, closed))
        try:
            await asyncio.wait_for(ready.wait(), 30)
            if self.args.mode == "throughput":
                for chunk in self.chunks:
                    writer.write(chunk)
                    await writer.drain()
            else:
                await self._paced(writer)
            await closed.wait()  # the receiver closes once it has counted everything
        finally:
            control.cancel()
            await asyncio.gather(control, return_exceptions=True)

    async def _paced(self, writer: asyncio.StreamWriter) -> None:
        """Write the stream at ``--rate``: one batch per asyncio timer tick (~1 ms)."""
        if self.args.pacing == "fine":
            return await self._paced_fine(writer)
        rate, parts, n = self.args.rate, self.parts, len(self.parts)
        clock = time.monotonic_ns
        sent = 0
        t0 = clock()
        while sent < n:
            due = min(n, int((clock() - t0) * rate / 1e9) + 1)
            if due > sent:
                stamp = b"%d" % (SEND_TS_OFFSET + clock())
                writer.write(b"".join(p + stamp + q for p, q in parts[sent:due]))
                sent = due
                await writer.drain()
            await asyncio.sleep(0.0002)

    async def _paced_fine(self, writer: asyncio.StreamWriter) -> None:
        """``--pacing fine``: batches as small as ``time.sleep`` allows (tens of µs).

        asyncio's timers tick in whole milliseconds, so this blocks the sender's
        event loop (it serves nothing else meanwhile) and paces a blocking
        duplicate of the socket; the asyncio transport's buffer is empty first,
        and the socket is made non-blocking again after.
        """
        await writer.drain()
        transport = writer.transport
        while transport.get_write_buffer_size():
            await asyncio.sleep(0.001)
        sock = transport.get_extra_info("socket")
        dup = socket.socket(fileno=os.dup(sock.fileno()))
        dup.setblocking(True)  # shared by both descriptors: undone below
        try:
            self._paced_blocking(dup)
        except OSError:
            pass  # the receiver went away
        finally:
            dup.setblocking(False)
            dup.close()

    def _paced_blocking(self, sock: socket.socket) -> None:
        rate, parts, n = self.args.rate, self.parts, len(self.parts)
        clock = time.monotonic_ns
        step = 1e9 / rate
        sent = 0
        t0 = clock()
        while sent < n:
            now = clock()
            due = min(n, int((now - t0) / step) + 1)
            if due > sent:
                stamp = b"%d" % (SEND_TS_OFFSET + clock())
                sock.sendall(b"".join(p + stamp + q for p, q in parts[sent:due]))
                sent = due
            else:
                time.sleep(max(0.0, (t0 + sent * step - now) / 1e9))

    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       ready: asyncio.Event, closed: asyncio.Event) -> None:
        buf = bytearray()
        subscribed: set[str] = set()
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                buf += data
                for opcode, payload in parse_client_frames(buf):
                    if opcode == 0x8:  # close: echo it and stop
                        writer.write(frame_header(len(payload), 0x8) + payload)
                        return
                    if opcode == 0x9:  # ping
                        writer.write(frame_header(len(payload), 0xA) + payload)
                    elif opcode == 0x1:
                        for reply in self._command(payload, subscribed):
                            writer.write(frame_header(len(reply)) + reply)
                        if self.needed <= subscribed:
                            ready.set()
        finally:
            closed.set()

    @staticmethod
    def _command(payload: bytes, subscribed: set[str]) -> list[bytes]:
        try:
            cmd = json.loads(payload)
        except ValueError:
            return []
        cid = cmd.get("id")
        params = cmd.get("params") or {}
        if cmd.get("cmd") == "subscribe":
            out = []
            for ch in params.get("channels", []):
                if ch in SIDS:
                    subscribed.add(ch)
                    out.append(json.dumps({"type": "subscribed", "id": cid,
                                           "msg": {"channel": ch, "sid": SIDS[ch]}},
                                          separators=(",", ":")).encode())
            return out
        if cmd.get("cmd") == "unsubscribe":
            return [json.dumps({"type": "unsubscribed", "id": cid, "sid": s}).encode()
                    for s in params.get("sids", [])]
        return [json.dumps({"type": "ok", "id": cid}).encode()]


async def _main(args: argparse.Namespace) -> None:
    sender = Sender(args)
    server = await asyncio.start_server(sender.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port, "frames": sender.count}), flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 4096):
            stop.set()

    loop.add_reader(sys.stdin.fileno(), on_stdin)
    async with server:
        await stop.wait()
    loop.remove_reader(sys.stdin.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="loopback WebSocket sender for bench_e2e")
    p.add_argument("--mode", choices=("throughput", "rate"), default="throughput")
    p.add_argument("--count", type=int, default=100_000)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--pacing", choices=("tick", "fine"), default="tick")
    asyncio.run(_main(p.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
