"""What the pages share: settings, the one engine, per-reader state.

One ``Engine`` per settings is kept with ``st.cache_resource`` (it is
thread-safe and loading the embedder takes seconds); everything that belongs
to one reader — the conversation, the interface language, the staff login —
lives in ``st.session_state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

from bot.answer import Answer
from bot.feedback import FeedbackStore
from bot.settings import Settings
from ui.i18n import LANGUAGES, progress_label, text

if TYPE_CHECKING:
    from bot.engine import Engine


@dataclass
class Turn:
    """One question in the conversation, its verified answer and the reader's feedback."""

    question: str
    answer: Answer
    feedback_id: int | None = None
    rating: str | None = None
    comment_saved: bool = False


@dataclass
class Conversation:
    """The reader's chat, kept in ``st.session_state``."""

    turns: list[Turn] = field(default_factory=list)

    def history(self) -> list[tuple[str, str]]:
        """(role, text) pairs for the engine; the standalone question keeps follow-ups resolvable."""
        pairs: list[tuple[str, str]] = []
        for turn in self.turns:
            pairs += [("user", turn.answer.standalone_question or turn.question), ("assistant", turn.answer.answer)]
        return pairs


def settings() -> Settings:
    """Settings from the environment, read on every run so a restart is never needed to see them."""
    return Settings()


def _key(cfg: Settings) -> str:
    # never the secrets: the key is kept by Streamlit's cache; the engine reads the API key from the settings
    return cfg.model_dump_json(exclude={"openai_api_key", "admin_password"})


@st.cache_resource(show_spinner=False)
def _engine_for(key: str) -> Engine:
    # Imported here: LangChain and Chroma take seconds to import, and the page is drawn before they are needed.
    from bot.engine import Engine

    return Engine(Settings.model_validate_json(key).model_copy(update={"openai_api_key": settings().openai_api_key}))


def engine(cfg: Settings | None = None) -> Engine:
    """The process-wide engine for these settings."""
    return _engine_for(_key(cfg or settings()))


@st.cache_resource(show_spinner=False)
def _index_checked(key: str) -> dict[str, bool]:
    # A mutable flag shared by all sessions: the first one builds the index, the others skip the check.
    return {"ready": False}


def index_ready(cfg: Settings) -> bool:
    """True once this process has made sure the index exists."""
    return _index_checked(_key(cfg))["ready"]


def mark_index_ready(cfg: Settings) -> None:
    _index_checked(_key(cfg))["ready"] = True


@st.cache_data(ttl=60, show_spinner=False)
def _documents(key: str) -> list[dict]:
    return _engine_for(key).documents()


def documents(cfg: Settings | None = None) -> list[dict]:
    """Indexed documents (cached for a minute; ``forget_documents`` after a change)."""
    return _documents(_key(cfg or settings()))


def forget_documents() -> None:
    _documents.clear()


def feedback_store(cfg: Settings | None = None) -> FeedbackStore:
    return FeedbackStore((cfg or settings()).feedback_path)


def conversation() -> Conversation:
    """This reader's conversation (created on first use)."""
    if "conversation" not in st.session_state:
        st.session_state["conversation"] = Conversation()
    return st.session_state["conversation"]


def new_conversation() -> None:
    st.session_state["conversation"] = Conversation()


def lang() -> str:
    """The interface language: ``zh`` unless the reader switched."""
    choice = st.session_state.get("lang", "zh")
    return choice if choice in LANGUAGES else "zh"


def t(key: str, **values: Any) -> str:
    """An interface string in the reader's language."""
    return text(key, lang(), **values)


class StreamlitProgress:
    """A tqdm-like bar (``update``/``close``) drawn with ``st.progress``; the engine's ``progress`` factory."""

    def __init__(self, *, total: int = 0, desc: str = "", unit: str = "", **_: Any) -> None:
        self.total, self.desc, self.n = max(int(total or 0), 1), progress_label(desc, lang()), 0
        self.bar = st.progress(0.0, text=self._label())

    def _label(self) -> str:
        return f"{self.desc} {self.n}/{self.total}".strip()

    def update(self, n: int = 1) -> None:
        self.n = min(self.total, self.n + int(n))
        self.bar.progress(self.n / self.total, text=self._label())

    def close(self) -> None:
        self.bar.empty()
