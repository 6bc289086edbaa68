"""Every operation of the 2026-09 OpenAPI has a RestClient method and, if it writes, a
retry kind (a copy of the spec's operation list is in tests/data/rest)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from kalshi_margin_stream.rest import RestClient
from kalshi_margin_stream.rest.operations import OPERATIONS
from kalshi_margin_stream.rest.retry import WRITE_OPS

SPEC_OPS = json.loads((Path(__file__).parent.parent / "data" / "rest"
                       / "openapi_2026-09_operations.json").read_text())["operations"]
NEW_WRITES = {op for method, path, op in SPEC_OPS
              if method != "GET" and ("exit_trigger" in path or "/fcm/" in path)}


def test_the_copied_operation_list_is_whole() -> None:
    assert len(SPEC_OPS) == 50 and len({op for _, _, op in SPEC_OPS}) == 50


@pytest.mark.parametrize("operation_id", sorted(op for _, _, op in SPEC_OPS))
def test_every_operation_has_a_client_method(operation_id: str) -> None:
    assert operation_id in OPERATIONS, f"no RestClient method for {operation_id}"
    method = getattr(RestClient, OPERATIONS[operation_id], None)
    assert method is not None and inspect.iscoroutinefunction(method), OPERATIONS[operation_id]


def test_no_stale_operation_names() -> None:
    assert set(OPERATIONS) == {op for _, _, op in SPEC_OPS}


def test_every_new_write_has_a_retry_kind() -> None:
    assert len(NEW_WRITES) == 11
    assert NEW_WRITES == set(WRITE_OPS)
