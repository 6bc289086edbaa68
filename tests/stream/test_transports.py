"""Each transport against a raw RFC 6455 server: fragments joined, pings answered, close.

The server is a few lines over asyncio streams, so it can send what the
libraries' own servers never would: a text message in three fragments with a
ping between them, and a close frame of its own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from kalshi_margin_stream.exceptions import ConnectionLost
from kalshi_margin_stream.stream.transport import TRANSPORTS, Connection, make_transport

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    assert len(payload) < 126
    return struct.pack("!BB", (0x80 if fin else 0) | opcode, len(payload)) + payload


async def _client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    b1, b2 = await reader.readexactly(2)
    length = b2 & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    mask = await reader.readexactly(4)
    data = await reader.readexactly(length)
    return b1 & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


@asynccontextmanager
async def raw_server(seen: list[tuple[int, bytes]]) -> AsyncIterator[str]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            key = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
                       if line.lower().startswith(b"sec-websocket-key"))
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            writer.write(_frame(0x1, b'{"type":', fin=False))
            writer.write(_frame(0x9, b"are-you-there"))  # a ping between fragments
            writer.write(_frame(0x0, b'"ok",', fin=False))
            writer.write(_frame(0x0, b'"id":1}'))
            writer.write(_frame(0x1, b'{"type":"second"}'))
            await writer.drain()
            seen.append(await _client_frame(reader))  # the pong
            seen.append(await _client_frame(reader))  # the client's text frame
            writer.write(_frame(0x8, struct.pack("!H", 1000)))
            await writer.drain()
            seen.append(await _client_frame(reader))  # the close reply
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("name", TRANSPORTS)
async def test_fragments_pings_and_a_server_close(name: str) -> None:
    seen: list[tuple[int, bytes]] = []
    async with aiohttp.ClientSession() as http, raw_server(seen) as url:
        transport = make_transport(name, session=http,  # type: ignore[arg-type]
                                   connect_timeout=5, ping_interval=None, close_timeout=1,
                                   max_message_size=1 << 20, compression=False)
        conn: Connection = await transport.connect(url, {"X-Test": "1"})
        try:
            async with asyncio.timeout(5):
                first = await conn.recv()
                second = await conn.recv()
                assert (first.encode() if isinstance(first, str) else first) == \
                    b'{"type":"ok","id":1}'
                assert (second.encode() if isinstance(second, str) else second) == \
                    b'{"type":"second"}'
                await conn.send(b'{"cmd":"hello"}')
                with pytest.raises(ConnectionLost):
                    await conn.recv()  # the server's close ends the stream
        finally:
            await conn.close()
    assert seen[0] == (0xA, b"are-you-there")  # the ping was answered with its payload
    assert seen[1] == (0x1, b'{"cmd":"hello"}')
    assert seen[2][0] == 0x8  # and the close was answered
    assert conn.last_ping > 0  # the watchdog counts the server's ping as life


def test_an_unknown_transport_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown transport"):
        make_transport("carrier-pigeon", session=None,  # type: ignore[arg-type]
                       connect_timeout=1, ping_interval=None, close_timeout=1,
                       max_message_size=1, compression=False)


def test_picows_refuses_compression_instead_of_ignoring_it() -> None:
    with pytest.raises(ValueError, match="permessage-deflate"):
        make_transport("picows", session=None, connect_timeout=1, ping_interval=None,
                       close_timeout=1, max_message_size=1, compression=True)


def test_a_missing_library_is_named_with_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from kalshi_margin_stream.stream.transport import transport_missing

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "picows" else real(name, *a))
    assert transport_missing("aiohttp") is None
    assert transport_missing("picows") == (
        "the picows transport needs picows: pip install 'kalshi-margin-stream[fast]'")
    assert "unknown transport" in (transport_missing("smoke-signals") or "")
