"""All settings, read from the environment and `.env` (see `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_FEEDS = (
    "https://feeds.bbci.co.uk/news/world/rss.xml",
    "https://www.theguardian.com/world/rss",
    "https://rss.nytimes.com/services/xml/rss/nyt/World.xml",
    "https://feeds.npr.org/1004/rss.xml",
    "https://www.aljazeera.com/xml/rss/all.xml",
)

IdList = Annotated[list[int], NoDecode]


class Settings(BaseSettings):
    """One place for configuration; build it once in `main()` and pass it down."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(Path("data"), validation_alias="NEWSBOT_DATA_DIR")
    embedding_model: str = Field("all-MiniLM-L6-v2", validation_alias="EMBEDDING_MODEL")
    # onnx: questions run on an ONNX export of the model (made once, kept in the data dir);
    # torch: on sentence-transformers, as passages always do
    question_backend: Literal["onnx", "torch"] = Field("onnx", validation_alias="QUESTION_BACKEND")

    # postgresql://...: subscriptions, the feed list and the questions behind "More" buttons
    # live there, shared by several `newsbot serve` workers; unset: SQLite files in DATA_DIR
    database_url: SecretStr | None = Field(None, validation_alias="DATABASE_URL")
    # several `newsbot serve` workers: each has its own name (its inbox of updates in hand) and
    # sends at 1/BOT_WORKERS of Telegram's overall limit, so together they stay within it
    worker_name: str = Field("", pattern=r"^[A-Za-z0-9_-]*$", validation_alias="WORKER_NAME")
    bot_workers: int = Field(1, ge=1, le=64, validation_alias="BOT_WORKERS")
    # where chunk vectors and BM25 live: FAISS files + SQLite FTS5 in DATA_DIR (embedded), or
    # Milvus (MILVUS_URI: a file path opens milvus-lite, http://host:19530 a server)
    vector_backend: Literal["faiss", "milvus"] = Field("faiss", validation_alias="VECTOR_BACKEND")
    milvus_uri: str | None = Field(None, validation_alias="MILVUS_URI")
    # a serving process picks up what another process ingested this often (0: only on /reload)
    index_refresh_seconds: float = Field(5, ge=0, validation_alias="INDEX_REFRESH_SECONDS")

    telegram_bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_base_url: str = Field(
        "https://api.telegram.org/bot", validation_alias="TELEGRAM_BASE_URL"
    )
    allowed_chat_ids: IdList = Field(default_factory=list, validation_alias="ALLOWED_CHAT_IDS")
    admin_user_ids: IdList = Field(default_factory=list, validation_alias="ADMIN_USER_IDS")

    webhook_url: str | None = Field(None, validation_alias="WEBHOOK_URL")
    webhook_listen: str = Field("0.0.0.0", validation_alias="WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, validation_alias="WEBHOOK_PORT")
    webhook_secret: SecretStr | None = Field(None, validation_alias="WEBHOOK_SECRET")

    answer_articles: int = Field(3, ge=1, le=10, validation_alias="ANSWER_ARTICLES")
    # per user: questions a minute (0: no limit) and how many may come at once; admins exempt
    user_questions_per_minute: float = Field(20, ge=0, validation_alias="USER_QUESTIONS_PER_MINUTE")
    user_question_burst: int = Field(8, ge=1, validation_alias="USER_QUESTION_BURST")

    digest_max_items: int = Field(8, ge=1, le=30, validation_alias="DIGEST_MAX_ITEMS")
    digest_grace_minutes: int = Field(120, ge=0, validation_alias="DIGEST_GRACE_MINUTES")
    digest_send_empty: bool = Field(True, validation_alias="DIGEST_SEND_EMPTY")
    digest_tick_seconds: float = Field(30, gt=0, validation_alias="DIGEST_TICK_SECONDS")

    feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_FEEDS), validation_alias="NEWSBOT_FEEDS"
    )
    feed_poll_minutes: float = Field(15, gt=0, validation_alias="FEED_POLL_MINUTES")
    # off: feeds are fetched only on /pollnow or `newsbot feeds poll` (the console chat's
    # default, so an offline terminal is not interrupted by failing fetches)
    feed_polling: bool = Field(True, validation_alias="FEED_POLLING")

    @field_validator("allowed_chat_ids", "admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("feeds", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]
        return value
