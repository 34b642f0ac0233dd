"""Citation verification: a quote is shown only if it occurs verbatim in its chunk.

Comparison is after NFKC/width/whitespace normalisation (``bot.text``); the
shown quote is the chunk's own text for that span, and ``start``/``end`` are
its offsets in the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.documents import Document

from bot.answer import Citation
from bot.structure import article_name
from bot.text import find_span

MARKER = re.compile(r"\[(\d{1,3})\]")


@dataclass
class Claim:
    """A span of answer text with the source number and quote it claims."""

    n: int
    quote: str


def verify(claims: list[Claim], chunks: list[Document]) -> tuple[list[Citation], dict[int, int], int]:
    """Check each claim against the chunk it names.

    Returns the verified citations (renumbered 1.. in order of first use), a map
    from the claim's source number to the shown number, and how many failed.
    """
    citations: list[Citation] = []
    renumber: dict[int, int] = {}
    dropped = 0
    for claim in claims:
        cit = make_citation(claim, chunks, n=len(citations) + 1)
        if cit is None:
            dropped += 1
            continue
        if claim.n in renumber:
            continue
        renumber[claim.n] = cit.n
        citations.append(cit)
    return citations, renumber, dropped


def make_citation(claim: Claim, chunks: list[Document], *, n: int) -> Citation | None:
    """A ``Citation`` if source ``claim.n`` exists and contains the quote."""
    if not 1 <= claim.n <= len(chunks):
        return None
    chunk = chunks[claim.n - 1]
    span = find_span(claim.quote, chunk.page_content)
    if span is None:
        return None
    meta = chunk.metadata
    base = int(meta.get("start", 0))
    return Citation(
        n=n,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("title") or meta.get("doc_id", "")),
        chunk_id=str(meta.get("chunk_id", chunk.id or "")),
        quote=chunk.page_content[span[0] : span[1]],
        text=chunk.page_content,
        start=base + span[0],
        end=base + span[1],
        score=float(meta.get("score") or 0.0),
        source=str(meta.get("source", "")),
        published=str(meta.get("published", "")),
        path=str(meta.get("article_path", "")),
        article=article_name(meta),
    )


def renumber_markers(text: str, renumber: dict[int, int]) -> str:
    """Rewrite ``[n]`` markers to the shown numbers; drop markers that failed."""

    def sub(match: re.Match[str]) -> str:
        new = renumber.get(int(match.group(1)))
        return f"[{new}]" if new else ""

    return MARKER.sub(sub, text)
