"""Structure of laws, regulations, judicial interpretations and policy documents.

A statute is organised as 编 › 章 › 节 › 第N条 (› 款 › （一）项); a policy
document as 一、 › （一） › 1.  For such documents the retrieval unit is the
article (or the numbered policy item): one chunk per article, a long article
cut at its 款 (line breaks), every piece labelled with its article and its
path, e.g. ``总则 › 第二章 自然人 › 第四节 个体工商户和农村承包经营户 › 第五十四条``.

Hand-written because no library parses Chinese legal numbering while keeping
character offsets (citations quote exact slices of the document text).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.chunking import Span, chunk_spans

if TYPE_CHECKING:
    from langchain_core.documents import Document

    from bot.citations import Claim

PATH_SEP = " › "
STATUTE_TYPES = frozenset({"law", "regulation", "judicial-interpretation", "rule", "rules", "statute", "constitution"})
# Without a declared type, this many lines starting with 第N条 make a document a statute:
# a news article that quotes one or two articles stays news.
MIN_ARTICLES = 5

_NUM = "零〇一二三四五六七八九十百千两\\d"
ARTICLE = re.compile(rf"^[ \t　]*(第[{_NUM}]+条(?:之[一二三四五六七八九十]+)?)(?=[\s　]|$)", re.M)
_MD_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_PLAIN_HEADING = re.compile(rf"^[ \t　]*(第[{_NUM}]+(编|分编|章|节))[ \t　]*(\S.{{0,40}})?$", re.M)
_PLAIN_LEVEL = {"编": 1, "分编": 2, "章": 3, "节": 4}
_MD_LEVEL = {1: 1, 2: 3, 3: 4}  # "# 总则" is a 编, "## 第一章" a 章, "### 第一节" a 节
_POLICY_ITEM = [
    re.compile(r"^[ \t　]*([一二三四五六七八九十]+、)"),
    re.compile(r"^[ \t　]*([（(][一二三四五六七八九十]+[）)])"),
    re.compile(r"^[ \t　]*(\d{1,2}[.．、](?!\d))"),
]
_SENTENCE_END = re.compile(r"[。！？；!?;]")
_POLICY_TOP = re.compile(_POLICY_ITEM[0].pattern, re.M)
_INFO_END = "<!-- INFO END -->"


@dataclass(frozen=True)
class Unit:
    """A chunk of a structured document: its span, article label ("" outside articles) and path."""

    span: Span
    article: str
    path: str


def kind_of(text: str, metadata: Mapping[str, object]) -> str:
    """``"statute"``, ``"policy"`` or ``""`` (news and plain text: chunked as prose)."""
    declared = str(metadata.get("type") or "").strip().lower()
    if declared == "news":
        return ""
    if declared in STATUTE_TYPES and ARTICLE.search(text):
        return "statute"
    if declared not in STATUTE_TYPES and len(ARTICLE.findall(text)) >= MIN_ARTICLES:
        return "statute"
    # a policy, or a law without articles (an amendment numbered 一、二、 …)
    if declared in (*STATUTE_TYPES, "policy") and len(_POLICY_TOP.findall(text)) >= 2:
        return "policy"
    return ""


def cited_title(text: str, metadata: Mapping[str, object]) -> str:
    """The name a citation uses: the document's first ``# heading`` (the Civil Code's parts all
    read 中华人民共和国民法典), else its title."""
    first = _MD_HEADING.search(text)
    if first and len(first.group(1)) == 1:
        return first.group(2).strip()
    return str(metadata.get("title") or "").strip()


def structure_units(text: str, *, kind: str, title: str, size: int) -> list[Unit]:
    """Units of a structured document, in order, disjoint, covering its non-space text."""
    lines = _lines(text)
    units: list[Unit] = []
    stack: list[tuple[float, str]] = []  # (level, heading) of the enclosing 编/章/节 or policy items
    pending: int | None = None  # start of heading lines waiting for the unit below them
    cur: tuple[int, str, str] | None = None  # (start, article, path) of the open unit
    body_start = _body_start(text)

    def close(end: int) -> None:
        nonlocal cur
        if cur is not None:
            start, article, path = cur
            while end > start and text[end - 1].isspace():
                end -= 1
            units.extend(_pieces(text, Span(start, end), article=article, path=path, size=size))
            cur = None

    for start, end in lines:
        line = text[start:end]
        heading = _heading(line, title=title) if kind == "statute" else _policy_item(line, title=title)
        if start < body_start:  # the enactment history; a Civil Code part's "# 总则" sits above it
            if heading is not None:
                stack.append(heading)
            continue
        article = ARTICLE.match(line) if kind == "statute" else None
        if heading is not None:
            close(start)
            level, name = heading
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, name))
            # a heading (a statute's 章, a policy's bare "一、降低经营成本") waits for the text below it
            if kind == "statute" or not _SENTENCE_END.search(line):
                pending = start if pending is None else pending
                continue
            cur = (start if pending is None else pending, "", PATH_SEP.join(n for _, n in stack))
            pending = None
            continue
        if article is not None:
            close(start)
            label = article.group(1).strip()
            cur = (start if pending is None else pending, label, PATH_SEP.join([*(n for _, n in stack), label]))
            pending = None
            continue
        if cur is None:
            cur = (start if pending is None else pending, "", PATH_SEP.join(n for _, n in stack))
            pending = None
    if pending is not None and cur is None:  # trailing headings with nothing below them
        cur = (pending, "", PATH_SEP.join(n for _, n in stack))
    close(len(text))
    head = [Unit(s, "", "") for s in chunk_spans(text[:body_start], size=size)] if body_start else []
    return [*head, *units]


def context_line(metadata: Mapping[str, object]) -> str:
    """What the embedder and the keyword index read before a chunk's text: title, then path."""
    title = str(metadata.get("title") or "")
    path = str(metadata.get("article_path") or "")
    if path:
        return " ".join(x for x in (str(metadata.get("cited_title") or title), path) if x)
    return " ".join(x for x in (title, str(metadata.get("heading") or "")) if x)


def is_article(chunk: Document) -> bool:
    """Whether ``chunk`` is a law article (or a piece of one): it carries a ``第N条`` number."""
    return bool(chunk.metadata.get("article"))


def article_name(metadata: Mapping[str, object]) -> str:
    """``《中华人民共和国民法典》第五十四条`` for an article chunk, ``""`` otherwise."""
    article = str(metadata.get("article") or "")
    title = str(metadata.get("cited_title") or metadata.get("title") or "")
    return f"《{title}》{article}" if article and title else ""


def _lines(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each non-blank line, whitespace-trimmed."""
    out = []
    for match in re.finditer(r"[^\n]+", text):
        s, e = match.start(), match.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def _body_start(text: str) -> int:
    """Where the articles begin: after the enactment history (``<!-- INFO END -->``) when marked."""
    at = text.find(_INFO_END)
    return at + len(_INFO_END) if at >= 0 else 0


def _heading(line: str, *, title: str) -> tuple[float, str] | None:
    md = _MD_HEADING.match(line)
    if md:
        name = re.sub(r"\s+", " ", md.group(2)).strip()
        if name == title:
            return None
        plain = _PLAIN_HEADING.match(name)
        if plain:
            return float(_PLAIN_LEVEL[plain.group(2)]), _heading_name(plain)
        return float(_MD_LEVEL.get(len(md.group(1)), len(md.group(1)) + 1)), name
    plain = _PLAIN_HEADING.match(line)
    if plain and not ARTICLE.match(line):
        return float(_PLAIN_LEVEL[plain.group(2)]), _heading_name(plain)
    return None


def _heading_name(match: re.Match[str]) -> str:
    """``第一章 通则`` from ``第一章  通 则`` (headings are letter-spaced for layout)."""
    rest = "".join((match.group(3) or "").split())
    return f"{match.group(1)} {rest}" if rest else match.group(1)


def _policy_item(line: str, *, title: str) -> tuple[float, str] | None:
    md = _MD_HEADING.match(line)
    if md:
        if md.group(2).strip() == title:
            return None
        return float(len(md.group(1)) - 4), md.group(2).strip()  # Markdown headings sit above numbered items
    for level, pattern in enumerate(_POLICY_ITEM, start=1):
        match = pattern.match(line)
        if match:
            label = re.split(r"[。；;：:，,]", line, maxsplit=1)[0].strip()
            return float(level), label if len(label) <= 24 else match.group(1)
    return None


def _pieces(text: str, span: Span, *, article: str, path: str, size: int) -> list[Unit]:
    """One unit, or for a long one its 款 (lines) packed up to ``size``; prose inside falls back to sentences."""
    if span.end - span.start <= 2 * size:
        return [Unit(span, article, path)]
    spans: list[Span] = []
    for s, e in _lines(text[span.start : span.end]):
        para = Span(span.start + s, span.start + e)
        if spans and para.end - spans[-1].start <= size:
            spans[-1] = Span(spans[-1].start, para.end)
        elif para.end - para.start > 2 * size:
            spans.extend(Span(para.start + p.start, para.start + p.end)
                         for p in chunk_spans(text[para.start : para.end], size=size))
        else:
            spans.append(para)
    return [Unit(s, article, path) for s in spans]


def name_article(answer: str, claims: Sequence[Claim], chunks: Sequence[Document], *, lang: str = "zh") -> str:
    """Lead an answer quoting an article with the article's name: 根据《…》第N条，….

    The name comes from the chunk the first claim quotes, so it is always the
    article the quote was verified against.
    """
    if not claims or not 1 <= claims[0].n <= len(chunks):
        return answer
    name = article_name(chunks[claims[0].n - 1].metadata)
    if not name or name in answer:
        return answer
    return f"根据{name}，{answer}" if lang == "zh" else f"Under {name}: {answer}"
