"""The OpenAPI document is the API's contract: it lists every route's response shape, and it changes only on
purpose (the checked-in copy is regenerated with the change that makes it differ)."""

from __future__ import annotations

import json
from typing import Any

from app.main import create_app
from tests.conftest import ROOT

SNAPSHOT = ROOT / "tests" / "app" / "openapi.json"
REGENERATE = "if the change is deliberate, run `.venv/bin/python scripts/openapi.py` and commit tests/app/openapi.json"


def _changed(current: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    """The paths and schemas that differ, by name."""
    changed = []
    for section, now, then in (
        ("paths", current.get("paths", {}), saved.get("paths", {})),
        ("schemas", current.get("components", {}).get("schemas", {}), saved.get("components", {}).get("schemas", {})),
    ):
        changed += [f"{section}: {name}" for name in sorted(set(now) | set(then)) if now.get(name) != then.get(name)]
    return changed or ["info or another top-level key"]


def test_the_openapi_document_matches_the_checked_in_copy():
    current = create_app().openapi()
    saved = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == saved, f"the API's OpenAPI document changed ({'; '.join(_changed(current, saved))}); {REGENERATE}"


def test_every_route_documents_its_response():
    """A JSON answer names its model (a $ref), so a route returning a bare dict can't slip in undocumented;
    streams, files and 204s say what they send instead."""
    undocumented = []
    for path, operations in create_app().openapi()["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                content = response.get("content") or {}
                json_schema = content.get("application/json", {}).get("schema")
                if not content or (json_schema is not None and "$ref" not in json.dumps(json_schema)):
                    undocumented.append(f"{method.upper()} {path} {status}")
    assert undocumented == []
