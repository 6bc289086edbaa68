"""Kalshi's official OpenAPI/AsyncAPI files as jsonschema validators.

OpenAPI 3.0 is not quite JSON Schema: ``nullable: true`` becomes a ``null`` alternative
here. ``$ref``s stay local (``#/components/...``) and resolve against the whole document,
which is used as the root schema with a ``$ref`` to the wanted component.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

SPEC_DIR = (Path(__file__).resolve().parents[2] / ".." / "shared" / "spec" / "official"
            / "2026-09")
"""The September 2026 copy (DIFF.md there); it supersedes the August files, which hold
no schema the newer copy lacks, so those are no longer run."""
OPENAPI = SPEC_DIR / "perps_openapi.yaml"
ASYNCAPI = SPEC_DIR / "perps_asyncapi.yaml"


def require_spec() -> None:
    if not (OPENAPI.is_file() and ASYNCAPI.is_file()):
        pytest.skip(f"official spec not found at {SPEC_DIR.resolve()} (conformance needs "
                    "../shared/spec/official/2026-09 next to the repository)")


def _convert(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable`` -> JSON Schema; everything else unchanged."""
    if isinstance(node, list):
        return [_convert(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _convert(v) for k, v in node.items()}
    if out.pop("nullable", False):
        if isinstance(out.get("type"), str) and "$ref" not in out and "allOf" not in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


class Spec:
    """One spec document; ``validate(pointer, instance)`` checks against a component."""

    def __init__(self, path: Path) -> None:
        self.doc: dict[str, Any] = _convert(yaml.safe_load(path.read_text()))

    def validator(self, ref: str) -> jsonschema.Draft202012Validator:
        root = {**self.doc, "$ref": ref}
        return jsonschema.Draft202012Validator(root)

    def errors(self, ref: str, instance: Any) -> list[str]:
        return [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
                for e in self.validator(ref).iter_errors(instance)]


class OpenApi(Spec):
    def __init__(self) -> None:
        super().__init__(OPENAPI)
        self._routes: list[tuple[re.Pattern[str], str]] = []
        for template in self.doc["paths"]:
            pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
            self._routes.append((re.compile(f"^{pattern}$"), template))

    def template(self, path: str) -> str | None:
        """The spec's path template for a concrete path (from ``/trade-api/v2``)."""
        matches = [t for rx, t in self._routes if rx.match(path)]
        # Prefer the most literal template (``/margin/orders/x/amend`` over ``{id}`` ones).
        return min(matches, key=lambda t: t.count("{")) if matches else None

    def response_ref(self, template: str, method: str, status: int) -> str | None:
        """JSON pointer of the body schema of one documented response, or None if the
        response is documented without a body. Raises KeyError if undocumented."""
        op = self.doc["paths"][template][method.lower()]
        resp = op["responses"][str(status)]
        if "$ref" in resp:
            resp = self.resolve(resp["$ref"])
        content = resp.get("content", {}).get("application/json")
        if content is None:
            return None
        schema = content["schema"]
        if "$ref" in schema:
            return str(schema["$ref"])
        # an inline schema: point at it
        return (f"#/paths/{_escape(template)}/{method.lower()}/responses/{status}"
                "/content/application~1json/schema")

    def resolve(self, ref: str) -> Any:
        node: Any = self.doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node


def _escape(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


# Frame type -> AsyncAPI payload schema.
FRAME_SCHEMAS = {
    "subscribed": "subscribedResponsePayload",
    "unsubscribed": "unsubscribedResponsePayload",
    "ok": "okResponsePayload",
    "ok_list": "listSubscriptionsResponsePayload",
    "error": "errorResponsePayload",
    "orderbook_snapshot": "marginOrderbookSnapshotPayload",
    "orderbook_delta": "marginOrderbookDeltaPayload",
    "ticker": "marginTickerPayload",
    "trade": "marginTradePayload",
    "fill": "marginFillPayload",
    "user_order": "marginUserOrderPayload",
    "order_group_updates": "orderGroupUpdatesPayload",
}


def frame_kind(frame: dict[str, Any]) -> str:
    kind = str(frame["type"])
    if kind == "ok" and isinstance(frame.get("msg"), list):
        return "ok_list"
    return kind
