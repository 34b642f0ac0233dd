"""One exception family for errors a user can act on.

Every message says what went wrong *and* what to do next; the CLI prints it as
is (exit 1) and the UI shows it with ``st.error``.
"""

from __future__ import annotations

from pathlib import Path


class BotError(Exception):
    """Base class: an error the user can fix."""


class CorpusError(BotError):
    """The corpus folder or a document in it cannot be used."""


class DocumentError(CorpusError):
    """One document could not be loaded; carries the file (and line, for a passage file) and the reason."""

    def __init__(self, path: Path | str, reason: str, *, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}{f':{line}' if line else ''}: {reason}")


class IndexError_(BotError):
    """The Chroma index cannot be reached or used."""


class IndexBusyError(BotError):
    """Another ingest holds the index lock."""


class LLMError(BotError):
    """The OpenAI-compatible endpoint failed or is misconfigured."""


class LLMUnavailable(LLMError):
    """The endpoint gave no answer; ``problem`` names why (a key of ``bot.llm.PROBLEMS``) for the user's notice."""

    def __init__(self, message: str, *, problem: str) -> None:
        super().__init__(message)
        self.problem = problem
