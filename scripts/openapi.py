"""Write the API's OpenAPI document to tests/app/openapi.json, the copy tests/app/test_openapi.py holds the app to.

Run it after a deliberate change to a route or a response model, and commit the file with the change:
    .venv/bin/python scripts/openapi.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "app" / "openapi.json"


def render() -> str:
    from app.main import create_app

    return json.dumps(create_app().openapi(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    SNAPSHOT.write_text(render(), encoding="utf-8")
    print(f"wrote {SNAPSHOT.relative_to(ROOT)}")
