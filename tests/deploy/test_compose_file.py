"""docker-compose.yml checked by a real implementation of the compose format: Debian's docker-compose
(`config` parses, interpolates and validates against its compose schema without a Docker daemon), every
profile included, with the .env an operator makes from .env.example."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.deploy import compose

PROFILES = ("gpu", "green", "embedded")
SECRETS = {"POSTGRES_PASSWORD": "0123456789abcdef0123456789abcdef", "GREEN_MODEL": "runs/run-7/awq"}


def _project(folder: Path, filled: dict[str, str]) -> Path:
    """The compose file beside a .env from .env.example (`cp .env.example .env`, secrets filled in)."""
    shutil.copy(compose.COMPOSE_FILE, folder / "docker-compose.yml")
    lines = []
    for line in (compose.ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={filled[name]}" if name in filled else line)
    (folder / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _config(folder: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is needed (scripts/test-deps.sh installs Debian's)"
    profiles = [word for name in PROFILES for word in ("--profile", name)]
    # Only the project's .env speaks: none of this machine's variables of the same names.
    env = {key: value for key, value in os.environ.items() if key not in _dotenv(folder)}
    return subprocess.run(
        [binary, *profiles, "config"], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )


def _dotenv(folder: Path) -> dict[str, str]:
    lines = (folder / ".env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_the_compose_file_is_valid_with_every_profile(tmp_path: Path):
    result = _config(_project(tmp_path, SECRETS))
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    assert {name: tuple(service.get("profiles", ())) for name, service in resolved.items()} == {
        "api": (), "worker": (), "beat": (), "postgres": (), "redis": (),
        "trainer": ("gpu",), "vllm-blue": ("gpu",), "vllm-green": ("green",), "embedded": ("embedded",),
    }  # fmt: skip
    for name, service in resolved.items():
        if "command" in service:  # the deployment tests read commands as compose itself resolves them
            given = compose.command(name, _dotenv(tmp_path))
            assert given == [word.replace("$$", "$") for word in service["command"]], name
    assert resolved["vllm-green"]["command"][0] == f"/models/{SECRETS['GREEN_MODEL']}"


def test_the_example_env_is_refused_until_its_password_is_set(tmp_path: Path):
    result = _config(_project(tmp_path, {}))  # .env.example as shipped: POSTGRES_PASSWORD is empty
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD" in result.stderr
