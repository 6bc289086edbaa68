"""Client integration tests run once per transport."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["aiohttp", "websockets", "picows"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)
