"""A fresh embedded Shopdesk for a benchmark: its own SQLite data folder, no Redis, the shared model cache."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_embedded(prefix: str, **settings: str) -> Path:
    """Point the settings at a new data folder (set before the app is imported); returns the folder."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    # Converted weights are reused from make's cache: converting the GGUF again costs ~45 s.
    os.environ.setdefault("SHOPDESK_MODELS_DIR", str(ROOT / "data" / "models"))
    os.environ.update(SHOPDESK_DATA_DIR=str(data_dir), SHOPDESK_DATABASE_URL="", SHOPDESK_REDIS_URL="", **settings)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return data_dir
