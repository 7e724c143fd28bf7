"""The `openai` backend: an OpenAI-compatible chat-completions client (vLLM in production)."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx

from app.llm.base import BaseChatModel, ChatMessage, LLMUnavailable

if TYPE_CHECKING:
    from app.models import ModelVersion

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 4.0


class LLMRefused(LLMUnavailable):
    """The server answered, with a 4xx that retrying won't change."""


class Breaker:
    """A circuit breaker: after `failures` failed requests in a row, refuse at once for `cooldown_s`.

    While the server is down or too slow, each turn would otherwise wait out every timeout and retry
    before it is held; with the breaker open, turns are held at once. After the cool-down one request
    probes the server (the others are still refused); its success closes the breaker.
    """

    def __init__(self, failures: int, cooldown_s: float) -> None:
        self.failures, self.cooldown_s = failures, cooldown_s
        self._lock = threading.Lock()
        self._failed = 0
        self._open_until = 0.0
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._failed < self.failures:
                return "closed"
            return "open" if time.monotonic() < self._open_until or self._probing else "half-open"

    def allow(self) -> bool:
        with self._lock:
            if self._failed < self.failures:
                return True
            if time.monotonic() < self._open_until or self._probing:
                return False
            self._probing = True  # this request is the probe
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._failed, self._probing = 0, False

    def failed(self) -> None:
        with self._lock:
            self._failed += 1
            self._probing = False
            if self._failed >= self.failures:
                self._open_until = time.monotonic() + self.cooldown_s

    def retry_in(self) -> float:
        with self._lock:
            return max(0.0, self._open_until - time.monotonic())


class OpenAIChatModel(BaseChatModel):
    """Chat completions over HTTP, with a timeout, capped-backoff retries, a circuit breaker and one
    request per sample."""

    breaker: Breaker

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        timeout_s: float = 60.0,
        retries: int = 2,
        breaker_failures: int = 3,
        breaker_cooldown_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
        self._transport = transport
        self._client = self._connect(base_url)
        self._retries = retries
        self.breaker = Breaker(breaker_failures, breaker_cooldown_s)
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = model or base_url
        self.multimodal = True  # images and audio go to the server as content parts

    def _connect(self, base_url: str) -> httpx.Client:
        return httpx.Client(
            base_url=base_url.rstrip("/"), headers=self._headers, timeout=self._timeout, transport=self._transport
        )

    def retarget(self, base_url: str, model: str) -> None:
        """Send the next requests to another server (the blue/green swap); requests under way finish there."""
        if base_url.rstrip("/") == self.base_url and model == self.model:
            return
        self._client = self._connect(base_url)  # the old client is left to requests still using it
        self.base_url, self.model, self.name = base_url.rstrip("/"), model, model or base_url
        log.info("LLM traffic now goes to %s (%s)", self.base_url, model)

    def follow(self, version: ModelVersion | None) -> None:
        """Send the next requests to the active version's server when a blue/green deployment moved
        traffic there (training/deploy.py); a local version leaves the server as it is."""
        if version is None or version.backend != "openai":
            return
        endpoint = (version.lineage or {}).get("endpoint")
        if endpoint:
            self.retarget(endpoint, version.path)

    def close(self) -> None:
        self._client.close()

    def health(self) -> bool:
        """Whether the server is up: its /health (vLLM, transformers serve) or, failing that, /v1/models."""
        root = str(self._client.base_url).rstrip("/").removesuffix("/v1")
        for url in (f"{root}/health", "/models"):
            try:
                if self._client.get(url, timeout=5).status_code == 200:
                    return True
            except httpx.HTTPError:
                continue
        return False

    def generate(
        self, messages: list[ChatMessage], *, n: int = 1, max_tokens: int = 128, temperature: float = 0.7
    ) -> list[str]:
        # One request per sample: not every server honours `n` (vLLM does; others return one choice).
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature if n > 1 else 0.0,
            "stream": False,
        }
        return [self._complete(payload) for _ in range(n)]

    def _complete(self, payload: dict[str, Any]) -> str:
        if not self.breaker.allow():
            raise LLMUnavailable(
                f"LLM server failing; skipped for {self.breaker.retry_in():.0f} s more (circuit breaker open)"
            )
        try:
            text = self._post_with_retries(payload)
        except LLMRefused:
            self.breaker.succeeded()  # the server is up and answered; the request was what it refused
            raise
        except LLMUnavailable:
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return text

    def _post_with_retries(self, payload: dict[str, Any]) -> str:
        last_error = "no attempt made"
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(min(MAX_BACKOFF_S, 0.5 * 2 ** (attempt - 1)))
            try:
                response = self._client.post("/chat/completions", json=payload)
            except httpx.TimeoutException:
                last_error = "timed out"
                continue
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUSES:
                last_error = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise LLMRefused(f"LLM server refused the request: HTTP {response.status_code} {response.text[:300]}")
            return _first_choice_text(response)
        log.warning("LLM server %s failed after %d attempts: %s", self._client.base_url, self._retries + 1, last_error)
        raise LLMUnavailable(f"LLM server unavailable: {last_error}")


def _first_choice_text(response: httpx.Response) -> str:
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise LLMUnavailable(f"LLM server sent an unexpected body: {response.text[:300]}") from None
    return (content or "").strip()
