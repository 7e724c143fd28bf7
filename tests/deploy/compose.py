"""docker-compose.yml and the Dockerfile, read as the deployment tests need them: a service's command and
healthcheck as the container would run them, and the files the image's wheel stage copies. The tests take
these from the two files, never from copies of their own, so a wrong command fails a test."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# Compose's interpolation: `$$` is a literal `$`; ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
# ${VAR?error} and $VAR take the value from the environment (or .env) that compose runs with.
_VARIABLE = re.compile(
    r"\$(?:(?P<dollar>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<named>[A-Za-z_]\w*))"
)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """The text as compose hands it to the container; raises ValueError for a required variable left unset."""

    def value(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        name, op, arg = match["braced"] or match["named"], match["op"] or "", match["arg"] or ""
        given = env.get(name)
        missing = given is None or (op.startswith(":") and given == "")
        if missing and op.endswith("?"):
            raise ValueError(f"{name} is required: {arg}")
        if missing and op.endswith("-"):
            return arg
        return given or ""

    return _VARIABLE.sub(value, text)


def services() -> dict[str, Any]:
    """Every service, with `<<: *app` merged in (YAML merge keys)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded["services"]


def command(service: str, env: Mapping[str, str]) -> list[str]:
    """The service's command, interpolated: the argv the container starts with (the exec form)."""
    given = services()[service]["command"]
    assert isinstance(given, list), f"{service}: the exec form (a list) keeps the test's argv exact"
    return [interpolate(word, env) for word in given]


def healthcheck(service: str, env: Mapping[str, str]) -> list[str]:
    """The service's healthcheck test as an argv: CMD runs as it is, CMD-SHELL through `sh -c`."""
    kind, *rest = [interpolate(word, env) for word in services()[service]["healthcheck"]["test"]]
    return rest if kind == "CMD" else ["sh", "-c", rest[0]]


def container_port(service: str) -> int:
    """The port the service listens on inside its container (the right side of its `ports` mapping)."""
    return int(str(services()[service]["ports"][0]).rsplit(":", 1)[1])


def copy_wheel_context(target: Path) -> list[str]:
    """Copy what the Dockerfile's first stage (the wheel's) COPYs into target, as `docker build` would;
    returns the copied sources. Bytecode is left out, as .dockerignore does."""
    stage = re.split(r"^FROM ", DOCKERFILE.read_text(encoding="utf-8"), flags=re.MULTILINE)[1]
    copied = []
    for line in stage.splitlines():
        words = line.split()
        if words[:1] != ["COPY"]:
            continue
        *sources, dest = [word for word in words[1:] if not word.startswith("--")]
        for source in sources:
            path = ROOT / source
            if path.is_dir():
                shutil.copytree(path, target / dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                into = target / dest / path.name if dest.endswith("/") or len(sources) > 1 else target / dest
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, into)
            copied.append(source)
    return copied
