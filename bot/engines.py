"""Answer engines: one small interface and a registry.

An answer engine turns a question and the retrieved chunks into a ``Reply``:
text with ``[n]`` markers plus the claims (source number, quote) behind them.
What comes after is the same for every engine (``bot.engine``): each claim
is verified against its chunk (``bot.citations``) and the markers renumbered.

A new engine is a new module: subclass ``AnswerEngine``, then either add it
to ``BUILTIN`` or call ``register("name", "package.module:Class")`` before
asking.  ``BOT_ENGINE`` / ``--engine`` choose among ``names()``.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from bot.errors import BotError

if TYPE_CHECKING:  # kept light: the CLI reads ``names()`` before anything heavy loads
    from langchain_core.documents import Document

    from bot.citations import Claim
    from bot.conversation import History
    from bot.extractive import ExtractiveAnswerer
    from bot.settings import Settings

# name -> "module:Class", imported on first use (the openai engine's client stays unloaded otherwise)
BUILTIN: dict[str, str] = {
    "extractive": "bot.extractive:ExtractiveEngine",
    "openai": "bot.llm:OpenAIEngine",
}
_registry: dict[str, str] = dict(BUILTIN)


@dataclass
class Reply:
    """What an engine answered, before verification.

    ``engine`` names the engine whose text this is (an engine may fall back
    to another); ``notice`` is a short note shown above the answer;
    ``dropped`` counts citations the engine already removed.
    """

    text: str = ""
    claims: list[Claim] = field(default_factory=list)
    refused: bool = False
    reason: str = ""
    related: bool = False  # refused, but the claims quote related material ("资料未提及…；资料中相关的内容是：…[1]")
    engine: str = ""
    notice: str | None = None
    dropped: int = 0
    confidence: float | None = None  # the answerability model's estimate (extractive engine), None where not estimated


class Tools(Protocol):
    """What an engine may use from the ``bot.engine.Engine`` that runs it (shared between threads)."""

    settings: Settings

    def answerer(self) -> ExtractiveAnswerer: ...

    def chat_model(self) -> Any: ...


class AnswerEngine(ABC):
    """One question's answer engine; a new instance per question, so it may keep per-question state."""

    name: ClassVar[str]
    #: whether ``answer`` yields draft text while it works (else the final text is streamed after verification)
    drafts: ClassVar[bool] = False

    def __init__(self, tools: Tools) -> None:
        self.tools = tools

    def condense(self, question: str, history: History, *, carried: str) -> str:
        """The standalone question for a follow-up; ``carried`` is the rule-based rewrite."""
        return carried

    @abstractmethod
    def answer(self, question: str, chunks: list[Document], *, lang: str) -> Iterator[str | Reply]:
        """Draft text pieces (only if ``drafts``), then exactly one ``Reply``, last."""


def register(name: str, target: str) -> None:
    """Make the engine class at ``"module:Class"`` available as ``name``."""
    _registry[name] = target


def names() -> list[str]:
    """Engine names ``BOT_ENGINE`` and ``--engine`` accept."""
    return sorted(_registry)


def engine_class(name: str) -> type[AnswerEngine]:
    """The engine registered as ``name``; a ``BotError`` naming the choices when there is none."""
    target = _registry.get(name)
    if target is None:
        raise BotError(f"unknown answer engine '{name}' — use one of: {', '.join(names())} (BOT_ENGINE or --engine)")
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, AnswerEngine)):
        raise BotError(f"answer engine '{name}' ({target}) is not an AnswerEngine subclass")
    return cls


def reply_from(engine: AnswerEngine, question: str, chunks: list[Document], *, lang: str) -> Reply:
    """Run an engine to its ``Reply``, ignoring draft text."""
    reply = None
    for item in engine.answer(question, chunks, lang=lang):
        if isinstance(item, Reply):
            reply = item
    if reply is None:
        raise BotError(f"answer engine '{engine.name}' gave no reply")
    return reply
