"""Offline Chinese policy-document Q&A with verified citations.

Data flows one way: files → documents (``loaders``) → chunks (``chunking``) →
ingest plan (``ingest``) → index (``index`` + ``keyword``) → retriever
(``retriever``) → answer chain (``engine``, with an answer engine from
``engines``) → verified answer (``citations``). ``bot.engine.Engine`` is the
public entry point.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Answer", "BotError", "Citation", "Engine", "Settings"]

_EXPORTS = {
    "Answer": "bot.answer",
    "Citation": "bot.answer",
    "BotError": "bot.errors",
    "Engine": "bot.engine",
    "Settings": "bot.settings",
}


def __getattr__(name: str) -> Any:
    # Lazy so that ``import bot.text`` does not pull in Chroma and LangChain.
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
