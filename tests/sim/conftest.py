"""Fixtures for simulator tests: a running simulator and raw protocol clients.

The clients use only the official protocol (aiohttp for REST, ``websockets`` for the
socket) plus our signer, like any third-party client would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from kalshi_margin_stream.sim import Simulator
from kalshi_margin_stream.sim.testing import Rest, Ws, open_ws, running_simulator

MARKETS = ["KXBTCPERP", "KXETHPERP"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(markets=MARKETS) as s:
        yield s


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def rest(http: aiohttp.ClientSession, sim: Simulator) -> Rest:
    return Rest(http, sim, sim.credentials)


@pytest.fixture
async def ws(sim: Simulator) -> AsyncIterator[Ws]:
    client = await open_ws(sim)
    try:
        yield client
    finally:
        await client.conn.close()
