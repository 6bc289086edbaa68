"""The simulated exchange as one aiohttp server: REST, WebSocket, admin, background loops.

``async with Simulator(seed=7, markets=["KXBTCPERP"], rate=20) as sim:`` listens on
127.0.0.1 (a free port by default), serves ``sim.rest_url`` and ``sim.ws_url``, and
hands out a generated demo credential (``sim.credentials``). The synthetic flow and
the ticker/clock loop are tasks the simulator owns; leaving the block cancels and
awaits them, closes every connection and the listening socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Literal

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ..core.auth import Credentials, PrivateKey
from .admin import add_routes as add_admin_routes
from .auth import AuthFailure, KeyEntry, authenticate
from .controls import Controls
from .engine import Exchange, ExchangeConfig, SyntheticFlow, default_markets
from .faults import SimStats
from .fix_server import FixAcceptor
from .ratelimit import BASIC_TIER, BucketLimit, RateLimiter, Tier
from .rest_common import API_PREFIX, STATE_KEY, json_response, make_middleware
from .rest_market import add_routes as add_market_routes
from .rest_market_data import add_routes as add_market_data_routes
from .rest_orders import add_routes as add_order_routes
from .rest_portfolio import add_routes as add_portfolio_routes
from .rest_triggers import add_routes as add_trigger_routes
from .session import WsSession
from .state import SimState
from .ws import Connection, WsLimits

__all__ = ["WS_PATH", "Simulator"]

log = logging.getLogger("kalshi_margin_stream.sim")

WS_PATH = "/trade-api/ws/v2/margin"


def _generate_key(kind: Literal["rsa", "ed25519"]) -> PrivateKey:
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Simulator(Controls):
    """A local Kalshi margin exchange speaking the real REST and WebSocket protocol.

    Args:
        seed: seeds the engine's ids and the synthetic flow.
        markets: tickers to list (default: the engine's default board).
        rate: synthetic flow actions per second (0 = no flow).
        host, port: where to listen (port 0 = a free port).
        ticker_interval: seconds between coalesced ticker frames per market (Kalshi: 1).
        ping_interval: seconds between server pings (Kalshi: 10).
        send_queue: data frames queued per connection before error 25.
        market_limit: markets per subscription before error 26 (Kalshi's margin value is
            undocumented; None = no cap).
        tier: rate-limit tier (buckets per key); ``rate_limits=False`` disables them.
        public_key, key_id: register this key for the default user instead of generating
            one (then :attr:`credentials` is None).
        levels: resting price levels per side seeded at start.
        config: full engine configuration (overrides ``markets``).
        fix, fix_tls, fix_port: also serve FIX (KalshiNR/RT/DC/MD, TLS with a generated
            certificate unless ``fix_tls=False``) on its own port (``sim.fix_port``).
    """

    def __init__(self, *, seed: int = 0, markets: Sequence[str] | None = None,
                 rate: float = 20.0, host: str = "127.0.0.1", port: int = 0,
                 ticker_interval: float = 1.0, ping_interval: float = 10.0,
                 send_queue: int = 10_000, market_limit: int | None = None,
                 tier: Tier = BASIC_TIER, rate_limits: bool = True,
                 public_key: bytes | None = None, key_id: str | None = None,
                 levels: int = 150, config: ExchangeConfig | None = None,
                 flow_tick: float = 0.05, fix: bool = False, fix_tls: bool = True,
                 fix_port: int = 0) -> None:
        if rate < 0 or ticker_interval <= 0 or ping_interval <= 0 or flow_tick <= 0:
            raise ValueError("rate must be >= 0 and the intervals > 0")
        self.seed = seed
        self.rate = rate
        self.host = host
        self._port = port
        self._ticker_interval = ticker_interval
        self._flow_tick = flow_tick
        self._limits = WsLimits(send_queue=send_queue, ping_interval=ping_interval,
                                market_limit=market_limit)
        self._config = config or ExchangeConfig(markets=default_markets(markets))
        self._levels = levels
        self._public_key = public_key
        self._key_id = key_id
        self._limiter = RateLimiter(tier=tier, enabled=rate_limits)
        self._flow_gate = asyncio.Event()
        self._flow_gate.set()
        self._rate_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self._credentials: Credentials | None = None
        self._default_user = ""
        self._state_obj: SimState | None = None
        self._flow: SyntheticFlow | None = None
        # FIX acceptor (sim/fix_server.py): off unless fix=True
        self._fix_options = (fix, fix_tls, fix_port)
        self.fix: FixAcceptor | None = None

    # --- lifecycle --------------------------------------------------------------------

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    @property
    def _state(self) -> SimState:
        if self._state_obj is None:
            raise RuntimeError("the simulator is not running (use `async with`)")
        return self._state_obj

    async def start(self) -> None:
        """Build the exchange, listen, and start the background loops."""
        if self._runner is not None:
            raise RuntimeError("already started")
        now = time.time_ns() // 1_000_000
        exchange = Exchange(self._config, seed=self.seed, now_ms=now)
        self._flow = SyntheticFlow(exchange, seed=self.seed, levels=self._levels)
        state = SimState(exchange, limiter=self._limiter)
        self._state_obj = state
        state.apply(self._flow.seed_books(now))
        if self._public_key is not None:
            entry = self.register_key(self._public_key, key_id=self._key_id)
        else:
            self._credentials = self.add_user(key_id=self._key_id)
            entry = state.keys.get(self._credentials.key_id)  # type: ignore[assignment]
        self._key_id = entry.key_id
        self._default_user = entry.user_id
        app = web.Application(middlewares=[make_middleware(state)])
        app[STATE_KEY] = state
        add_market_data_routes(app, API_PREFIX)
        add_market_routes(app, API_PREFIX)
        add_order_routes(app, API_PREFIX)
        add_portfolio_routes(app, API_PREFIX)
        add_trigger_routes(app, API_PREFIX)
        add_admin_routes(app, self, state)
        app.router.add_get(WS_PATH, self._ws_handler)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.25)
        await runner.setup()
        self._runner = runner
        try:
            site = web.TCPSite(runner, self.host, self._port)
            await site.start()
            server = site._server  # noqa: SLF001 - aiohttp exposes no public getter
            assert isinstance(server, asyncio.Server)
            self._port = server.sockets[0].getsockname()[1]
        except BaseException:
            await self.aclose()
            raise
        if self._fix_options[0]:
            try:
                self.fix = FixAcceptor(state, host=self.host, port=self._fix_options[2],
                                       tls=self._fix_options[1])
                await self.fix.start()
            except BaseException:
                await self.aclose()
                raise
        self._tasks.append(asyncio.create_task(self._flow_loop(), name="sim-flow"))
        self._tasks.append(asyncio.create_task(self._ticker_loop(), name="sim-ticker"))

    async def aclose(self) -> None:
        """Stop the loops, close every connection, stop listening. Idempotent."""
        fix, self.fix = self.fix, None
        if fix is not None:
            await fix.aclose()
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        if self._state_obj is not None:
            for conn in self._state_obj.hub.connections:
                await conn.close()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # --- public attributes -----------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def fix_port(self) -> int:
        """The FIX acceptor's port (``Simulator(fix=True)``)."""
        if self.fix is None:
            raise RuntimeError("the FIX acceptor is off (Simulator(fix=True))")
        return self.fix.port

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self._port}{API_PREFIX}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self._port}{WS_PATH}"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self._port}/_sim"

    @property
    def credentials(self) -> Credentials | None:
        """The generated demo credential (None when a public key was given)."""
        return self._credentials

    @property
    def key_id(self) -> str:
        return self._key_id or ""

    @property
    def user_id(self) -> str:
        """The default user's id (what ``user_id`` fields carry)."""
        return self._default_user

    @property
    def exchange(self) -> Exchange:
        """The engine, for in-process inspection by tests."""
        return self._state.exchange

    @property
    def state(self) -> SimState:
        return self._state

    def stats(self) -> SimStats:
        """The simulator's counters (frames per sid/type, faults, REST statuses...)."""
        return self._state.stats

    def write_private_key(self, path: str | os.PathLike[str]) -> Path:
        """Write the generated private key as PKCS#8 PEM with mode 0600."""
        if self._credentials is None:
            raise RuntimeError("no generated key: the simulator was given a public key")
        return write_private_key(self._credentials, path)

    # --- users ------------------------------------------------------------------------------

    def add_user(self, *, user_id: str | None = None, key_id: str | None = None,
                 key_type: Literal["rsa", "ed25519"] = "rsa") -> Credentials:
        """Open an account with a fresh key pair; returns its credentials."""
        state = self._state
        uid = state.exchange.add_user(user_id)
        private = _generate_key(key_type)
        entry = state.keys.add(private.public_key(), user_id=uid, key_id=key_id)
        return Credentials(entry.key_id, private)

    def register_key(self, public_key: bytes, *, user_id: str | None = None,
                     key_id: str | None = None) -> KeyEntry:
        """Register a PEM public key (for a new user unless ``user_id`` is given)."""
        state = self._state
        uid = state.exchange.add_user(user_id)
        return state.keys.add(public_key, user_id=uid, key_id=key_id)

    def set_tier(self, tier: Tier) -> None:
        """Change the rate-limit buckets (they restart full)."""
        self._limiter.set_tier(tier)

    def set_rate_limits(self, *, read: int | None = None, write: int | None = None) -> None:
        """Shortcut: per-second budgets (capacity = one second)."""
        t = self._limiter.tier
        self._limiter.set_tier(replace(
            t, read=BucketLimit(read, read) if read is not None else t.read,
            write=BucketLimit(write, write) if write is not None else t.write))

    # --- deterministic drivers for tests ---------------------------------------------------------

    def step_flow(self, actions: int = 1) -> None:
        """Run ``actions`` synthetic-flow actions now (independent of ``rate``)."""
        assert self._flow is not None
        self._state.apply(self._flow.step(self._state.now_ms(), actions=actions))
        self._state.stats.flow_events += actions

    def flush_tickers(self) -> None:
        """Send the pending coalesced ticker frames now."""
        state = self._state
        state.hub.publish_tickers(state.take_dirty_tickers())

    # --- background loops ------------------------------------------------------------------------

    def set_rate(self, rate: float) -> None:
        """Change the synthetic flow rate (actions per second; 0 stops the flow)."""
        if rate < 0:
            raise ValueError("rate must be >= 0")
        self.rate = rate
        self._rate_changed.set()

    async def _flow_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        carry = 0.0
        while True:
            if self.rate <= 0 or not self._flow_gate.is_set():
                self._rate_changed.clear()
                if self.rate <= 0:
                    await self._rate_changed.wait()
                await self._flow_gate.wait()
                last = loop.time()
                continue
            await asyncio.sleep(self._flow_tick)
            now = loop.time()
            # at most one second of backlog after a stalled loop, so the flow never bursts
            carry = min(carry + (now - last) * self.rate, max(self.rate, 1.0))
            last = now
            n = int(carry)
            if n <= 0 or not self._flow_gate.is_set():
                continue
            carry -= n
            try:
                self.step_flow(n)
            except Exception:  # an engine bug must not kill the simulator
                self._state.stats.events["flow_errors"] += 1
                log.exception("synthetic flow step failed")

    async def _ticker_loop(self) -> None:
        state = self._state
        while True:
            await asyncio.sleep(self._ticker_interval)
            try:
                state.apply(state.exchange.advance_to(state.now_ms()))
                self.flush_tickers()
            except Exception:
                state.stats.events["clock_errors"] += 1
                log.exception("clock/ticker step failed")

    # --- WebSocket --------------------------------------------------------------------------------

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        state = self._state
        result = authenticate(state.keys, request.headers, "GET", request.path, state.wall_ms())
        if isinstance(result, AuthFailure):
            state.stats.ws_rejected_handshakes += 1
            return json_response(result.body, result.status)
        ws = web.WebSocketResponse(autoping=True, max_msg_size=64 * 1024 * 1024)
        if not ws.can_prepare(request).ok:
            state.stats.ws_rejected_handshakes += 1
            return json_response({"error": {"code": "bad_request",
                                            "message": "websocket upgrade required"}}, 400)
        await ws.prepare(request)
        session = WsSession(result.user_id, state, market_limit=self._limits.market_limit)
        conn = Connection(state.hub.new_id(), result.key_id, session,
                          ws, request, limits=self._limits, faults=state.faults,
                          stats=state.stats)
        state.hub.add(conn)
        state.stats.ws_connections += 1
        try:
            await conn.run()
        finally:
            state.hub.remove(conn)
            with contextlib.suppress(Exception):
                await ws.close()
        return ws


def write_private_key(credentials: Credentials, path: str | os.PathLike[str]) -> Path:
    """Write ``credentials``' private key (PKCS#8 PEM, unencrypted) with mode 0600."""
    p = Path(path)
    pem = credentials.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(p, 0o600)
    return p
