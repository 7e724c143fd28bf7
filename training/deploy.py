"""Blue/green deployment of a model version on an OpenAI-compatible server (vLLM), with checks first.

vLLM can't hot-load a LoRA adapter for Qwen3-Omni, so a new version is a new server: start the idle slot
on the new (merged, AWQ) weights, check it here, and only then move traffic. Every api process follows
the active version from its next turn (app.llm.registry.sync_active); the old slot keeps serving the
turns under way and stays up for a roll-back until it is stopped.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import ModelVersion
from training import registry

SMOKE_QUESTION = [{"role": "user", "content": "Reply with the single word OK."}]


class DeployError(RuntimeError):
    """The new server failed a check; traffic was not moved."""


def check_endpoint(endpoint: str, model: str, timeout_s: float = 60.0) -> dict[str, Any]:
    """The server is healthy and answers a chat completion with the model; raises DeployError otherwise."""
    base = endpoint.rstrip("/")
    root = base.removesuffix("/v1")
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout_s, connect=5.0)) as client:
            health = client.get(f"{root}/health")
            if health.status_code != 200:
                raise DeployError(f"{root}/health answered HTTP {health.status_code}")
            started = utcnow()
            reply = client.post(
                f"{base}/chat/completions",
                json={"model": model, "messages": SMOKE_QUESTION, "max_tokens": 8, "temperature": 0.0},
            )
    except httpx.HTTPError as exc:
        raise DeployError(f"{base} can't be reached: {type(exc).__name__}: {exc}") from None
    if reply.status_code != 200:
        raise DeployError(
            f"{base} refused a chat completion for {model!r}: HTTP {reply.status_code} {reply.text[:200]}"
        )
    try:
        text = reply.json()["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError):
        raise DeployError(f"{base} sent an unexpected body: {reply.text[:200]}") from None
    if not text.strip():
        raise DeployError(f"{base} answered the check with an empty reply")
    return {
        "endpoint": base,
        "model": model,
        "reply": text.strip()[:80],
        "seconds": (utcnow() - started).total_seconds(),
    }


def deploy(
    session: Session, *, endpoint: str, model: str, name: str, lineage: dict[str, Any] | None = None
) -> ModelVersion:
    """Check the server, then register (or reuse) the version for it and make it the active one."""
    checked = check_endpoint(endpoint, model)
    version = session.scalar(select(ModelVersion).where(ModelVersion.name == name))
    if version is None:
        version = registry.register(
            session,
            name=name,
            backend="openai",
            base=(lineage or {}).get("base", model),
            path=model,
            metrics={},
            lineage={**(lineage or {}), "endpoint": checked["endpoint"]},
        )
    elif version.backend != "openai":
        raise DeployError(f"version {name} is a {version.backend} version, not a served one")
    else:
        version.lineage = {**(version.lineage or {}), "endpoint": checked["endpoint"]}
        version.path = model
    registry.activate(session, version)
    return version


def check_version(version: ModelVersion) -> None:
    """Before activating (or rolling back to) a served version: its server must be up and answering."""
    endpoint = (version.lineage or {}).get("endpoint")
    if version.backend == "openai":
        if not endpoint:
            raise DeployError(f"version {version.name} has no server endpoint")
        check_endpoint(endpoint, version.path)
