"""Documents → chunks that end at paragraph or sentence boundaries.

Hand-written because LangChain's splitters lose character offsets on overlap
and split inside 《titles》 and numbers.  Each chunk is an exact slice of its
document's text (``text[start:end]``), chunks are in order, do not overlap,
and together cover every non-space character.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from langchain_core.documents import Document

from bot.text import sentence_spans

# A new article/chapter/section, a Markdown heading or a (一)-style item starts a
# new chunk, so one chunk never mixes the tail of 第三条 with the head of 第四条.
_STRUCTURE = re.compile(
    r"^\s*(#{1,6}\s|第[一二三四五六七八九十百零〇\d]+[章节条款部分编]|[（(][一二三四五六七八九十]+[）)]"
    r"|[一二三四五六七八九十]+、)"
)
_PARA = re.compile(r"\n\s*\n")
# Bump when chunk boundaries or the text given to the embedder change: indexed
# documents are then re-chunked and re-embedded on the next ingest.
LAYOUT_VERSION = 3  # 3: statutes and policy documents chunked by article (bot.structure)


@dataclass(frozen=True)
class Span:
    """A ``[start, end)`` slice of a document's text."""

    start: int
    end: int


def paragraphs(text: str) -> list[Span]:
    """Paragraph spans (blank-line separated, whitespace trimmed)."""
    spans = []
    pos = 0
    for match in [*_PARA.finditer(text), None]:
        stop = match.start() if match else len(text)
        s, e = pos, stop
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append(Span(s, e))
        pos = match.end() if match else len(text)
    return spans


def chunk_spans(text: str, *, size: int = 300) -> list[Span]:
    """Group sentences into chunks of about ``size`` characters.

    Paragraphs are packed together while they fit; a paragraph longer than
    ``size`` is cut at sentence ends; a single sentence longer than ``2*size``
    is cut at a comma or, failing that, hard at the limit.  Headings and
    policy structure markers always start a new chunk but stay attached to the
    text below them.
    """
    units: list[tuple[Span, bool]] = []  # (span, starts a structure unit)
    for para in paragraphs(text):
        head = bool(_STRUCTURE.match(text[para.start : para.end]))
        for i, (s, e) in enumerate(sentence_spans(text, para.start, para.end)):
            for piece in _split_long(text, Span(s, e), 2 * size):
                units.append((piece, head and i == 0))
    chunks: list[Span] = []
    cur: Span | None = None
    cur_is_heading = False
    for span, is_head in units:
        heading_line = is_head and text[span.start] == "#"
        # a heading waits for the text below it, but a run of bare headings
        # (a table of contents) must not grow into one unbounded chunk
        too_long = cur is not None and span.end - cur.start > size
        if cur is not None and (
            (is_head and not cur_is_heading) or (too_long and (not cur_is_heading or heading_line))
        ):
            chunks.append(cur)
            cur = None
        cur = span if cur is None else Span(cur.start, span.end)
        cur_is_heading = heading_line
    if cur is not None:
        chunks.append(cur)
    return chunks


def _split_long(text: str, span: Span, limit: int) -> list[Span]:
    if span.end - span.start <= limit:
        return [span]
    pieces = []
    s = span.start
    while span.end - s > limit:
        window = text[s : s + limit]
        cut = max(window.rfind(c) for c in "，,、：:")
        e = s + (cut + 1 if cut > limit // 3 else limit)
        pieces.append(Span(s, e))
        s = e
    pieces.append(Span(s, span.end))
    return pieces


def chunk_id(doc_id: str, text: str, seq: int = 0, *, prefix: str = "") -> str:
    """Stable id: document id + content hash (+ a counter for repeated text); ``prefix``: the chunk's part."""
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    return f"{doc_id}#{prefix + '-' if prefix else ''}{digest}" + (f"-{seq}" if seq else "")


_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


def heading_for(text: str, offset: int) -> str:
    """The nearest Markdown heading at or above ``offset`` (context for the embedder)."""
    title = ""
    for match in _HEADING.finditer(text):
        if match.start() > offset:
            break
        title = match.group(1)
    return title


CREDITS = "credits"  # ``part`` of a chunk holding a byline or photo caption (indexed after the body)
CREDIT_HEADINGS = {"byline": "署名", "captions": "图片说明"}  # the sections of the credit text after a body


def is_credit(chunk_id: str) -> bool:
    """Whether a chunk id is a credit chunk's (its id says so, so searches can skip it without its metadata)."""
    return chunk_id.rpartition("#")[2].startswith(CREDITS + "-")


def credit_spans(text: str, start: int) -> list[Span]:
    """One chunk per line of the credit section from ``start``; a heading stays with the line below it."""
    spans: list[Span] = []
    head: int | None = None
    for para in paragraphs(text[start:]):
        span = Span(start + para.start, start + para.end)
        if text[span.start] == "#":
            head = span.start if head is None else head
            continue
        spans.append(Span(span.start if head is None else head, span.end))
        head = None
    return spans


def split_document(doc: Document, *, size: int = 300) -> list[Document]:
    """Chunks of one document, each carrying the document's metadata and offsets."""
    from bot import structure  # imports this module's span helpers

    whole = doc.page_content
    body_end = int(doc.metadata.get("body_end") or len(whole))
    text = whole[:body_end]
    kind = structure.kind_of(text, doc.metadata)
    if kind:
        title = structure.cited_title(text, doc.metadata)
        units = structure.structure_units(text, kind=kind, title=title, size=size)
        spans = [u.span for u in units]
    else:
        spans = chunk_spans(text, size=size)
    credits = credit_spans(whole, body_end) if body_end < len(whole) else []
    parts = [""] * len(spans) + [CREDITS] * len(credits)
    spans = spans + credits
    seen: dict[str, int] = {}
    chunks = []
    for n, (span, part) in enumerate(zip(spans, parts, strict=True)):
        body = whole[span.start : span.end]
        cid = chunk_id(doc.metadata["doc_id"], body, prefix=part)
        seen[cid] = seen.get(cid, -1) + 1
        if seen[cid]:
            cid = chunk_id(doc.metadata["doc_id"], body, seen[cid], prefix=part)
        meta = dict(doc.metadata)
        meta.update(chunk_id=cid, start=span.start, end=span.end, heading=heading_for(whole, span.start),
                    doc_chunks=len(spans))
        if part:
            meta["part"] = part
        elif kind:  # the article and where it sits: cited, embedded and keyword-indexed with the text
            meta.update(cited_title=title, article_path=units[n].path, article=units[n].article)
        chunks.append(Document(page_content=body, metadata=meta, id=cid))
    return chunks
