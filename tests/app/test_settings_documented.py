"""Every setting is in .env.example and in docs/configuration.md's table; no working secret ships."""

from __future__ import annotations

import re

from app.config import Settings
from tests.conftest import ROOT


def test_every_setting_is_documented():
    env = (ROOT / ".env.example").read_text()
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        key = f"SHOPDESK_{name.upper()}"
        assert re.search(rf"^#? ?{key}=", env, re.M), f"{key} is missing from .env.example"
        assert re.search(rf"^\|.*`{key}`", configuration, re.M), (
            f"{key} is missing from the settings tables in docs/configuration.md"
        )


def test_the_example_ships_no_working_secret():
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    for key in ("SHOPDESK_WIDGET_SECRET", "SHOPDESK_SECRET_KEY", "POSTGRES_PASSWORD"):
        assert values[key] == "", f"{key} has a value in .env.example"
    assert values["SHOPDESK_ENV"] == "production"  # which refuses empty or default secrets at start
