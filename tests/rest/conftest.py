"""Fixtures of the REST tests: a key pair and a client wired to a scripted network."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from kalshi_margin_stream.core.auth import Credentials
from kalshi_margin_stream.rest import RateLimits, RestClient, RetryPolicy
from kalshi_margin_stream.rest.testing import ScriptedSend

FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.005)

MakeClient = Callable[..., RestClient]


@pytest.fixture(scope="session")
def credentials() -> Credentials:
    return Credentials("test-key-id", ed25519.Ed25519PrivateKey.generate())


@pytest.fixture
def make_client(credentials: Credentials) -> MakeClient:
    """``make_client(script, **options)``: a client whose network is ``script``."""

    def make(script: ScriptedSend, **kw: object) -> RestClient:
        counter = itertools.count(1_781_000_000_000)
        options: dict[str, object] = dict(
            base_url="http://sim.invalid/trade-api/v2", send=script, retry=FAST_RETRY,
            rate_limits=RateLimits(enabled=False), time_ms=lambda: next(counter))
        options.update(kw)
        return RestClient(credentials, **options)  # type: ignore[arg-type]

    return make
