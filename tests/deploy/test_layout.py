"""What packaging relies on in the source tree."""

from __future__ import annotations

from tests.deploy.compose import ROOT

NOT_CODE = {"templates", "__pycache__"}  # Jinja templates: package data of `app`


def test_every_domain_folder_of_app_is_a_package():
    """A folder without __init__.py is a namespace package: any folder of its name on sys.path joins it."""
    folders = [p for p in (ROOT / "app").iterdir() if p.is_dir() and p.name not in NOT_CODE]
    assert folders and [p.name for p in folders if not (p / "__init__.py").is_file()] == []
