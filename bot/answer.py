"""The product's own result types: ``Answer`` and ``Citation``.

A refusal ("no basis in the corpus") is an ordinary ``Answer`` with
``refused=True`` and no citations.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

# A citation marker in answer text: ``[n]`` with n the shown source number.
# The one definition; verification, feedback, evaluation and the UI use it.
MARKER = re.compile(r"\[(\d{1,3})\]")


def strip_markers(text: str) -> str:
    """``text`` without its ``[n]`` citation markers."""
    return MARKER.sub("", text)


class Citation(BaseModel):
    """A verified quote: ``quote`` occurs verbatim in ``text`` (the whole chunk)."""

    n: int
    doc_id: str
    title: str
    chunk_id: str
    quote: str
    text: str
    start: int = Field(description="Offset of the quote in the document text.")
    end: int
    score: float
    source: str = ""
    published: str = ""
    path: str = Field(default="", description="Where an article sits: 第一编 总则 › 第二章 自然人 › 第五十四条.")
    article: str = Field(default="", description="The article cited, as 《title》第N条 (empty outside statutes).")

    def label(self) -> str:
        """``《中华人民共和国民法典》第五十四条`` for an article, else the title."""
        return self.article or self.title


class Retrieved(BaseModel):
    """A chunk the retriever returned."""

    chunk_id: str
    doc_id: str
    text: str
    score: float
    article: str = Field(default="", description="The article this chunk holds, as 《title》第N条.")


class Answer(BaseModel):
    """A verified answer (or a refusal)."""

    question: str
    standalone_question: str
    answer: str
    refused: bool
    engine: str
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[Retrieved] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    dropped_citations: int = Field(default=0, description="Citations that failed verification and were removed.")
    notice: str | None = Field(default=None, description="A short note to the user, e.g. a fallback.")
    refusal_reason: str = Field(default="", description="Why the engine refused (empty when it answered).")
    confidence: float | None = Field(
        default=None, description="The answerability model's estimate that the quoted sentence answers the question "
                                  "(the extractive engine; null where no estimate was made, e.g. nothing retrieved).")

    def render(self) -> str:
        """Plain-text answer followed by the numbered source list."""
        lines = [self.answer]
        if self.notice:
            lines.insert(0, f"({self.notice})")
        if self.citations:
            lines.append("")
            for c in self.citations:
                meta = " — ".join(x for x in (c.label(), ", ".join(y for y in (c.source, c.published) if y)) if x)
                lines.append(f"[{c.n}] {meta} · \"…{c.quote}…\"")
        return "\n".join(lines)
